"""A tamper-evident audit trail: every event carries the hash of the one before it.

Pure functions here (:mod:`.chain`); the registry stores the records and keeps the anchor (last seq and hash)
that makes cutting off the tail detectable.
"""

from __future__ import annotations

from realname.audit.chain import GENESIS, ChainReport, EventRecord, canonical, event_hash, link, utc_text, verify

__all__ = ["GENESIS", "ChainReport", "EventRecord", "canonical", "event_hash", "link", "utc_text", "verify"]
