"""The region hierarchy in memory.

It is immutable reference data shipped with the code, identical in every process, so
keeping it in memory breaks no multi-worker rule. "Within" follows parent links, not
code prefixes, because not every unit (赣江新区) sits where its digits suggest.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.errors import InvalidInput

DATA_FILE = Path(__file__).with_name("jiangxi.csv")
LEVELS = ("province", "city", "county")


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    level: str
    parent_code: str | None


class RegionDirectory:
    def __init__(self, regions: list[RegionInfo]) -> None:
        self._by_code = {r.code: r for r in regions}
        self._children: dict[str, list[str]] = {}
        for r in regions:
            if r.parent_code:
                self._children.setdefault(r.parent_code, []).append(r.code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self):
        return iter(self._by_code.values())

    def get(self, code: str) -> RegionInfo | None:
        return self._by_code.get(code)

    def require(self, code: str | None, field: str = "region_code") -> RegionInfo:
        """The region, or a 422 naming the field: unknown codes never reach the database."""
        region = self._by_code.get(code or "")
        if region is None:
            raise InvalidInput.field(field, "unknown_region", "行政区划代码不存在或不在本系统服务范围内")
        return region

    def ancestors(self, code: str) -> list[str]:
        """The region itself, then its parent, up to the province."""
        chain = []
        current = self._by_code.get(code)
        while current is not None:
            chain.append(current.code)
            current = self._by_code.get(current.parent_code or "")
        return chain

    def within(self, code: str, container: str) -> bool:
        """True when `code` is `container` or lies inside it (county in city in province)."""
        return container in self.ancestors(code)

    def descendants(self, code: str) -> list[str]:
        """The region and everything inside it, for `region_code = ANY(...)` queries."""
        found, stack = [], [code]
        while stack:
            current = stack.pop()
            if current in self._by_code:
                found.append(current)
                stack.extend(self._children.get(current, ()))
        return found


def read_region_file(path: Path = DATA_FILE) -> list[RegionInfo]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            RegionInfo(row["code"], row["name"], row["level"], row["parent_code"] or None)
            for row in csv.DictReader(handle)
        ]


@cache
def regions() -> RegionDirectory:
    return RegionDirectory(read_region_file())
