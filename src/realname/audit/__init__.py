"""A tamper-evident audit trail: every event carries the hash of the one before it.

Pure functions here (:mod:`.chain`); the registry stores the records and keeps the anchor (last seq and hash)
that makes cutting off the tail detectable.
"""
