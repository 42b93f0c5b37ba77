"""RFC 6962 / RFC 9162 Merkle tree hashing, proof planning over stored subtrees, and proof checks.

Pure functions (stdlib only): no database, no I/O. Modules: `hashing` (leaf, node, fold),
`reference` (proofs over the full leaf list), `planning` (which stored nodes a root or
proof reads), `tree` (appending: the compact frontier), `verification` (RFC 9162 checks).

Hashing (RFC 6962 §2.1)::

    leaf_hash(d)    = SHA-256(0x00 || d)
    node_hash(l, r) = SHA-256(0x01 || l || r)
    MTH([])         = SHA-256("")

Node addressing
---------------
A *perfect* (complete) subtree is named ``(level, index)``: it covers the leaves
``[index * 2**level, (index + 1) * 2**level)``. Level 0 nodes are the leaf hashes.
Every node of an RFC 6962 tree is either perfect or lies on the right edge of the
tree; a right-edge node covering ``[start, size)`` is the right-to-left fold of the
perfect nodes of the binary decomposition of ``size - start`` (largest first), see
`range_nodes` and `fold`. So a store that keeps every perfect node can answer any
root or proof with O(log n) point reads.

Storage contract (for the database layer)
-----------------------------------------
* Table of rows ``(level, index, hash)``, unique on ``(level, index)``; rows are only
  ever inserted.
* Appending leaf ``seq`` completes exactly the nodes `perfect_nodes_completed_by(seq)`:
  ``(0, seq)`` and ``(k, seq >> k)`` for every ``k >= 1`` with ``(seq + 1) % 2**k == 0``.
  To compute them for a batch appended to a tree of ``size`` leaves, read the
  *frontier* ``root_nodes(size)`` (at most ``log2(size) + 1`` rows), then call
  `append_leaves` (or feed a `CompactTree`); insert every returned row.
* Root of a tree of ``size``: read ``root_nodes(size)``, `assemble_root`.
* Inclusion proof: read ``nodes_needed(inclusion_proof_nodes(index, size))``, then
  `assemble_proof`; consistency proof likewise with `consistency_proof_nodes`.
"""

from service.audit.merkle.hashing import EMPTY_ROOT, HASH_SIZE, fold, leaf_hash, node_hash
from service.audit.merkle.planning import (
    NodeRef,
    ProofPlan,
    assemble_proof,
    assemble_root,
    consistency_proof_nodes,
    inclusion_proof_nodes,
    node_range,
    nodes_needed,
    range_nodes,
    root_nodes,
)
from service.audit.merkle.reference import consistency_proof, inclusion_proof, inclusion_proofs
from service.audit.merkle.tree import (
    AppendResult,
    CompactTree,
    append_leaves,
    perfect_nodes_completed_by,
    root_from_leaves,
)
from service.audit.merkle.verification import (
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "AppendResult",
    "CompactTree",
    "NodeRef",
    "ProofPlan",
    "append_leaves",
    "assemble_proof",
    "assemble_root",
    "consistency_proof",
    "consistency_proof_nodes",
    "fold",
    "inclusion_proof",
    "inclusion_proof_nodes",
    "inclusion_proofs",
    "leaf_hash",
    "node_hash",
    "node_range",
    "nodes_needed",
    "perfect_nodes_completed_by",
    "range_nodes",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_from_leaves",
    "root_nodes",
    "verify_consistency",
    "verify_inclusion",
]
