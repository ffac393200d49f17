"""The audit hash chain: what verify() catches, and that it streams."""

from __future__ import annotations

import dataclasses
import json
import weakref
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realname.audit.chain import GENESIS, EventRecord, canonical, event_hash, link, utc_text, verify

json_leaf = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12)
payloads = st.dictionaries(st.text(max_size=8), st.recursive(json_leaf, lambda c: st.lists(c, max_size=3)
                                                           | st.dictionaries(st.text(max_size=5), c, max_size=3),
                                                           max_leaves=6), max_size=4)
events = st.fixed_dictionaries({"at": st.text(min_size=1, max_size=30), "actor": st.text(max_size=10),
                                "action": st.sampled_from(["register", "verify", "cancel", "export"]),
                                "subject": st.text(max_size=10), "payload": payloads})


def build(specs: list[dict[str, Any]]) -> list[EventRecord]:
    chain: list[EventRecord] = []
    for spec in specs:
        chain.append(link(chain[-1] if chain else None, **spec))
    return chain


@given(st.lists(events, max_size=20))
def test_an_untouched_chain_verifies(specs: list[dict[str, Any]]) -> None:
    chain = build(specs)
    report = verify(chain)
    assert report.ok and report.problem is None and report.first_bad_seq is None
    assert report.count == len(chain)
    assert report.last_hash == (chain[-1].hash if chain else GENESIS)
    assert [r.seq for r in chain] == list(range(1, len(chain) + 1))


def test_link_starts_at_genesis_and_chains() -> None:
    first = link(None, at=utc_text(), actor="agent-7", action="register", subject="p1", payload={"n": (1, 2)})
    second = link(first, at=utc_text(), actor="agent-7", action="verify", subject="p1", payload={})
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert first.payload == {"n": [1, 2]}  # stored as a database round trip returns it


def test_canonical_survives_a_json_round_trip() -> None:
    payload = {"b": "张三", "a": {"z": 1, "y": [True, None]}}
    returned = json.loads(json.dumps(payload, indent=4, ensure_ascii=True))  # as JSONB/SQLite may respell it
    args = (5, "2024-05-01T08:30:00.000000Z", "agent", "register", "p1")
    assert canonical(*args, payload, GENESIS) == canonical(*args, returned, GENESIS)
    assert "张三".encode() in canonical(*args, payload, GENESIS)
    assert event_hash(*args, payload, GENESIS) == event_hash(*args, returned, GENESIS)


def test_utc_text_is_iso_utc() -> None:
    text = utc_text()
    assert text.endswith("Z") and len(text) == len("2024-05-01T08:30:00.000000Z")


_ALTERATIONS: dict[str, Any] = {
    "seq": lambda r: r.seq + 1000, "at": lambda r: r.at + "1", "actor": lambda r: r.actor + "x",
    "action": lambda r: r.action + "x", "subject": lambda r: r.subject + "x",
    "payload": lambda r: {**r.payload, "tampered": True}, "prev_hash": lambda r: "f" * 64,
    "hash": lambda r: "e" * 64,
}


@given(st.lists(events, min_size=1, max_size=12), st.data())
def test_altering_any_field_of_any_event_is_reported_there(specs: list[dict[str, Any]], data: st.DataObject) -> None:
    chain = build(specs)
    i = data.draw(st.integers(0, len(chain) - 1), label="index")
    name = data.draw(st.sampled_from(sorted(_ALTERATIONS)), label="field")
    chain[i] = dataclasses.replace(chain[i], **{name: _ALTERATIONS[name](chain[i])})
    report = verify(chain)
    assert (report.ok, report.problem, report.first_bad_seq, report.count) == (False, "altered", i + 1, i)
    assert report.detail == f"event {i + 1} was altered: its content no longer matches its hash"


@given(st.lists(events, min_size=2, max_size=12), st.data())
def test_deleting_an_event_is_missing_at_its_seq(specs: list[dict[str, Any]], data: st.DataObject) -> None:
    chain = build(specs)
    i = data.draw(st.integers(0, len(chain) - 2), label="index")  # deleting the last is truncation, tested below
    del chain[i]
    report = verify(chain)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "missing", i + 1)
    assert f"event {i + 1} is missing" in report.detail


@given(st.lists(events, min_size=2, max_size=12), st.data())
def test_swapping_adjacent_events_is_caught_there(specs: list[dict[str, Any]], data: st.DataObject) -> None:
    chain = build(specs)
    i = data.draw(st.integers(0, len(chain) - 2), label="index")
    chain[i], chain[i + 1] = chain[i + 1], chain[i]
    report = verify(chain)
    assert not report.ok and report.problem in ("reordered", "broken_link") and report.first_bad_seq == i + 1


