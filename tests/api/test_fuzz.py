"""Schema-driven fuzzing of the whole API (schemathesis, from the app's own OpenAPI document).

Every operation gets generated requests, valid and invalid, as a user of a role it allows; no answer may be a 5xx,
and every answer must match the documented schema, status codes and content type. Bounded: a fixed number of
examples per operation and a fixed seed, so a run is quick and the same each time (FUZZ_EXAMPLES raises it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.registry_support import seeded
from tests.servers import serve

from realname.api.app import create_app
from realname.config import Settings
from realname.operators.auth import ROLES
from realname.operators.demo import DEMO_PASSWORD, DEMO_USERS
from realname.registry.migrate import upgrade

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# Logging out would end the session every later request uses; the login itself is fuzzed.
SKIP = {("POST", "/v1/auth/logout")}


# The document the operations are drawn from; building an app reads nothing until its first request.
schema = schemathesis.openapi.from_dict(create_app(Settings(engine="fake", database_url="sqlite://")).openapi())


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """`realname serve` over a seeded registry (fake face engine), and a login per role."""
    tmp = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{tmp / 'registry.db'}"
    upgrade(url)
    seeded(url, engine="fake")
    base, proc = serve(url, tmp, tmp / "server.log", REALNAME_ENGINE="fake")
    try:
        found = {}
        for username, role in DEMO_USERS:
            r = httpx.post(base + "/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            found[role] = r.json()["token"]
        assert set(found) == set(ROLES)
        yield base, found
    finally:
        proc.kill()
        proc.wait(10)
        assert "Traceback" not in (tmp / "server.log").read_text(), (tmp / "server.log").read_text()[-3000:]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_server_error_and_no_schema_violation(case: Any, api: tuple[str, dict[str, str]]) -> None:
    base, tokens = api
    if (case.method.upper(), case.path) in SKIP:
        pytest.skip("ends the fuzzing session's login")
    roles = case.operation.definition.raw.get("x-roles") or ["agent"]
    case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {tokens[roles[0]]}"},
                           checks=CHECKS)
