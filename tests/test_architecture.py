"""The package's import graph: no circles, and every arrow points down the layers.

docs/architecture.md draws the flow (workload -> meter -> runner/store -> model ->
report); this test keeps the code to it. Every ``import`` of a genwatt module counts,
at module level or inside a function, under ``TYPE_CHECKING`` or not: a function-level
import still ties the two modules together, it only hides the tie from the reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import genwatt

SRC = Path(genwatt.__file__).parent
PACKAGE = "genwatt"

# Lower layers never import higher ones; a layer may import itself (circles aside).
# A new top-level module or folder must be placed here, which is the point: where it
# sits says what it may depend on.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"version", "errors", "units", "labels", "numbers", "suggest", "formatting"}),
    frozenset({"carbon", "meter", "trackers"}),
    frozenset({"store", "models", "metrics"}),
    frozenset({"flops"}),
    frozenset({"analysis", "predict"}),
    frozenset({"run", "serve"}),
    frozenset({"mitigate"}),
    frozenset({"report"}),
    frozenset({"cli"}),
    frozenset({""}),  # the package root: names the public API lazily
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = (PACKAGE, *path.relative_to(SRC).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The genwatt modules ``name`` imports, each resolved to a module that exists."""
    targets: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            # ``from pkg import sub`` names the module pkg.sub; ``from pkg import name``
            # names pkg itself.
            candidates = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate.startswith(PACKAGE) and candidate != name:
                targets.add(candidate)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for level, members in enumerate(LAYERS):
        if top in members:
            return level
    raise AssertionError(f"{module}: its top-level name {top!r} is in no layer of LAYERS")


def test_no_import_circles_between_genwatt_modules() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_every_import_points_down_the_layers() -> None:
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in _graph().items()
        for target in targets
        if _layer(target) > _layer(source)
    )
    assert not upward, "imports pointing up a layer:\n  " + "\n  ".join(upward)


def test_the_check_sees_a_circle_and_an_upward_arrow() -> None:
    """The two checks above can fail: a planted circle and arrow are found."""
    graph = {"genwatt.meter.a": {"genwatt.meter.b"}, "genwatt.meter.b": {"genwatt.meter.a"}}
    assert _cycles(graph) == [["genwatt.meter.a", "genwatt.meter.b"]]
    assert _layer("genwatt.meter.a") < _layer("genwatt.cli.app")
    assert _layer("genwatt.units") == 0 and _layer("genwatt") == len(LAYERS) - 1
