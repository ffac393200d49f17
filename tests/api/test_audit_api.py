"""The transparency log over HTTP: inspectors and auditors get tree heads, public keys, a registration's
inclusion proof and consistency proofs, which check offline; agents and operators' staff do not."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.api.test_registry_api import kiosk

from realname.audit.proofs import check_consistency, check_inclusion
from realname.audit.tree_heads import TreeHead, parse_keys


def test_heads_keys_and_proofs_for_inspectors(db_url: str) -> None:
    with kiosk(db_url) as k:
        client: TestClient = k.client
        agent, inspector, admin = k.login("agent1"), k.login("inspector1"), k.login("admin1")
        for who in (agent, admin):
            assert client.get("/v1/audit/head", headers=who).status_code == 403
        assert client.get("/v1/audit/head", headers=inspector).json()["error"]["code"] == "no_tree_head"

        decided = k.verify(agent, k.card())
        reg = client.post("/v1/registrations", headers=agent, json={"verification_id": decided["id"]}).json()
        assert client.get(f"/v1/audit/proof/{reg['id']}", headers=agent).status_code == 403
        keys = parse_keys(client.get("/v1/audit/log-keys", headers=inspector).json())
        r = client.get(f"/v1/audit/proof/{reg['id']}", headers=inspector)
        assert r.status_code == 200, r.text
        proof = r.json()
        assert check_inclusion(proof, keys).ok  # a head was signed on demand to cover the events
        assert {e["event"]["action"] for e in proof["events"]} >= {"capture_started", "decision", "number_assigned"}
        first = TreeHead.from_dict(client.get("/v1/audit/head", headers=inspector).json())

        k.verify(agent, k.card())  # more events, then a proof of the registration against a newer head
        from realname.supervision.transparency import publish_head

        second = publish_head(k.svc)
        r = client.get(f"/v1/audit/consistency?old={first.size}", headers=inspector)
        assert r.status_code == 200, r.text
        assert check_consistency(r.json(), keys, first, second).ok
        assert client.get("/v1/audit/consistency?old=999999", headers=inspector).status_code == 404
        assert client.get("/v1/audit/proof/nope", headers=inspector).status_code == 404
