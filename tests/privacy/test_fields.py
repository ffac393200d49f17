"""Field encryption tokens and blind indexes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realname.errors import IntegrityError
from realname.privacy.fields import FieldCipher, blind_index
from realname.privacy.keyring import Keyring

RING = Keyring.generate("k1")
CIPHER = FieldCipher(RING)
CTX = "person.name"


@given(st.text())
def test_text_round_trip(text: str) -> None:
    token = CIPHER.encrypt(text, context=CTX)
    assert CIPHER.decrypt(token, context=CTX) == text


@given(st.binary())
def test_bytes_round_trip(data: bytes) -> None:
    token = CIPHER.encrypt_bytes(data, context="face_template.template")
    assert CIPHER.decrypt_bytes(token, context="face_template.template") == data


def test_token_format_and_randomised_nonce() -> None:
    a, b = CIPHER.encrypt("张三", context=CTX), CIPHER.encrypt("张三", context=CTX)
    assert a != b
    version, kid, data = a.split(".")
    assert (version, kid) == ("v1", "k1")
    assert "=" not in data and "+" not in data and "/" not in data
    assert CIPHER.key_id_of(a) == "k1"


@given(st.text(max_size=40), st.data())
def test_any_single_character_change_fails(text: str, data: st.DataObject) -> None:
    token = CIPHER.encrypt(text, context=CTX)
    i = data.draw(st.integers(0, len(token) - 1), label="position")
    ch = data.draw(st.characters().filter(lambda c: c != token[i]), label="replacement")
    with pytest.raises(IntegrityError) as info:
        CIPHER.decrypt(token[:i] + ch + token[i + 1 :], context=CTX)
    assert info.value.code == "integrity_failure"


@given(st.binary(max_size=40), st.data())
def test_any_flipped_bit_in_the_sealed_data_fails(plain: bytes, data: st.DataObject) -> None:
    token = CIPHER.encrypt_bytes(plain, context=CTX)
    head, body = token.rsplit(".", 1)
    blob = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    i = data.draw(st.integers(0, len(blob) - 1))
    blob[i] ^= 1 << data.draw(st.integers(0, 7))
    forged = head + "." + base64.urlsafe_b64encode(bytes(blob)).rstrip(b"=").decode()
    with pytest.raises(IntegrityError):
        CIPHER.decrypt_bytes(forged, context=CTX)


@given(st.text(), st.sampled_from(["person.doc_number", "person.name ", "phone.owner"]))
def test_wrong_context_fails(text: str, other: str) -> None:
    token = CIPHER.encrypt(text, context=CTX)
    with pytest.raises(IntegrityError, match="fails authentication"):
        CIPHER.decrypt(token, context=other)


@pytest.mark.parametrize("token", ["", "v1", "v1.k1", "v2.k1.AAAA", "v1..AAAA", "v1.k1.", "v1.k1.AAAA.x", "v1.k1.AAAA"])
def test_malformed_tokens_fail(token: str) -> None:
    with pytest.raises(IntegrityError, match="not a valid encrypted token"):
        CIPHER.decrypt(token, context=CTX)


def test_unknown_key_and_other_keyring_fail() -> None:
    token = CIPHER.encrypt("x", context=CTX)
    with pytest.raises(IntegrityError, match="not in the keyring"):
        CIPHER.decrypt(token.replace("v1.k1.", "v1.k9.", 1), context=CTX)
    with pytest.raises(IntegrityError, match="fails authentication"):
        FieldCipher(Keyring.generate("k1")).decrypt(token, context=CTX)


def test_binary_value_read_as_text_fails() -> None:
    token = CIPHER.encrypt_bytes(b"\xff\xfe", context=CTX)
    with pytest.raises(IntegrityError, match="binary"):
        CIPHER.decrypt(token, context=CTX)


def test_empty_context_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        CIPHER.encrypt("x", context="")


@given(st.lists(st.text(max_size=20), min_size=1, max_size=5))
def test_rotation_keeps_old_tokens_readable(texts: list[str]) -> None:
    old = [CIPHER.encrypt(t, context=CTX) for t in texts]
    rotated = FieldCipher(RING.rotated())
    for text, token in zip(texts, old, strict=True):
        assert rotated.decrypt(token, context=CTX) == text
        assert rotated.needs_rotation(token) and not CIPHER.needs_rotation(token)
        fresh = rotated.encrypt(text, context=CTX)
        assert rotated.key_id_of(fresh) == rotated.keyring.active != "k1"
        assert not rotated.needs_rotation(fresh)


@given(st.text())
def test_blind_index_is_deterministic_hex(value: str) -> None:
    a = blind_index(RING, value, context="person.doc_number")
    assert a == blind_index(RING, value, context="person.doc_number")
    assert len(a) == 64 and int(a, 16) >= 0


FULL_WIDTH = "１１０１０５１９４９１２３１００２Ｘ"


@pytest.mark.parametrize("variant", ["11010519491231002x", " 11010519491231002X ", FULL_WIDTH, "\u3000" + FULL_WIDTH])
def test_blind_index_normalises_case_width_and_spaces(variant: str) -> None:
    expected = blind_index(RING, "11010519491231002X", context="person.doc_number")
    assert blind_index(RING, variant, context="person.doc_number") == expected


@given(st.text(min_size=1))
def test_blind_index_differs_per_context_and_key(value: str) -> None:
    base = blind_index(RING, value, context="person.doc_number")
    assert base != blind_index(RING, value, context="phone.msisdn")
    assert base != blind_index(Keyring.generate(), value, context="person.doc_number")
    assert base == blind_index(RING.rotated(), value, context="person.doc_number")  # index key survives rotation