def test_swap_with_renumbered_and_rehashed_events_is_a_broken_link() -> None:
    chain = build([{"at": "t", "actor": "a", "action": "x", "subject": str(n), "payload": {}} for n in range(5)])
    a, b = chain[2], chain[1]  # swapped, then seq and hash "fixed up" by someone who knows the format
    forged = [dataclasses.replace(r, seq=s, hash=event_hash(s, r.at, r.actor, r.action, r.subject, r.payload,
                                                            r.prev_hash)) for s, r in ((2, a), (3, b))]
    report = verify([chain[0], *forged, *chain[3:]])
    assert (report.problem, report.first_bad_seq) == ("broken_link", 2)


def test_rewritten_event_with_recomputed_hash_breaks_the_next_link() -> None:
    chain = build([{"at": "t", "actor": "a", "action": "x", "subject": str(n), "payload": {}} for n in range(4)])
    r = chain[1]
    chain[1] = dataclasses.replace(r, subject="forged", hash=event_hash(r.seq, r.at, r.actor, r.action, "forged",
                                                                          r.payload, r.prev_hash))
    report = verify(chain)
    assert (report.problem, report.first_bad_seq, report.count) == ("broken_link", 3, 2)


def test_duplicate_and_moved_events_are_reordered() -> None:
    chain = build([{"at": "t", "actor": "a", "action": "x", "subject": str(n), "payload": {}} for n in range(5)])
    dup = verify([*chain[:3], chain[2], *chain[3:]])
    assert (dup.problem, dup.first_bad_seq) == ("reordered", 4)
    moved = verify([chain[0], chain[2], chain[3], chain[1], chain[4]])
    assert (moved.problem, moved.first_bad_seq) == ("missing", 2)  # one record of look-ahead: reads as a gap
    moved_back = verify([chain[0], chain[1], chain[3], chain[2], chain[4]])
    assert (moved_back.problem, moved_back.first_bad_seq) == ("reordered", 3)


def test_missing_start_and_gap_wording() -> None:
    chain = build([{"at": "t", "actor": "a", "action": "x", "subject": str(n), "payload": {}} for n in range(5)])
    start = verify(chain[1:])
    assert (start.problem, start.first_bad_seq) == ("missing", 1) and "start of the chain" in start.detail
    gap = verify([chain[0], chain[3], chain[4]])
    assert gap.detail == "events 2 to 3 are missing: after event 1 comes event 4"


@given(st.lists(events, min_size=1, max_size=12), st.data())
def test_truncated_tail_verifies_and_only_the_anchor_shows_it(specs: list[dict[str, Any]],
                                                              data: st.DataObject) -> None:
    """The chain cannot see a cut-off tail; the caller compares count and last hash with its anchor."""
    chain = build(specs)
    anchor = (len(chain), chain[-1].hash)  # kept elsewhere (the audit_head row)
    keep = data.draw(st.integers(0, len(chain) - 1), label="keep")
    report = verify(chain[:keep])
    assert report.ok and report.count == keep
    assert (report.count, report.last_hash) != anchor


def test_unserialisable_payload_counts_as_altered() -> None:
    first = link(None, at="t", actor="a", action="x", subject="s", payload={"v": 1})
    report = verify([dataclasses.replace(first, payload={"v": float("nan")})])
    assert report.problem == "altered"
    with pytest.raises(TypeError):
        link(None, at="t", actor="a", action="x", subject="s", payload=[1])  # type: ignore[arg-type]


def test_verify_streams_a_large_chain() -> None:
    """Records are made on demand and must be freed as verify moves on: no list is ever built."""
    n, retained = 200_000, 0

    def stream() -> Iterator[EventRecord]:
        nonlocal retained
        prev_hash, recent = GENESIS, deque[weakref.ref[EventRecord]](maxlen=2)
        for seq in range(1, n + 1):
            payload = {"seq": seq, "msisdn": "138****0000"}
            digest = event_hash(seq, "2024-05-01T08:30:00.000000Z", "agent-1", "register", "p", payload, prev_hash)
            rec = EventRecord(seq, "2024-05-01T08:30:00.000000Z", "agent-1", "register", "p", payload, prev_hash,
                              digest)
            if len(recent) == 2 and recent[0]() is not None:  # the record from two steps back is still held
                retained += 1
            recent.append(weakref.ref(rec))
            prev_hash = digest
            yield rec

    report = verify(stream())
    assert report.ok and report.count == n and retained == 0
