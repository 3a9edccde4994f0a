"""The domain's shape: no import circles anywhere in `campaigns`, and rooms that import downward only.

The layer and edge rules themselves are import-linter contracts (pyproject.toml, run by `make lint`); this test adds
what import-linter does not check: a circle between two modules of the same room.
"""

from __future__ import annotations

import grimp


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), i.e. import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_circles_in_the_domain():
    graph = grimp.build_graph("campaigns")
    # A package's __init__ importing its own modules is how packages work, not a circle.
    edges = {
        m: {d for d in graph.find_modules_directly_imported_by(m) if not m.startswith(d + ".")} for m in graph.modules
    }
    assert _circles(edges) == []


def test_the_circle_finder_sees_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
