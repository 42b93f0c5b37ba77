"""The import rules of docs/architecture.md, executed."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


# -- generic rules: they cover a new module the day it is written -----------------------

import re  # noqa: E402
from functools import cache  # noqa: E402

import grimp  # noqa: E402  (import-linter's own graph library)

#: The edges: the app factory, the CLI, the API edge, the console, and each domain's
#: controllers and command-line verifiers. Everything else is below the edge.
EDGE = re.compile(r"^service\.(app|cli|web|console)(\..*)?$|^service\.[a-z_]+\.(controllers|[a-z_]+_cli)(\..*)?$")
CONTROLLERS = re.compile(r"^service\.[a-z_]+\.controllers(\..*)?$")
TABLES = re.compile(r"^service\.[a-z_]+\.models$")
ABOVE_TABLES = re.compile(r"^service\.[a-z_]+\.(services|queries|jobs|controllers)(\..*)?$")
#: The one module that imports every domain's tables (Alembic's metadata), by design.
ALL_TABLES = "service.db.tables"
#: Cycles between domains that exist today (issue 12 names them); a new one fails, and
#: so does one of these once it is gone, so that the list stays true.
KNOWN_CYCLES = [["service.personnel", "service.region_settings"]]


@cache
def graph(*packages: str) -> grimp.ImportGraph:
    return grimp.build_graph(*packages, cache_dir=None)  # a stale cache would hide a new import


def our_modules(g: grimp.ImportGraph) -> list[str]:
    return sorted(m for m in g.modules if m.split(".")[0] in ("service", "schemas", "workflows"))


def test_nothing_below_the_edge_reaches_litestar_even_indirectly():
    g = graph("service", "schemas", "workflows", "litestar")
    reaching = set(g.find_downstream_modules("litestar", as_package=True))
    below = [m for m in our_modules(g) if m in reaching and not EDGE.match(m)]
    assert below == [], f"below the web edge, these import Litestar (directly or through another module): {below}"


def test_only_the_edge_imports_controllers():
    g = graph("service", "schemas", "workflows")
    wrong = [(m, n) for m in our_modules(g) if not EDGE.match(m)
             for n in sorted(g.find_modules_directly_imported_by(m)) if CONTROLLERS.match(n)]
    assert wrong == []


def test_tables_import_no_layer_above_them():
    g = graph("service", "schemas", "workflows")
    wrong = [(m, n) for m in our_modules(g) if TABLES.match(m)
             for n in sorted(g.find_modules_directly_imported_by(m)) if ABOVE_TABLES.match(n)]
    assert wrong == []


def domain_cycles(g: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of domains (service.<x> folders), counting the imports
    below the edge (an edge may import any domain) except the tables registry's."""
    domains = {m for m in g.modules if m.count(".") == 1 and m.startswith("service.") and (
        ROOT / m.replace(".", "/") / "__init__.py").is_file()}
    edges: dict[str, set[str]] = {d: set() for d in domains}
    for m in our_modules(g):
        source = ".".join(m.split(".")[:2])
        if source not in domains or EDGE.match(m) or m == ALL_TABLES:
            continue
        for n in g.find_modules_directly_imported_by(m):
            target = ".".join(n.split(".")[:2])
            if target in domains and target != source:
                edges[source].add(target)
    return sorted(group for group in _strongly_connected(edges) if len(group) > 1)


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    group.append(member)
                    if member == node:
                        break
                groups.append(sorted(group))
    return groups


def test_strongly_connected_finds_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert sorted(g for g in _strongly_connected(edges) if len(g) > 1) == [["a", "b", "c"]]


def test_no_cycles_between_domains_but_the_known_ones():
    assert domain_cycles(graph("service", "schemas", "workflows")) == KNOWN_CYCLES
