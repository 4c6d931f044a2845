"""No store module keeps state per thread or per context: a transaction reaches a store only
as an argument (store/transaction.py), never found again on the side."""

from __future__ import annotations

import ast
from pathlib import Path

import otpgate.store

AMBIENT = {"local", "ContextVar"}  # threading.local(), contextvars.ContextVar(...)


def ambient_state_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.alias):
            name = node.name
        if name in AMBIENT:
            found.append(f"{path.name}:{node.lineno}: {name}")
    return found


def test_no_store_module_keeps_thread_local_or_context_state() -> None:
    package = Path(otpgate.store.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 10
    assert [hit for module in modules for hit in ambient_state_in(module)] == []


def test_the_check_finds_thread_local_state(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import threading\n_writing = threading.local()\n")
    assert ambient_state_in(sample) == ["sample.py:2: local"]
