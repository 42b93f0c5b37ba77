"""A small in-memory audit log that produces signed checkpoints and export bundles."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.audit import merkle
from service.audit.bundle import BundleEvent, write_bundle
from service.audit.checkpoint import Checkpoint, make_vkey, sign

ORIGIN = "schoolgate.example/audit"
_T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def make_event(seq: int, *, with_seq: bool = True) -> bytes:
    document: dict[str, Any] = {
        "v": 1,
        "event_id": f"00000000-0000-4000-8000-{seq:012d}",
        "time": (_T0 + timedelta(seconds=seq)).isoformat(),
        "actor": {"account_id": "0b6f1a2c-4d5e-4f60-8a7b-9c0d1e2f3a4b", "role": "region_admin"},
        "action": "vendor.update",
        "object": {"type": "vendor", "id": f"v-{seq % 97}"},
        "region": "360100",
        "changes": {"status": {"before": "pending", "after": "approved"}},
        "reason": "年度复核" if seq % 3 else None,
        "evidence": [],
        "request_id": f"req-{seq:08x}",
    }
    if with_seq:
        document["seq"] = seq
    return canonical(document)


@dataclass
class SyntheticLog:
    canonicals: list[bytes]
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    origin: str = ORIGIN
    store: dict[merkle.NodeRef, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tree = merkle.CompactTree()
        for text in self.canonicals:
            for level, index, h in tree.append(merkle.leaf_hash(text)):
                self.store[(level, index)] = h

    @classmethod
    def of_size(cls, n: int, *, with_seq: bool = True, key: Ed25519PrivateKey | None = None) -> SyntheticLog:
        events = [make_event(i, with_seq=with_seq) for i in range(n)]
        return cls(events, key) if key is not None else cls(events)

    @property
    def vkey(self) -> str:
        return make_vkey(self.origin, self.key.public_key())

    def root(self, size: int) -> bytes:
        return merkle.assemble_root(merkle.root_nodes(size), self.store)

    def checkpoint(self, size: int) -> str:
        return sign(Checkpoint(self.origin, size, self.root(size), _T0 + timedelta(hours=size)), self.key)

    def nodes_for(self, seq: int) -> list[bytes]:
        return [self.store[ref] for ref in merkle.perfect_nodes_completed_by(seq)]

    def consistency(self, m: int, n: int) -> list[bytes]:
        return merkle.assemble_proof(merkle.consistency_proof_nodes(m, n), self.store)

    def bundle(
        self,
        start: int = 0,
        end: int | None = None,
        *,
        checkpoint_sizes: tuple[int, ...] | None = None,
        consistency_from: tuple[int, ...] = (),
    ) -> list[str]:
        """Bundle lines (str, without newline) for events [start, end)."""
        end = len(self.canonicals) if end is None else end
        sizes = sorted(set(checkpoint_sizes or (end,)))
        head = sizes[-1]
        proofs = [
            (m, head, self.consistency(m, head))
            for m in sorted({*consistency_from, *(s for s in sizes if s < start)})
            if m < head
        ]
        if end < head:
            proofs.append((end, head, self.consistency(end, head)))
        out = io.BytesIO()
        write_bundle(
            out,
            origin=self.origin,
            public_key=self.vkey,
            start=start,
            end=end,
            checkpoints=[self.checkpoint(s) for s in sizes],
            prefix=[self.store[ref] for ref in merkle.root_nodes(start)],
            consistency=proofs,
            events=(BundleEvent(seq, self.canonicals[seq], self.nodes_for(seq)) for seq in range(start, end)),
        )
        return out.getvalue().decode().splitlines()


# ---------------------------------------------------------------- line surgery


def parse(line: str) -> dict[str, Any]:
    return json.loads(line)


def dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def event_index(lines: list[str], seq: int) -> int:
    for i, line in enumerate(lines):
        obj = parse(line)
        if obj["type"] == "event" and obj["seq"] == seq:
            return i
    raise KeyError(seq)


def edit_event(lines: list[str], seq: int, change: Any) -> list[str]:
    """Return a copy with event ``seq``'s canonical text replaced by change(document)."""
    lines = list(lines)
    i = event_index(lines, seq)
    obj = parse(lines[i])
    document = json.loads(obj["canonical"])
    change(document)
    obj["canonical"] = canonical(document).decode()
    lines[i] = dump(obj)
    return lines
