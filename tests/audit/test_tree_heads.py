"""Signed tree heads: signing, checking, the JSON form, and log key rotation in the keyring."""

from __future__ import annotations

import dataclasses

import pytest

from realname.audit.merkle import EMPTY_ROOT
from realname.audit.tree_heads import TreeHead, check, keys_document, parse_keys, public_keys, sign
from realname.errors import BadInputError, IntegrityError
from realname.privacy.keyring import Keyring


def test_a_head_checks_with_its_key_and_survives_json() -> None:
    ring = Keyring.generate()
    head = sign(ring, 5, b"\x01" * 32, 1_700_000_000_000)
    keys = parse_keys(keys_document(public_keys(ring)))
    check(head, keys)
    again = TreeHead.from_dict(head.as_dict())
    assert again == head
    check(again, keys)


@pytest.mark.parametrize("change", [{"size": 6}, {"root": b"\x02" * 32}, {"timestamp": 1}, {"key_id": "other"}])
def test_any_changed_field_breaks_the_signature(change: dict[str, object]) -> None:
    ring = Keyring.generate()
    head = sign(ring, 5, EMPTY_ROOT, 1_700_000_000_000)
    keys = public_keys(ring) | {"other": public_keys(ring)[ring.log_active or ""]}
    with pytest.raises(IntegrityError):
        check(dataclasses.replace(head, **change), keys)  # type: ignore[arg-type]


def test_rotation_keeps_old_heads_checkable_and_another_operators_key_fails() -> None:
    ring = Keyring.generate()
    old = sign(ring, 3, EMPTY_ROOT, 1)
    rotated = ring.rotated_log_key()
    assert rotated.log_active != ring.log_active and set(ring.log_keys) < set(rotated.log_keys)
    new = sign(rotated, 4, EMPTY_ROOT, 2)
    keys = public_keys(Keyring.from_json(rotated.to_json()))  # the file round trip keeps both
    check(old, keys)
    check(new, keys)
    with pytest.raises(IntegrityError) as other:
        check(new, public_keys(Keyring.generate()))
    assert other.value.code == "unknown_log_key"
    assert rotated.rotated().log_keys == rotated.log_keys  # a data key rotation keeps the log keys


def test_an_older_keyring_without_log_keys_loads_and_gets_one_by_rotation() -> None:
    ring = Keyring.generate()
    bare = Keyring(keys=ring.keys, active=ring.active, index_key=ring.index_key)
    loaded = Keyring.from_json(bare.to_json())
    assert loaded.log_active is None and not loaded.log_keys
    assert loaded.rotated_log_key().log_active is not None


@pytest.mark.parametrize("doc", [None, [], {"log": "x"}, {**sign(Keyring.generate(), 1, EMPTY_ROOT, 1).as_dict(),
                                                          "root": "zz"},
                                 {**sign(Keyring.generate(), 1, EMPTY_ROOT, 1).as_dict(), "size": -1}])
def test_malformed_heads_are_bad_input(doc: object) -> None:
    with pytest.raises(BadInputError):
        TreeHead.from_dict(doc)
