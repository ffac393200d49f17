"""Card readers per the operator's setting: with readers required, only a card and portrait exactly as an
enrolled reader signed them open a verification; with readers optional, unsigned data is recorded as unattested.
Passports record whether their chip was checked (passive authentication) or only the MRZ was read."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from tests.documents.builders import td3
from tests.documents.chips import CountrySigner, dg1
from tests.registry_support import portrait_bytes, prc_card, seeded

from realname.context import Actor, Services
from realname.documents import attestation
from realname.errors import AttestationError, BadInputError
from realname.operators import admin, readers
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import verifications
from realname.registry.tables import Verification

KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"test reader").digest())
PUBLIC = base64.b64encode(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _login(svc: Services, username: str) -> Actor:
    token, _, _ = login(svc, username, DEMO_PASSWORD)
    return authenticate(svc, token)


def _signed(card: dict[str, Any], portrait: bytes, svc: Services) -> dict[str, Any]:
    return attestation.sign(KEY, card, portrait, reader_id="R-01", at=svc.now())


def _open(svc: Services, agent: Actor, card: dict[str, Any], portrait: bytes) -> Verification:
    return verifications.open_verification(svc, agent, card, portrait, consent=True).verification


def _verifications(svc: Services) -> int:
    with svc.db.read() as s:
        return int(s.execute(select(func.count()).select_from(Verification)).scalar_one())


@pytest.fixture
def world(db_url: str) -> tuple[Services, Actor]:
    svc, _ = seeded(db_url)
    admin1 = _login(svc, "admin1")
    readers.enrol_reader(svc, admin1, "R-01", "counter reader", PUBLIC)
    admin.update_operator_settings(svc, admin1, {"card_readers": "required"})
    return svc, _login(svc, "agent1")


def test_what_the_reader_signed_opens_a_verification(world: tuple[Services, Actor]) -> None:
    svc, agent = world
    portrait = portrait_bytes()
    v = _open(svc, agent, _signed(prc_card(), portrait, svc), portrait)
    assert v.reader_attestation == "attested" and v.card_reader_id is not None and v.chip_check is None


def test_a_pair_changed_after_signing_is_refused_and_changes_nothing(world: tuple[Services, Actor]) -> None:
    svc, agent = world
    portrait = portrait_bytes()
    signed = _signed(prc_card(), portrait, svc)
    cases = {
        "reader_signature_invalid": ({**signed, "name": "李四"}, portrait),  # another name
        "reader_portrait_mismatch": (signed, portrait + b"\x00"),  # another portrait
        "reader_unsigned": (prc_card(), portrait),  # readers are required
    }
    for code, (card, image) in cases.items():
        with pytest.raises(AttestationError) as err:
            _open(svc, agent, card, image)
        assert err.value.code == code
    assert _verifications(svc) == 0


def test_a_revoked_or_unknown_reader_is_refused(world: tuple[Services, Actor]) -> None:
    svc, agent = world
    portrait = portrait_bytes()
    other = attestation.sign(Ed25519PrivateKey.generate(), prc_card(), portrait, reader_id="R-99", at=svc.now())
    with pytest.raises(AttestationError) as err:
        _open(svc, agent, other, portrait)
    assert err.value.code == "reader_unknown"
    admin1 = _login(svc, "admin1")
    [reader] = readers.list_readers(svc, admin1)
    readers.revoke_reader(svc, admin1, reader.id, "lost")
    with pytest.raises(AttestationError) as err:
        _open(svc, agent, _signed(prc_card(), portrait, svc), portrait)
    assert err.value.code == "reader_revoked"


def test_a_reader_is_enrolled_under_one_spelling_of_its_id(world: tuple[Services, Actor]) -> None:
    svc, _ = world
    admin1 = _login(svc, "admin1")
    for lookalike in ("R-01 ", "Ｒ-01", "R\u200b-01"):
        with pytest.raises(BadInputError) as err:
            readers.enrol_reader(svc, admin1, lookalike, "second", PUBLIC)
        assert err.value.code == "bad_reader_id"
    assert [r.reader_id for r in readers.list_readers(svc, admin1)] == ["R-01"]


def test_optional_readers_record_unsigned_data_as_unattested(world: tuple[Services, Actor]) -> None:
    svc, agent = world
    admin.update_operator_settings(svc, _login(svc, "admin1"), {"card_readers": "optional"})
    portrait = portrait_bytes()
    assert _open(svc, agent, prc_card(), portrait).reader_attestation == "unattested"
    with pytest.raises(AttestationError):  # a signature that is there must still hold
        _open(svc, agent, {**_signed(prc_card(serial=7), portrait, svc), "name": "李四"}, portrait)
    admin.update_operator_settings(svc, _login(svc, "admin1"), {"card_readers": "off"})
    assert _open(svc, agent, prc_card(serial=8), portrait).reader_attestation == "not_checked"


MRZ = td3(expiry="300101")  # two lines, check digits right; the chip's DG1 holds them without the break


def passport() -> dict[str, Any]:
    return {"doc_type": "passport", "name": "张三", "sex": "M", "birth_date": "1990-03-07", "number": "E12345678",
            "expiry_date": "2030-01-01", "nationality": "CHN", "mrz": MRZ}


def test_a_passport_chip_is_checked_against_the_trust_list(db_url: str, tmp_path: Path) -> None:
    state = CountrySigner.new()
    trust = tmp_path / "csca.pem"
    trust.write_bytes(state.cert.public_bytes(Encoding.PEM))
    svc, _ = seeded(db_url, csca_trust_list=trust)
    agent = _login(svc, "agent1")
    portrait = portrait_bytes()
    groups = {1: dg1(MRZ.replace("\n", "")), 2: b"\x75\x82 face data group " + portrait}
    chip = {"sod": base64.b64encode(state.sod(groups)).decode(), "dg1": base64.b64encode(groups[1]).decode(),
            "dg2": base64.b64encode(groups[2]).decode()}
    v = _open(svc, agent, {**passport(), "chip": chip}, portrait)
    assert v.chip_check == "passive_auth"
    with pytest.raises(AttestationError) as err:  # the chip's face is not the portrait sent
        _open(svc, agent, {**passport(), "chip": chip}, portrait_bytes() + b"x")
    assert err.value.code == "chip_portrait_mismatch"
    assert _open(svc, agent, passport(), portrait).chip_check == "mrz_only"
    assert datetime.now(UTC) < state.ds_cert.not_valid_after_utc
