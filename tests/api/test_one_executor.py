"""Every route leaves the event loop one way: `await runtime.run(call)` (docs/performance.md).

A plain `def` route or dependency runs in Starlette's thread pool, and `run_in_threadpool`,
`to_thread` or `run_in_executor` each pick another way; on SQLite that would reach the group
commit by a second path."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from fastapi.routing import APIRoute
from starlette.routing import Route

import otpgate
from otpgate.api.routes import outbox, verifications
from otpgate.server import routers

EDGES = [Path(otpgate.__file__).parent / edge for edge in ("api", "compat")]
OTHER_WAYS = {"run_in_threadpool", "to_thread", "run_in_executor", "run_sync"}


def names_used(tree: ast.AST) -> set[str]:
    """Every name imported, read or called as an attribute, anywhere in the module."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.update(alias.name for alias in node.names)
            found.update((node.module or "").split("."))
        elif isinstance(node, ast.Import):
            found.update(part for alias in node.names for part in alias.name.split("."))
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Name):
            found.add(node.id)
    return found


def test_no_edge_module_picks_its_own_way_off_the_event_loop() -> None:
    modules = [path for edge in EDGES for path in sorted(edge.rglob("*.py"))]
    assert len(modules) > 20, modules
    offending = {
        str(path.relative_to(EDGES[0].parent)): sorted(names_used(ast.parse(path.read_text())))
        for path in modules
        if names_used(ast.parse(path.read_text())) & OTHER_WAYS
    }
    assert offending == {}


def test_the_scan_finds_another_way_when_there_is_one() -> None:
    module = "from starlette.concurrency import run_in_threadpool\nasyncio.to_thread(f)\n"
    assert names_used(ast.parse(module)) >= {"run_in_threadpool", "to_thread"}


def test_no_route_or_dependency_is_a_plain_def() -> None:
    plain = [*verifications.plain_routes, *outbox.plain_routes]
    routes = [*plain, *(route for router in routers() for route in router.routes)]
    checked, threaded = 0, []
    for route in routes:
        assert isinstance(route, Route | APIRoute), route
        calls = [route.endpoint]
        if isinstance(route, APIRoute):
            calls += [dependency.call for dependency in route.dependant.dependencies]
        for call in calls:
            checked += 1
            target = call if inspect.isfunction(call) else type(call).__call__
            if not inspect.iscoroutinefunction(target):
                threaded.append(f"{route.path} {call}")
    assert checked > 80
    assert threaded == []
