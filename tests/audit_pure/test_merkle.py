"""RFC 6962 Merkle trees: reference vectors, proof planning over stored subtrees, verification."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.audit import merkle
from service.audit.merkle import (
    EMPTY_ROOT,
    CompactTree,
    append_leaves,
    assemble_proof,
    assemble_root,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    inclusion_proofs,
    leaf_hash,
    nodes_needed,
    perfect_nodes_completed_by,
    range_nodes,
    root_from_leaves,
    root_nodes,
    verify_consistency,
    verify_inclusion,
)

# The Certificate Transparency reference leaves and hashes, as published in
# transparency-dev/merkle (testonly/constants.go, proof/verify_test.go).
CT_LEAVES = [
    bytes.fromhex(x)
    for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_NODES = {  # (level, index) -> hash, all perfect subtrees of the 8-leaf tree
    (0, 0): "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    (0, 1): "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    (0, 2): "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    (0, 3): "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    (0, 4): "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    (0, 5): "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    (0, 6): "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    (0, 7): "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    (1, 0): "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    (1, 1): "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    (1, 2): "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    (1, 3): "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    (2, 0): "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    (2, 1): "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    (3, 0): "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (leaf index, tree size, proof) -- 0-based indexes
CT_INCLUSION = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CT_CONSISTENCY = [
    (1, 1, []),
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
]  # fmt: skip

CT_HASHES = [leaf_hash(x) for x in CT_LEAVES]


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(b"%d:%d" % (salt, i)) for i in range(n)]


def store_of(leaf_hashes: list[bytes]) -> dict[merkle.NodeRef, bytes]:
    """What the database would hold: every perfect node, as the appender emits them."""
    tree = CompactTree()
    store: dict[merkle.NodeRef, bytes] = {}
    for h in leaf_hashes:
        for level, index, node in tree.append(h):
            assert (level, index) not in store
            store[(level, index)] = node
    return store


def flips(value: bytes):
    """Every single-bit corruption of a hash."""
    for i in range(len(value) * 8):
        b = bytearray(value)
        b[i // 8] ^= 1 << (i % 8)
        yield bytes(b)


# ----------------------------------------------------------------- reference vectors


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert root_from_leaves([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_root_matches_rfc6962_vectors(size: int) -> None:
    assert root_from_leaves(CT_HASHES[:size]).hex() == CT_ROOTS[size]


def test_stored_nodes_match_reference_node_hashes() -> None:
    store = store_of(CT_HASHES)
    assert {ref: h.hex() for ref, h in store.items()} == CT_NODES


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_inclusion_vectors(index: int, size: int, proof: list[str]) -> None:
    expected = [bytes.fromhex(p) for p in proof]
    assert inclusion_proof(index, CT_HASHES[:size]) == expected
    assert assemble_proof(inclusion_proof_nodes(index, size), store_of(CT_HASHES)) == expected
    assert verify_inclusion(CT_HASHES[index], index, size, expected, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("m", "n", "proof"), CT_CONSISTENCY)
def test_consistency_vectors(m: int, n: int, proof: list[str]) -> None:
    expected = [bytes.fromhex(p) for p in proof]
    assert consistency_proof(m, n, CT_HASHES) == expected
    assert assemble_proof(consistency_proof_nodes(m, n), store_of(CT_HASHES)) == expected
    assert verify_consistency(m, n, expected, bytes.fromhex(CT_ROOTS[m]), bytes.fromhex(CT_ROOTS[n]))


# ---------------------------------------------------------- planning from stored nodes


@pytest.mark.parametrize("n", range(1, 34))
def test_planned_proofs_equal_reference_proofs_for_every_small_tree(n: int) -> None:
    hs = leaves(n)
    store = store_of(hs)
    for size in range(n + 1):
        assert assemble_root(root_nodes(size), store) == root_from_leaves(hs[:size])
    for index in range(n):
        assert assemble_proof(inclusion_proof_nodes(index, n), store) == inclusion_proof(index, hs)
    for m in range(n + 1):
        assert assemble_proof(consistency_proof_nodes(m, n), store) == consistency_proof(m, n, hs)


@pytest.mark.parametrize("n", range(1, 70))
def test_all_inclusion_proofs_at_once_equal_the_reference_ones(n: int) -> None:
    hs = leaves(n)
    root, proofs = inclusion_proofs(hs)
    assert root == root_from_leaves(hs)
    assert proofs == [inclusion_proof(i, hs) for i in range(n)]
    assert all(verify_inclusion(hs[i], i, n, proofs[i], root) for i in range(n))


def test_all_inclusion_proofs_needs_a_leaf() -> None:
    with pytest.raises(ValueError):
        inclusion_proofs([])


@pytest.mark.parametrize("n", [1, 2, 3, 1000, 1023, 1024, 1025, 10**6 + 7, 2**40 + 3])
def test_plans_read_logarithmically_many_nodes(n: int) -> None:
    bound = 2 * math.ceil(math.log2(n + 1)) + 2
    assert len(root_nodes(n)) == n.bit_count()
    for index in {0, n // 3, n // 2, n - 1}:
        plan = inclusion_proof_nodes(index, n)
        assert len(nodes_needed(plan)) <= bound
        assert sum(len(element) > 1 for element in plan) <= 1  # at most one folded element
    for m in {1, n // 3, n // 2, n - 1}:
        if 0 < m < n:
            assert len(nodes_needed(consistency_proof_nodes(m, n))) <= bound


def test_planned_nodes_are_perfect_subtrees_inside_the_tree() -> None:
    n = 1000
    for plan in [inclusion_proof_nodes(i, n) for i in range(0, n, 37)] + [
        consistency_proof_nodes(m, n) for m in range(1, n, 41)
    ]:
        for level, index in nodes_needed(plan):
            assert (index + 1) << level <= n


def test_assemble_names_a_missing_node() -> None:
    with pytest.raises(KeyError):
        assemble_proof(inclusion_proof_nodes(3, 10), {})


def test_range_nodes_rejects_ranges_that_are_not_subtrees() -> None:
    assert range_nodes(8, 13) == [(2, 2), (0, 12)]
    with pytest.raises(ValueError):
        range_nodes(2, 6)  # [2, 6) is not a node of any RFC 6962 tree
    with pytest.raises(ValueError):
        range_nodes(5, 4)


# ------------------------------------------------------------------------ appending


def test_perfect_nodes_completed_by() -> None:
    assert perfect_nodes_completed_by(0) == [(0, 0)]
    assert perfect_nodes_completed_by(1) == [(0, 1), (1, 0)]
    assert perfect_nodes_completed_by(6) == [(0, 6)]
    assert perfect_nodes_completed_by(7) == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert perfect_nodes_completed_by(11) == [(0, 11), (1, 5), (2, 2)]
    for seq in range(200):
        for level, index in perfect_nodes_completed_by(seq):
            assert (seq + 1) % (1 << level) == 0 and (index + 1) << level == seq + 1


@given(st.integers(0, 300), st.lists(st.integers(1, 40), min_size=1, max_size=6))
@settings(max_examples=40, deadline=None, database=None)
def test_batched_appends_read_only_the_frontier_and_insert_every_node(first: int, batches: list[int]) -> None:
    hs = leaves(first + sum(batches), salt=first)
    db: dict[merkle.NodeRef, bytes] = {}
    for level, index, h in append_leaves(0, [], hs[:first]).rows:
        db[(level, index)] = h
    size = first
    for count in batches:
        reads: list[merkle.NodeRef] = []

        class Recorder(dict):  # records which stored nodes the appender looks at
            def __getitem__(self, key: merkle.NodeRef) -> bytes:
                reads.append(key)  # noqa: B023  (called within this iteration only)
                return db[key]

        result = append_leaves(size, Recorder(), hs[size : size + count])
        assert reads == root_nodes(size)
        for level, index, h in result.rows:
            assert (level, index) not in db  # rows are only inserted, never updated
            db[(level, index)] = h
        size += count
        assert result.size == size
        assert result.root == root_from_leaves(hs[:size])
    assert db == store_of(hs)


def test_compact_tree_checks_its_frontier() -> None:
    with pytest.raises(ValueError):
        CompactTree(3, [EMPTY_ROOT])
    tree = CompactTree.from_stored(5, store_of(leaves(5)))
    assert tree.root() == root_from_leaves(leaves(5))


# ----------------------------------------------------------------- property tests

sizes_and_index = st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1)))
sizes_m_n = st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n)))


@given(sizes_and_index)
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_inclusion_proofs_verify_and_every_bit_flip_fails(case: tuple[int, int]) -> None:
    n, index = case
    hs = leaves(n, salt=n)
    root = root_from_leaves(hs)
    proof = inclusion_proof(index, hs)
    assert assemble_proof(inclusion_proof_nodes(index, n), store_of(hs)) == proof
    assert verify_inclusion(hs[index], index, n, proof, root)
    for i, element in enumerate(proof):
        for bad in flips(element):
            assert not verify_inclusion(hs[index], index, n, [*proof[:i], bad, *proof[i + 1 :]], root)
    for bad in flips(hs[index]):
        assert not verify_inclusion(bad, index, n, proof, root)
    for bad in flips(root):
        assert not verify_inclusion(hs[index], index, n, proof, bad)
    # wrong shape: other index or size, a hash dropped or added
    if index ^ 1 < n:
        assert not verify_inclusion(hs[index], index ^ 1, n, proof, root)
    if proof:
        assert not verify_inclusion(hs[index], index, n, proof[:-1], root)
    assert not verify_inclusion(hs[index], index, n, [*proof, root], root)
    assert not verify_inclusion(hs[index], n, n, proof, root)


@given(sizes_m_n)
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_consistency_proofs_verify_and_every_bit_flip_fails(case: tuple[int, int]) -> None:
    m, n = case
    hs = leaves(n, salt=m)
    root_m, root_n = root_from_leaves(hs[:m]), root_from_leaves(hs)
    proof = consistency_proof(m, n, hs)
    assert assemble_proof(consistency_proof_nodes(m, n), store_of(hs)) == proof
    assert verify_consistency(m, n, proof, root_m, root_n)
    for i, element in enumerate(proof):
        for bad in flips(element):
            assert not verify_consistency(m, n, [*proof[:i], bad, *proof[i + 1 :]], root_m, root_n)
    for bad in flips(root_m):
        assert not verify_consistency(m, n, proof, bad, root_n)
    for bad in flips(root_n):
        assert not verify_consistency(m, n, proof, root_m, bad)
    if proof:
        assert not verify_consistency(m, n, proof[:-1], root_m, root_n)
        assert not verify_consistency(m, n, [*proof, root_n], root_m, root_n)
        assert not verify_consistency(m, n, [], root_m, root_n)
    assert not verify_consistency(n, m, proof, root_n, root_m) or m == n


def test_consistency_edge_cases() -> None:
    some = leaf_hash(b"x")
    assert verify_consistency(0, 0, [], some, some)
    assert verify_consistency(0, 5, [], some, EMPTY_ROOT)  # the empty tree precedes every tree
    assert not verify_consistency(0, 5, [some], some, some)
    assert not verify_consistency(3, 3, [], some, EMPTY_ROOT)
    assert not verify_consistency(3, 3, [some], some, some)
    assert not verify_consistency(4, 3, [], some, some)


def test_inclusion_edge_cases() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(h, 0, 0, [], h)
    assert not verify_inclusion(h, 1, 1, [], h)
    assert not verify_inclusion(b"", 0, 1, [], b"")
    assert not verify_inclusion(h, 0, 2, [b"short"], h)
