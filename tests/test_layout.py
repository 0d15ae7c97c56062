"""The package layout stays acyclic: no two modules import each other at module level
(issue 12, "the state.py <-> elements.py import cycle goes"). A module may still reach
a higher one inside a function (``State.to_elements`` imports ``Elements`` when called):
that is a call-time dependency, not an import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import apophis_sim

ROOT = Path(apophis_sim.__file__).parent


def _module_graph() -> dict[str, set[str]]:
    mods: dict[str, Path] = {}
    for p in ROOT.rglob("*.py"):
        parts = ("apophis_sim",) + p.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = p
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.parse(p.read_text(encoding="utf-8")).body:  # module level only
            if isinstance(node, ast.ImportFrom) and node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    cand = f"{target}.{alias.name}"
                    graph[m].add(cand if cand in mods else target)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("apophis_sim"):
                        graph[m].add(alias.name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    colour: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(u: str, stack: list[str]) -> None:
        colour[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if v not in graph or v == u:
                continue
            # a package importing its own submodules is its table of contents, not a cycle
            if v.startswith(u + "."):
                continue
            if colour.get(v) == 1:
                found.append(stack[stack.index(v):] + [v])
            elif not colour.get(v):
                visit(v, stack)
        stack.pop()
        colour[u] = 2

    for m in sorted(graph):
        if not colour.get(m):
            visit(m, [])
    return found


def test_no_module_level_import_cycles():
    graph = _module_graph()
    assert "apophis_sim.state" in graph and "apophis_sim.elements" in graph
    assert "apophis_sim.state" in graph["apophis_sim.elements"]  # elements builds on state
    assert _cycles(graph) == []


def test_the_checker_finds_a_cycle():
    """The checker itself can fail: a planted two-module cycle is reported."""
    graph = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert _cycles(graph) == [["a", "b", "a"]]
