"""No dead code in src/szsl: every top-level function (and every method) is used somewhere in
src/szsl or benchmarks/, not only by the tests (a check the tests need lives in the tests)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _defined_and_used() -> tuple[dict[str, str], set[str]]:
    defined, used = {}, set()
    for root in (REPO / "src" / "szsl", REPO / "benchmarks"):
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if root.name == "szsl":
                for node in tree.body:
                    members = node.body if isinstance(node, ast.ClassDef) else [node]
                    for fn in members:
                        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and not fn.name.startswith("__"):
                            defined.setdefault(fn.name, str(path.relative_to(REPO)))
            for node in ast.walk(tree):
                if isinstance(node, ast.Name):
                    used.add(node.id)
                elif isinstance(node, ast.Attribute):
                    used.add(node.attr)
                elif isinstance(node, ast.alias):
                    used.add(node.name.rpartition(".")[2])
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):  # names in __all__, registries, getattr
                    used.update(node.value.replace(",", " ").replace('"', " ").split())
    return defined, used


def test_the_scan_sees_definitions_and_uses():
    defined, used = _defined_and_used()
    assert defined["zsl_top1"] == "src/szsl/metrics.py" and "zsl_top1" in used
    assert "resolve_device" in used and "Method" in used


def test_no_function_only_the_tests_call():
    defined, used = _defined_and_used()
    assert {name: where for name, where in defined.items() if name not in used} == {}
