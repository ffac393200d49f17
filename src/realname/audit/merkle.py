"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and their verification. Pure functions.

Hashing: a leaf is ``SHA-256(0x00 || data)``, an inner node ``SHA-256(0x01 || left || right)``, the empty tree
``SHA-256("")``. A tree of ``n > 1`` leaves splits at ``k``, the largest power of two below ``n``: the left
subtree is always perfect (2^j leaves), so every node is either a *perfect* subtree ``[i * 2^j, (i + 1) * 2^j)``
or lies on the right edge of the tree. That is what lets a store keep only perfect subtrees (:func:`perfect_parts`)
and still answer every proof: proofs are computed here as lists of leaf ranges (:func:`inclusion_ranges`,
:func:`consistency_ranges`) that the store turns into hashes (:func:`range_hash` folds a right-edge range from its
perfect parts).

:class:`CompactRange` is the right edge of a growing tree (one hash per set bit of its size): append leaves, read
the root, resume later from the stored hashes. Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_SIZE = 32

Range = tuple[int, int]  # leaves [start, end)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf *hashes* (not data), by the definition: the reference the stored tree is tested against."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def perfect_parts(start: int, end: int) -> list[tuple[int, int]]:
    """A range that starts on a multiple of a power of two at least its length (every range a proof names) as
    the perfect subtrees it is made of, largest first, as ``(level, index)``: ``[index * 2^level, ...)``."""
    parts: list[tuple[int, int]] = []
    n, at = end - start, start
    for level in range(max(n.bit_length() - 1, 0), -1, -1):
        if n & (1 << level):
            parts.append((level, at >> level))
            at += 1 << level
    return parts


def range_hash(start: int, end: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH of leaves [start, end) from the stored perfect subtrees ``node(level, index)``: a right-edge subtree is
    its perfect parts folded from the right (the left part of each split is the largest perfect one)."""
    parts = [node(level, index) for level, index in perfect_parts(start, end)]
    acc = parts[-1]
    for h in reversed(parts[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes make the audit path of leaf ``index`` in a tree of ``size`` (RFC 9162 §2.1.3.1),
    from the leaf's sibling up to the root's child."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    return path[::-1]


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The subtrees whose hashes prove that the tree of ``new`` leaves extends the one of ``old`` (RFC 9162
    §2.1.4.1, SUBPROOF): empty when ``old`` is 0 or equal to ``new``."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    if old in (0, new):
        return []
    out: list[Range] = []
    lo, hi, m, whole = 0, new, old, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append((lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    return out[::-1]


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root an audit path leads to (RFC 9162 §2.1.3.2), or None when the path cannot belong to that tree."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof) or len(leaf) != HASH_SIZE:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    return root_from_inclusion(index, size, leaf, proof) == root_hash


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Does the tree of ``new`` leaves with ``new_root`` extend the tree of ``old`` leaves with ``old_root``?
    (RFC 9162 §2.1.4.2; any tree extends the empty one.)"""
    if not 0 <= old <= new or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


@dataclass
class CompactRange:
    """The right edge of the tree of the first ``size`` leaves: one perfect subtree hash per set bit of ``size``,
    largest first. Appending reports each perfect subtree it completes, so a store can keep them."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.hashes) != bin(self.size).count("1"):
            raise ValueError(f"a compact range of {self.size} leaves has {bin(self.size).count('1')} hashes, "
                             f"not {len(self.hashes)}")

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the perfect subtrees completed, ``(level, index, hash)``, the leaf first."""
        made = [(0, self.size, leaf)]
        h, level, index = leaf, 0, self.size
        while (self.size >> level) & 1:  # a subtree of this level on the edge: merge with it
            h = node_hash(self.hashes.pop(), h)
            level, index = level + 1, index >> 1
            made.append((level, index, h))
        self.hashes.append(h)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        acc = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            acc = node_hash(h, acc)
        return acc
