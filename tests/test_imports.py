"""The package has no import cycles: every module can be imported first, in a fresh interpreter,
and no chain of imports (module-level or inside a function) leads from a module back to itself."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, Path]:
    mods = {}
    for path in (SRC / "szsl").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _import_graph() -> dict[str, set[str]]:
    """module -> the szsl modules it imports anywhere in its body. A module importing a name from one
    of its own parent packages is left out: importing the module has already imported its parents."""
    mods = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in mods.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in mods else base for alias in node.names]
            else:
                continue
            for name in names:
                target = resolve(name)
                if target and target != module and not module.startswith(target + "."):
                    targets.add(target)
        graph[module] = targets
    return graph


def _cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A chain of imports from ``start`` back to ``start``, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        module, chain = stack.pop()
        for target in sorted(graph[module]):
            if target == start:
                return [*chain, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*chain, target]))
    return None


def test_the_walker_sees_imports_inside_functions():
    graph = _import_graph()
    assert "szsl.features" in graph["szsl.data.generic"]  # _extract imports it lazily
    assert "szsl.data.tables" in graph["szsl.features"]


def test_no_import_cycles():
    graph = _import_graph()
    cycles = [chain for module in sorted(graph) if (chain := _cycle_through(graph, module))]
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(chain) for chain in cycles)


@pytest.mark.parametrize("module", ["szsl.data.generic", "szsl.features", "szsl.data.tables"])
def test_module_imports_first_in_a_fresh_interpreter(module):
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = f"import importlib, sys; m = importlib.import_module({module!r}); assert m.__file__.startswith({str(SRC)!r}), m.__file__"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr


def test_the_library_never_imports_the_cli():
    """Only the command layer (``szsl.cli``, ``szsl.__main__``, ``szsl.commands``) may import ``szsl.cli``:
    the library's loops get their signal state from ``szsl.signals``."""
    graph = _import_graph()
    assert "szsl.signals" in graph["szsl.tune"]
    command_layer = ("szsl.cli", "szsl.__main__", "szsl.commands")
    offenders = sorted(m for m, targets in graph.items() if "szsl.cli" in targets and not m.startswith(command_layer))
    assert offenders == []
