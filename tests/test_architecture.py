"""The dependency direction of ARCHITECTURE.md §1: kernel <- hardware_models <- protocols <-
network builder <- studies <- CLI, no package cycles, ``protocols`` never imports the network.

Every ``import`` of the three packages counts, also one inside a function (a lazy import is a
dependency all the same). The graph is built from the source with :mod:`ast`, so nothing is
imported and the test is fast.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("modenhub_net", "hardware_models", "protocols")

#: layers, lowest first; a unit may import units of its own layer or lower ones only
LAYERS: dict[str, tuple[str, ...]] = {
    "kernel": ("modenhub_net", "modenhub_net.errors", "modenhub_net.simulation",
               "modenhub_net.components", "modenhub_net.protocol", "modenhub_net.collector",
               "modenhub_net.qubits", "modenhub_net.config", "modenhub_net.stats",
               "modenhub_net.output", "modenhub_net.store", "modenhub_net.parallel"),
    "analytic models": ("modenhub_net.aggregate", "modenhub_net.queueing"),
    "hardware_models": ("hardware_models",),
    "protocols": ("protocols", "protocols.stack", "protocols.circuits"),
    "network builder": ("modenhub_net.network",),
    "studies": ("modenhub_net.studies", "modenhub_net.sweep", "modenhub_net.reporting",
                "modenhub_net.plotting"),
    "cli": ("modenhub_net.cli",),
}
RANK = {unit: rank for rank, units in enumerate(LAYERS.values()) for unit in units}
#: modules that belong to another unit than their folder: the ``sweep`` subcommand is part of
#: the CLI (it shares the CLI's flags, interrupts and exit codes)
MEMBERS = {"modenhub_net.sweep.cli": "modenhub_net.cli"}


def unit_of(module: str) -> str:
    """The unit (package or top-level module) a dotted module name belongs to."""
    if module in MEMBERS:
        return MEMBERS[module]
    if module in RANK:
        return module
    parts = module.split(".")
    for n in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:n]) in RANK and ".".join(parts[:n]) != parts[0]:
            return ".".join(parts[:n])
    return parts[0]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _exists(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every imported module of our packages in ``path``, with its line."""
    module = _module_name(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if path.name != "__init__.py":
                    base.pop()
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # ``from pkg import submodule`` depends on the submodule
                child = f"{target}.{alias.name}"
                found.append((child if _exists(child) else target, node.lineno))
    return [(name, line) for name, line in found if name.split(".")[0] in PACKAGES]


def dependency_edges() -> dict[tuple[str, str], list[str]]:
    """``(unit, imported unit) -> ["file:line", ...]`` over the three packages."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = unit_of(_module_name(path))
            for name, line in _imports(path):
                target = unit_of(name)
                if target != source:
                    edges[(source, target)].append(f"{path.relative_to(ROOT)}:{line}")
    return edges


EDGES = dependency_edges()


def test_every_unit_has_a_layer() -> None:
    units = {u for edge in EDGES for u in edge}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            units.add(unit_of(_module_name(path)))
    unknown = sorted(u for u in units if u not in RANK)
    assert not unknown, (f"new package(s) {unknown}: give each a layer in LAYERS here and in "
                         "ARCHITECTURE.md §1")


def test_dependencies_point_down_the_layers() -> None:
    names = list(LAYERS)
    upward = [f"{a} ({names[RANK[a]]}) imports {b} ({names[RANK[b]]}) at {where[0]}"
              for (a, b), where in sorted(EDGES.items())
              if a in RANK and b in RANK and RANK[b] > RANK[a]]
    assert not upward, "\n".join(upward)


def test_protocols_never_import_the_network_builder() -> None:
    bad = [f"{a} -> {b} at {where}" for (a, b), where in EDGES.items()
           if a.startswith("protocols") and b == "modenhub_net.network"]
    assert not bad, "\n".join(bad)


def test_no_package_cycles() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in EDGES:
        graph[a].add(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    described = [" -> ".join(c) + " (" + ", ".join(EDGES[(c[i], c[i + 1])][0]
                                                  for i in range(len(c) - 1)) + ")"
                 for c in cycles]
    assert not cycles, "\n".join(described)


@pytest.mark.parametrize(("module", "unit"), [
    ("modenhub_net.sweep.cli", "modenhub_net.cli"),
    ("modenhub_net.sweep.runner", "modenhub_net.sweep"),
    ("protocols.stack.link", "protocols.stack"),
    ("protocols.cache", "protocols"),
    ("hardware_models.bsm", "hardware_models"),
    ("modenhub_net.qubits.state", "modenhub_net.qubits"),
])
def test_unit_of(module: str, unit: str) -> None:
    assert unit_of(module) == unit


def test_the_graph_sees_lazy_and_submodule_imports() -> None:
    """Guards the parser itself: a lazy import in a function and ``from pkg import module``."""
    assert ("modenhub_net.cli", "modenhub_net.sweep") in EDGES  # inside a function
    assert ("modenhub_net.network", "protocols") in EDGES
    assert ("hardware_models", "modenhub_net.simulation") in EDGES


# -- ARCHITECTURE.md says where things are: check that they are there ---------------------------
DOC = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def _defined_names(path: Path) -> set[str]:
    """Top-level functions, classes and constants of a module, and ``Class.member`` names."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        names.add(f"{node.name}.{member.name}")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _formula_table() -> list[tuple[str, list[str]]]:
    """``(module path, [function, ...])`` of every "module · functions" cell of §3's table."""
    section = DOC.split("## 3.", 1)[1].split("\n## 4.", 1)[0]
    cells = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| formula") or line.startswith("|---"):
            continue
        where = line.split(" | ")[1]
        for part in where.split(";"):
            match = re.match(r"\s*`([\w/]+\.py)` · (.*)", part)
            if match:
                cells.append((match.group(1), re.findall(r"`([\w.]+)`", match.group(2))))
    return cells


def test_formula_table_names_functions_that_exist() -> None:
    cells = _formula_table()
    assert len(cells) >= 20  # the table was parsed
    missing = []
    for module, functions in cells:
        # a bare file name continues the previous row's folder (e.g. `fibre.py` in hardware_models)
        candidates = [ROOT / module] if "/" in module else list(ROOT.glob(f"*/{module}"))
        paths = [p for p in candidates if p.exists()]
        if not paths:
            missing.append(module)
            continue
        names = set().union(*(_defined_names(p) for p in paths))
        missing += [f"{module}: {f}" for f in functions if f not in names]
    assert not missing, missing


def test_cited_sections_exist() -> None:
    """Every ``ARCHITECTURE.md §N`` cited in the code is a section of the document."""
    sections = set(re.findall(r"^## (\d+)\. ", DOC, flags=re.M))
    cited: dict[str, str] = {}
    for package in (*PACKAGES, "benchmarks", "tests"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for number in re.findall(r"ARCHITECTURE\.md\s+§(\d+)", text):
                cited.setdefault(number, str(path.relative_to(ROOT)))
    assert cited, "no citation found: the search is broken"
    unknown = {n: where for n, where in cited.items() if n not in sections}
    assert not unknown, f"cited sections missing from ARCHITECTURE.md: {unknown}"
