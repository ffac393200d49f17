"""RFC 9162 Merkle hashing and proofs: the RFC 6962 §2.1.3 example tree, the published transparency-dev test
vectors, and a brute-force reference (property-based)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from realname.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    perfect_parts,
    range_hash,
    root,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex
# transparency-dev/merkle proof/verify_test.go: leaves, the roots of the trees of their first 1..8, and proofs.
LEAVES = [h(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                         "606162636465666768696a6b6c6d6e6f")]
ROOTS = [h(x) for x in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
INCLUSION = [  # (leaf number, counted from 1; tree size; proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
HASHED = [leaf_hash(x) for x in LEAVES]


def proof_of(ranges: list[tuple[int, int]], leaves: list[bytes]) -> list[bytes]:
    return [root(leaves[a:b]) for a, b in ranges]


def test_empty_tree_root() -> None:
    assert root([]) == EMPTY_ROOT == h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert CompactRange().root() == EMPTY_ROOT


def test_published_roots_of_one_to_eight_leaves() -> None:
    for n in range(1, 9):
        assert root(HASHED[:n]) == ROOTS[n - 1], n
        compact = CompactRange()
        for leaf in HASHED[:n]:
            compact.append(leaf)
        assert compact.root() == ROOTS[n - 1], n


def test_published_inclusion_proofs() -> None:
    for number, size, proof in INCLUSION:
        want = [h(p) for p in proof]
        assert proof_of(inclusion_ranges(number - 1, size), HASHED) == want
        assert verify_inclusion(number - 1, size, HASHED[number - 1], want, ROOTS[size - 1])
        # a wrong index, size, leaf, or a path with one bit flipped, a hash dropped or added: refused
        assert not verify_inclusion(number % size, size, HASHED[number - 1], want, ROOTS[size - 1])
        assert not verify_inclusion(number - 1, size * 2, HASHED[number - 1], want, ROOTS[size - 1])
        assert not verify_inclusion(number - 1, size, HASHED[number % 8], want, ROOTS[size - 1])
        for i in range(len(want)):
            flipped = [*want]
            flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
            assert not verify_inclusion(number - 1, size, HASHED[number - 1], flipped, ROOTS[size - 1])
        assert not verify_inclusion(number - 1, size, HASHED[number - 1], want[:-1], ROOTS[size - 1])
        assert not verify_inclusion(number - 1, size, HASHED[number - 1], [*want, ROOTS[0]], ROOTS[size - 1])


def test_published_consistency_proofs() -> None:
    for old, new, proof in CONSISTENCY:
        want = [h(p) for p in proof]
        assert proof_of(consistency_ranges(old, new), HASHED) == want
        assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], want)
        assert not verify_consistency(old, new, ROOTS[new - 1], ROOTS[old - 1], want)  # swapped roots
        assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], want[:-1])
        assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], [])
        assert not verify_consistency(old + 1, new, ROOTS[old - 1], ROOTS[new - 1], want)
        for i in range(len(want)):
            flipped = [*want]
            flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
            assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], flipped)


def test_rfc6962_example_tree_of_seven_leaves() -> None:
    """RFC 6962 §2.1.3: audit paths and consistency proofs in the seven-leaf example, as subtrees."""
    a, b, c, d, e, f, j = ((i, i + 1) for i in range(7))
    g, hh, i_, k, l_ = (0, 2), (2, 4), (4, 6), (0, 4), (4, 7)
    assert inclusion_ranges(0, 7) == [b, hh, l_]
    assert inclusion_ranges(3, 7) == [c, g, l_]
    assert inclusion_ranges(4, 7) == [f, j, k]
    assert inclusion_ranges(6, 7) == [i_, k]
    assert consistency_ranges(3, 7) == [c, d, g, l_]
    assert consistency_ranges(4, 7) == [l_]
    assert consistency_ranges(6, 7) == [i_, j, k]
    assert (a, e) == ((0, 1), (4, 5))


def test_trivial_consistency() -> None:
    assert verify_consistency(0, 5, EMPTY_ROOT, ROOTS[4], [])
    assert verify_consistency(5, 5, ROOTS[4], ROOTS[4], [])
    assert not verify_consistency(5, 5, ROOTS[4], ROOTS[3], [])
    assert not verify_consistency(5, 4, ROOTS[4], ROOTS[3], [])


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@given(st.integers(1, 300), st.data())
def test_inclusion_against_brute_force(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    index = data.draw(st.integers(0, size - 1))
    proof = proof_of(inclusion_ranges(index, size), leaves)
    assert root_from_inclusion(index, size, leaves[index], proof) == root(leaves)
    other = data.draw(st.integers(0, size - 1))
    if other != index:
        assert not verify_inclusion(other, size, leaves[index], proof, root(leaves))


@given(st.integers(1, 300), st.data())
def test_consistency_against_brute_force(new: int, data: st.DataObject) -> None:
    leaves = _leaves(new)
    old = data.draw(st.integers(0, new))
    proof = proof_of(consistency_ranges(old, new), leaves)
    assert verify_consistency(old, new, root(leaves[:old]), root(leaves), proof)
    if 0 < old < new:  # a rewritten old leaf: the old root no longer follows
        forged = [*leaves]
        forged[data.draw(st.integers(0, old - 1))] = leaf_hash(b"forged")
        assert not verify_consistency(old, new, root(forged[:old]), root(leaves), proof)


@given(st.integers(0, 300))
def test_compact_range_and_stored_nodes(size: int) -> None:
    leaves = _leaves(size)
    compact, nodes = CompactRange(), {}
    for leaf in leaves:
        for level, index, digest in compact.append(leaf):
            nodes[(level, index)] = digest
    assert compact.root() == root(leaves)
    assert all(digest == root(leaves[i << lv:(i + 1) << lv]) for (lv, i), digest in nodes.items())
    resumed = CompactRange(compact.size, list(compact.hashes))
    resumed.append(leaf_hash(b"next"))
    assert resumed.root() == root([*leaves, leaf_hash(b"next")])
    if size:
        assert range_hash(0, size, lambda lv, i: nodes[(lv, i)]) == root(leaves)
        assert sum(1 << lv for lv, _ in perfect_parts(0, size)) == size


def test_node_hash_prefix() -> None:
    assert node_hash(HASHED[0], HASHED[1]) == root(HASHED[:2]) != leaf_hash(HASHED[0] + HASHED[1])
