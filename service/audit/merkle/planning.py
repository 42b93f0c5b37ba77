"""Proof planning over stored perfect subtrees: which ``(level, index)`` nodes a root
or a proof reads, and assembling them once fetched."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from service.audit.merkle.hashing import fold, split

NodeRef = tuple[int, int]
"""A perfect subtree ``(level, index)``."""

ProofPlan = list[tuple[NodeRef, ...]]
"""One entry per proof element: the perfect nodes whose `fold` is that element."""


def node_range(node: NodeRef) -> tuple[int, int]:
    """The leaves ``[start, end)`` covered by a perfect node."""
    level, index = node
    return index << level, (index + 1) << level


def range_nodes(start: int, end: int) -> list[NodeRef]:
    """The perfect nodes making up the MTH node over ``[start, end)``, left to right.

    ``[start, end)`` must be a node of some RFC 6962 tree: either a perfect aligned
    range, or a right-edge range whose start is aligned to a power of two at least as
    large as ``end - start``. ``fold`` of their hashes is the node's hash."""
    if not 0 <= start <= end:
        raise ValueError(f"bad range {start}..{end}")
    nodes: list[NodeRef] = []
    pos, remaining = start, end - start
    while remaining:
        level = remaining.bit_length() - 1
        if pos & ((1 << level) - 1):
            raise ValueError(f"range {start}..{end} is not an RFC 6962 subtree")
        nodes.append((level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    return nodes


def root_nodes(size: int) -> list[NodeRef]:
    """The perfect nodes whose fold is the root of a tree of ``size`` leaves (one per
    set bit of size, largest first). Also the frontier needed to append to it."""
    return range_nodes(0, size)


def inclusion_proof_nodes(index: int, size: int) -> ProofPlan:
    """Plan of RFC 6962 PATH(index, D[size]): for each proof element, bottom-up, the
    perfect nodes to fetch (at most one element is a multi-node right-edge fold)."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} outside tree of size {size}")
    plan: ProofPlan = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            plan.append(tuple(range_nodes(lo + k, hi)))
            hi = lo + k
        else:
            plan.append(tuple(range_nodes(lo, lo + k)))
            lo = lo + k
    plan.reverse()
    return plan


def consistency_proof_nodes(m: int, n: int) -> ProofPlan:
    """Plan of RFC 6962 PROOF(m, D[n]) as lists of perfect nodes (see
    `inclusion_proof_nodes`). Empty when m == 0 or m == n."""
    if not 0 <= m <= n:
        raise ValueError(f"bad consistency range {m}..{n}")
    if m == 0 or m == n:
        return []
    plan: ProofPlan = []
    lo, hi, complete = 0, n, True
    while True:
        size = hi - lo
        if m == size:
            if not complete:
                plan.append(tuple(range_nodes(lo, hi)))
            break
        k = split(size)
        if m <= k:
            plan.append(tuple(range_nodes(lo + k, hi)))
            hi = lo + k
        else:
            plan.append(tuple(range_nodes(lo, lo + k)))
            lo, m, complete = lo + k, m - k, False
    plan.reverse()
    return plan


def nodes_needed(plan: Iterable[Sequence[NodeRef]]) -> set[NodeRef]:
    """Every distinct perfect node a plan reads (for one batched database query)."""
    return {node for element in plan for node in element}


def assemble_proof(plan: Iterable[Sequence[NodeRef]], fetched: Mapping[NodeRef, bytes]) -> list[bytes]:
    """Turn a plan and the fetched node hashes into the RFC 6962 proof.
    Raises KeyError naming a node that was not fetched."""
    return [fold([fetched[node] for node in element]) for element in plan]


def assemble_root(nodes: Sequence[NodeRef], fetched: Mapping[NodeRef, bytes]) -> bytes:
    """Root hash from the fetched ``root_nodes(size)``."""
    return fold([fetched[node] for node in nodes])
