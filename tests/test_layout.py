"""The package layout holds: the adapters (api/, cli/) neither import the tables nor SQLAlchemy (they read through
``realname.registry.queries`` and the use cases), and no two packages import each other, however indirectly.

Imports are read from the source with ``ast`` (every ``import x`` and ``from x import y``, at module level or
inside a function, under ``TYPE_CHECKING`` too: a lazy or typing-only import is still a dependency).

The graph's nodes are the subpackages of ``realname`` (``api``, ``registry``, ``supervision``, ...) and its
top-level modules (``context``, ``faces``, ``live_check``, ``config``, ...), each a node of its own: a top-level
module is a room like a package is, one that happens to fit in a file, and folding them all into one root node
would invent cycles between unrelated rooms (``registry -> errors`` and ``context -> registry`` would make
``registry`` and ``context`` one strongly connected lump). ``realname/__init__.py`` itself is the node
``realname``. An edge A -> B means some module of A imports something of B; imports inside one package are
not edges.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "realname"
ADAPTERS = ("api", "cli")
FORBIDDEN_IN_ADAPTERS = "realname.registry.tables"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), path


def imported(name: str, source: str, is_package: bool = False) -> Iterator[tuple[str, int]]:
    """Every module the module ``name`` (its ``source``) imports, with the line: for ``from x import y`` both
    ``x`` and ``x.y`` (``y`` may be a submodule; a name that is not one is harmless here)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")
                parent = ".".join(base[:len(base) - node.level + (1 if is_package else 0)])
                target = f"{parent}.{node.module}" if node.module else parent
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno


def imports_of(name: str, path: Path) -> Iterator[tuple[str, int]]:
    return imported(name, path.read_text(encoding="utf-8"), path.name == "__init__.py")


def table_imports(name: str, source: str) -> list[int]:
    """The lines where module ``name`` imports the tables module or something from it."""
    return sorted({line for target, line in imported(name, source)
                   if target == FORBIDDEN_IN_ADAPTERS or target.startswith(FORBIDDEN_IN_ADAPTERS + ".")})


def node_of(module: str) -> str | None:
    """The graph node a ``realname`` module belongs to (None for modules outside the package)."""
    parts = module.split(".")
    if parts[0] != "realname":
        return None
    if len(parts) == 1:
        return "realname"
    first = parts[1]
    if (PACKAGE / first).is_dir() or (PACKAGE / f"{first}.py").is_file():
        return first
    return "realname"  # a name defined in realname/__init__.py (``from realname import __version__``)


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in modules():
        source = node_of(name)
        assert source is not None
        edges = graph.setdefault(source, set())
        for target, _ in imports_of(name, path):
            node = node_of(target)
            if node is not None and node != source:
                edges.add(node)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path (first node repeated at the end), or None when the graph is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def adapter_modules() -> list[tuple[str, Path]]:
    found = [(name, path) for name, path in modules() if name.count(".") and name.split(".")[1] in ADAPTERS]
    assert {name.split(".")[1] for name, _ in found} == set(ADAPTERS), "the adapters' modules were not found"
    return found


def test_adapters_do_not_import_the_tables() -> None:
    offenders = [f"{path.relative_to(SRC.parent)}:{line}" for name, path in adapter_modules()
                 for line in table_imports(name, path.read_text(encoding="utf-8"))]
    assert not offenders, "api/ and cli/ read through realname.registry.queries; these import the tables:\n" + \
        "\n".join(offenders)


def test_adapters_do_not_import_sqlalchemy() -> None:
    """No queries of their own either: database errors and URLs come through realname.registry.db."""
    offenders = {f"{path.relative_to(SRC.parent)}:{line}": target for name, path in adapter_modules()
                 for target, line in reversed(list(imports_of(name, path))) if target.split(".")[0] == "sqlalchemy"}
    assert not offenders, "\n".join(f"{where} imports {target}" for where, target in sorted(offenders.items()))


def test_every_kind_of_table_import_is_seen() -> None:
    """The check above would see an import however it is written: plain, from, from the package, inside a
    function, typing-only, relative."""
    source = """
import realname.registry.tables as t
from realname.registry.tables import Person
from realname.registry import tables
from realname.registry import db
from realname.registry.queries import Window

def f():
    from realname.registry.tables import Registration

if TYPE_CHECKING:
    from realname.registry.tables import Verification
"""
    assert table_imports("realname.api.probe", source) == [2, 3, 4, 9, 12]
    assert table_imports("realname.api.routes.probe", "from ...registry import tables") == [1]
    assert table_imports("realname.api.probe", "from ..registry.tables import User") == [1]
    assert table_imports("realname.api.routes.probe", "from ..registry.tables import User") == []  # api.registry


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    assert {"api", "cli", "registry", "supervision", "context"} <= set(graph), sorted(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "packages import each other: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y2"}, "y2": {"y"}}) == ["y", "y2", "y"]
