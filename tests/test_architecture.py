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
#: The edge's own packages: their modules serve the controllers and pages of every domain
#: (the Litestar rule keeps everything below the edge out of them).
EDGE_PACKAGES = {"service.web", "service.console"}
#: The only imports of a domain's inside from outside it: the app factory wires each
#: domain's controllers (and the console's routes), the CLI each domain's commands, and
#: the tables registry every domain's tables (Alembic's metadata).
WIRING = [
    (re.compile(r"^service\.app$"), re.compile(r"^service\.[a-z_]+\.controllers$")),
    (re.compile(r"^service\.cli$"), re.compile(r"^service\.[a-z_]+\.[a-z_]+_cli$")),
    (re.compile(r"^service\.db\.tables$"), TABLES),
]
#: Inside a domain, the layers run controllers → services (and jobs) → models/queries:
#: these never import a layer above them of their own domain.
LOWER = re.compile(r"^service\.([a-z_]+)\.(models|queries)(\..*)?$")
UPPER = re.compile(r"^service\.([a-z_]+)\.(services|jobs|controllers)(\..*)?$")
#: Named exceptions to the layers, each with its reason (none today).
LAYER_EXCEPTIONS: set[tuple[str, str]] = set()


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
    wrong = [
        (m, n)
        for m in our_modules(g)
        if not EDGE.match(m)
        for n in sorted(g.find_modules_directly_imported_by(m))
        if CONTROLLERS.match(n)
    ]
    assert wrong == []


def test_tables_import_no_layer_above_them():
    g = graph("service", "schemas", "workflows")
    wrong = [
        (m, n)
        for m in our_modules(g)
        if TABLES.match(m)
        for n in sorted(g.find_modules_directly_imported_by(m))
        if ABOVE_TABLES.match(n)
    ]
    assert wrong == []


def domain_cycles(g: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of domains (service.<x> folders), counting the imports
    below the edge (an edge may import any domain) except the tables registry's."""
    packages = domains(g)
    edges: dict[str, set[str]] = {d: set() for d in packages}
    for m in our_modules(g):
        source = ".".join(m.split(".")[:2])
        if source not in packages or EDGE.match(m) or m == ALL_TABLES:
            continue
        for n in g.find_modules_directly_imported_by(m):
            target = ".".join(n.split(".")[:2])
            if target in packages and target != source:
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


def test_no_cycles_between_domains():
    assert domain_cycles(graph("service", "schemas", "workflows")) == []


def domains(g: grimp.ImportGraph) -> set[str]:
    """Every package directly under service/: a new one is a domain the day it is made."""
    return {
        m
        for m in g.modules
        if m.count(".") == 1 and m.startswith("service.") and (ROOT / m.replace(".", "/") / "__init__.py").is_file()
    }


def through_a_side_door(g: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Imports of a domain's inside (`service.<d>.<module>`) from outside that domain."""
    packages = domains(g)
    wrong = []
    for m in our_modules(g):
        home = ".".join(m.split(".")[:2])
        for n in sorted(g.find_modules_directly_imported_by(m)):
            target = ".".join(n.split(".")[:2])
            if target not in packages or target == home or n == target:
                continue
            if target in EDGE_PACKAGES and EDGE.match(m):
                continue
            if any(importer.match(m) and imported.match(n) for importer, imported in WIRING):
                continue
            wrong.append((m, n))
    return wrong


def test_code_outside_a_domain_imports_only_its_front_door():
    g = graph("service", "schemas", "workflows")
    assert through_a_side_door(g) == [], (
        "import the domain's front door (service.<domain>); export the name from its __init__.py if it is missing"
    )


def test_the_front_door_rule_sees_a_side_door():
    g = grimp.build_graph("service", "schemas", "workflows", cache_dir=None)  # its own: it is changed
    g.add_import(importer="service.vendors.services", imported="service.personnel.models")
    g.add_import(importer="service.cli", imported="service.vendors.services")
    found = through_a_side_door(g)
    assert ("service.vendors.services", "service.personnel.models") in found
    assert ("service.cli", "service.vendors.services") in found


def test_lower_layers_of_a_domain_import_no_layer_above_them():
    g = graph("service", "schemas", "workflows")
    wrong = []
    for m in our_modules(g):
        low = LOWER.match(m)
        if not low:
            continue
        for n in sorted(g.find_modules_directly_imported_by(m)):
            up = UPPER.match(n)
            if up and up.group(1) == low.group(1) and (m, n) not in LAYER_EXCEPTIONS:
                wrong.append((m, n))
    assert wrong == []
