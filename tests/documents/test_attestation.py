"""A reader's signature holds for exactly what it read, and for nothing changed after."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from realname.documents import attestation
from realname.errors import AttestationError, BadInputError

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
AGE = timedelta(minutes=10)
KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"reader R-01").digest())
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
CARD = {"doc_type": "prc_id", "name": "张三", "number": "11010519491231002X", "address": None}
PORTRAIT = b"\xff\xd8 a chip portrait"


def signed(card: dict[str, str | None] = CARD, portrait: bytes = PORTRAIT) -> dict[str, object]:
    return attestation.sign(KEY, card, portrait, reader_id="R-01", at=NOW - timedelta(minutes=1))


def test_what_the_reader_signed_verifies() -> None:
    statement = attestation.verify(PUBLIC, signed(), PORTRAIT, now=NOW, max_age=AGE)
    assert statement.reader_id == "R-01"
    assert statement.portrait_sha256 == hashlib.sha256(PORTRAIT).hexdigest()


@given(field=st.sampled_from(sorted(CARD)), value=st.text(min_size=1, max_size=20))
def test_any_card_field_changed_after_signing_is_refused(field: str, value: str) -> None:
    sent = signed()
    if sent[field] == value:
        return
    with pytest.raises(AttestationError) as err:
        attestation.verify(PUBLIC, {**sent, field: value}, PORTRAIT, now=NOW, max_age=AGE)
    assert err.value.code == "reader_signature_invalid"


@given(other=st.binary(min_size=1, max_size=64))
def test_another_portrait_is_refused(other: bytes) -> None:
    if other == PORTRAIT:
        return
    with pytest.raises(AttestationError) as err:
        attestation.verify(PUBLIC, signed(), other, now=NOW, max_age=AGE)
    assert err.value.code == "reader_portrait_mismatch"


def test_another_portrait_with_its_hash_rewritten_is_refused() -> None:
    sent = signed()
    other = b"an accomplice's face"
    forged = {**sent, "attestation": {**sent["attestation"],  # type: ignore[dict-item]
                                      "portrait_sha256": hashlib.sha256(other).hexdigest()}}
    with pytest.raises(AttestationError) as err:
        attestation.verify(PUBLIC, forged, other, now=NOW, max_age=AGE)
    assert err.value.code == "reader_signature_invalid"


def test_an_added_field_the_reader_did_not_read_is_refused() -> None:
    with pytest.raises(AttestationError):
        attestation.verify(PUBLIC, {**signed(), "nationality": "CHN"}, PORTRAIT, now=NOW, max_age=AGE)


def test_another_readers_key_or_id_is_refused() -> None:
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with pytest.raises(AttestationError):
        attestation.verify(other, signed(), PORTRAIT, now=NOW, max_age=AGE)
    sent = signed()
    renamed = {**sent, "attestation": {**sent["attestation"], "reader_id": "R-02"}}  # type: ignore[dict-item]
    with pytest.raises(AttestationError):
        attestation.verify(PUBLIC, renamed, PORTRAIT, now=NOW, max_age=AGE)


def test_an_old_or_future_statement_is_refused() -> None:
    with pytest.raises(AttestationError) as err:
        attestation.verify(PUBLIC, signed(), PORTRAIT, now=NOW + AGE + timedelta(minutes=2), max_age=AGE)
    assert err.value.code == "reader_statement_stale"
    with pytest.raises(AttestationError):
        attestation.verify(PUBLIC, signed(), PORTRAIT, now=NOW - timedelta(minutes=5), max_age=AGE)


def test_unsigned_and_malformed_statements_say_so() -> None:
    with pytest.raises(AttestationError) as err:
        attestation.verify(PUBLIC, CARD, PORTRAIT, now=NOW, max_age=AGE)
    assert err.value.code == "reader_unsigned"
    for bad in ({"v": 1}, "text", {"v": 2, "reader_id": "R-01", "signed_at": "x", "portrait_sha256": "",
                                    "signature": ""}):
        with pytest.raises(BadInputError):
            attestation.verify(PUBLIC, {**CARD, "attestation": bad}, PORTRAIT, now=NOW, max_age=AGE)
    with pytest.raises(BadInputError):
        attestation.sign(KEY, {**CARD, "number": 110105}, PORTRAIT, reader_id="R-01", at=NOW)


@pytest.mark.parametrize("reader_id", ["Ｒ-01", "R-01 ", " R-01", "R\u200b-01", "", "R" * 65, "读卡器1"])
def test_a_reader_id_has_one_spelling(reader_id: str) -> None:
    sent = signed()
    lookalike = {**sent, "attestation": {**sent["attestation"], "reader_id": reader_id}}  # type: ignore[dict-item]
    with pytest.raises(BadInputError) as err:
        attestation.verify(PUBLIC, lookalike, PORTRAIT, now=NOW, max_age=AGE)
    assert err.value.code == "bad_reader_id"
    with pytest.raises(BadInputError):
        attestation.sign(KEY, CARD, PORTRAIT, reader_id=reader_id, at=NOW)
