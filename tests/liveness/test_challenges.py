"""Signed, expiring, single-use challenges."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realname.errors import ChallengeError
from realname.liveness.challenges import (
    TURNS,
    Action,
    ChallengeSigner,
    MemoryNonceStore,
    parse_actions,
    random_actions,
)

KEY = b"k" * 32


@pytest.mark.parametrize("count", [2, 3, 4])
def test_random_actions_have_a_turn_and_a_blink(count: int) -> None:
    for seed in range(50):
        acts = random_actions(count, random.Random(seed))  # type: ignore[arg-type]
        assert len(acts) == count == len(set(acts))
        assert Action.BLINK in acts and any(a in TURNS for a in acts)


def test_order_is_random() -> None:
    orders = {random_actions(3, random.Random(s)) for s in range(40)}  # type: ignore[arg-type]
    assert len(orders) > 5


def test_count_out_of_range() -> None:
    with pytest.raises(ValueError):
        random_actions(5)


def test_round_trip_and_single_use() -> None:
    signer = ChallengeSigner(KEY)
    token = signer.issue(count=3, now=1000.0)
    ch = signer.read(token, now=1005.0)
    assert len(ch.actions) == 3 and ch.expires_at == 1020.0
    assert signer.redeem(token, now=1005.0) == ch
    with pytest.raises(ChallengeError) as exc:
        signer.redeem(token, now=1006.0)
    assert exc.value.code == "challenge_reused"


def test_expired() -> None:
    signer = ChallengeSigner(KEY, ttl_seconds=20)
    token = signer.issue(now=1000.0)
    with pytest.raises(ChallengeError) as exc:
        signer.redeem(token, now=1021.0)
    assert exc.value.code == "challenge_expired"


def test_other_key_is_refused() -> None:
    token = ChallengeSigner(KEY).issue(now=1000.0)
    with pytest.raises(ChallengeError) as exc:
        ChallengeSigner(b"x" * 32).read(token, now=1000.0)
    assert exc.value.code == "challenge_altered"


@settings(max_examples=200)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_any_altered_byte_is_refused(position: int, value: int) -> None:
    signer = ChallengeSigner(KEY)
    token = signer.issue(now=1000.0)
    raw = bytearray(token.encode())
    i = position % len(raw)
    if raw[i] == value:
        return
    raw[i] = value
    try:
        altered = raw.decode()
    except UnicodeDecodeError:
        return
    if altered == token:
        return
    with pytest.raises(ChallengeError):
        ch = signer.read(altered, now=1000.0)
        # Base64 padding bits can change without changing the decoded bytes: then it is the same challenge.
        if ch == signer.read(token, now=1000.0):
            raise ChallengeError("same challenge")


def test_nonce_store_forgets_expired() -> None:
    store = MemoryNonceStore()
    assert store.use("a", expires_at=10.0, now=5.0)
    assert not store.use("a", expires_at=10.0, now=6.0)
    assert store.use("a", expires_at=30.0, now=11.0)  # the first entry had expired, so it was forgotten


def test_parse_actions() -> None:
    assert parse_actions("turn_left, blink;look_up") == [Action.TURN_LEFT, Action.BLINK, Action.LOOK_UP]
    with pytest.raises(ChallengeError, match="unknown action"):
        parse_actions("turn_left,jump")
    with pytest.raises(ChallengeError):
        parse_actions(" , ")


def test_short_key_refused() -> None:
    with pytest.raises(ValueError):
        ChallengeSigner(b"short")
