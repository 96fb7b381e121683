"""The import graph of `journey` and `flows`, read from the source with `ast` (nothing is imported).

    python scripts/import_graph.py            # cycles, function-level imports, module sizes
    python scripts/import_graph.py --check    # the same, failing on a cycle or a module over 400 lines (make lint)
    python scripts/import_graph.py --dot      # the package-level graph in Graphviz's language

A cycle counts every import, at module level or inside a function: a function-level import that dodges a
cycle is still a cycle. Function-level imports of outside libraries (Prefect's ~0.8 s, say) are listed
apart: they are lazy on purpose. A function-level import of a journey/flows module is allowed only in the
faces (journey/cli, whose commands import what they use so `journey --help` stays fast; journey/app.py,
journey/scheduler.py, journey/runner_process.py), or on a line that says why: `# lazy: <reason>`.
The web pages build no SQL: journey/web imports nothing of SQLAlchemy but the `Session` type it hands to the
repositories (journey/web/repository.py, the sign-in sessions' own queries, excepted).
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("journey", "flows")
MAX_LINES = 400
FACES = ("journey.cli", "journey.app", "journey.scheduler", "journey.runner_process")
LAZY_MARK = "# lazy:"
SQL_FREE = ("journey.web",)  # packages that call repositories and never build SQL themselves
SQL_ALLOWED = frozenset({"sqlalchemy.orm.Session"})  # the transaction handle they pass down, as a type


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    nested_internal: list[tuple[str, int, str]] = field(default_factory=list)  # (module, line, target)
    nested_external: list[tuple[str, int, str]] = field(default_factory=list)
    unexplained: list[tuple[str, int, str]] = field(default_factory=list)  # nested_internal outside the faces
    sql_outside: list[tuple[str, int, str]] = field(default_factory=list)  # SQLAlchemy in a SQL_FREE package


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_face(module: str) -> bool:
    return any(module == face or module.startswith(f"{face}.") for face in FACES)


def builds_no_sql(module: str) -> bool:
    if module.rpartition(".")[2] == "repository":
        return False
    return any(module == package or module.startswith(f"{package}.") for package in SQL_FREE)


def _resolve(graph: Graph, name: str) -> str | None:
    """The longest known module that `name` (a module or module.attribute) falls in."""
    while name:
        if name in graph.modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _targets(node: ast.Import | ast.ImportFrom, current: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = current.split(".") if is_package else current.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [f"{base}.{alias.name}" for alias in node.names] or [base]


def build(root: Path = ROOT) -> Graph:
    graph = Graph()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            graph.modules[module_name(path)] = path
    for name, path in graph.modules.items():
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        nested = {id(n) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                  for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)}
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(block.test) for n in ast.walk(block)
                       if isinstance(n, ast.Import | ast.ImportFrom)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in typing_only:
                continue
            resolved = [(target, _resolve(graph, target))
                        for target in _targets(node, name, path.name == "__init__.py")]
            for target, internal in resolved:
                if internal is not None and internal != name:
                    graph.edges[name].add(internal)
                if (target.split(".")[0] == "sqlalchemy" and target not in SQL_ALLOWED and builds_no_sql(name)):
                    graph.sql_outside.append((name, node.lineno, target))
            if id(node) in nested:  # one statement, counted once
                target, internal = resolved[0]
                kept = graph.nested_internal if internal is not None else graph.nested_external
                kept.append((name, node.lineno, internal or target))
                if internal is not None and not is_face(name) and LAZY_MARK not in lines[node.lineno - 1]:
                    graph.unexplained.append((name, node.lineno, internal))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def long_modules(graph: Graph, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    sizes = ((name, len(path.read_text().splitlines())) for name, path in graph.modules.items())
    return sorted((item for item in sizes if item[1] > limit), key=lambda item: -item[1])


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "journey" and len(parts) > 1 else parts[0]


def dot(graph: Graph) -> str:
    edges = sorted({(package_of(a), package_of(b)) for a, targets in graph.edges.items() for b in targets
                    if package_of(a) != package_of(b) and not package_of(b).startswith("journey.models")})
    lines = ["digraph journey {", "  rankdir=LR; node [shape=box, fontsize=10];"]
    lines += [f'  "{a}" -> "{b}";' for a, b in edges]
    return "\n".join([*lines, "}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print the package graph for Graphviz")
    parser.add_argument("--list", action="store_true", help="list every function-level import")
    parser.add_argument("--check", action="store_true", help="fail on an import cycle, a module over the limit "
                        "an unexplained function-level import or SQL built in journey/web")
    args = parser.parse_args(argv)
    graph = build()
    if args.dot:
        print(dot(graph))
        return 0
    found = cycles(graph)
    print(f"modules: {len(graph.modules)}")
    print(f"import cycles (strongly connected groups of modules): {len(found)}")
    for component in found:
        print("  " + " <-> ".join(component))
    print(f"function-level imports of journey/flows modules: {len(graph.nested_internal)}")
    print(f"  of which outside the faces without a `{LAZY_MARK} <reason>` comment: {len(graph.unexplained)}")
    for module, line, target in graph.unexplained:
        print(f"    {module}:{line} -> {target}")
    print(f"function-level imports of outside libraries (lazy): {len(graph.nested_external)}")
    if args.list:
        for module, line, target in graph.nested_internal:
            print(f"  {module}:{line} -> {target}")
    print(f"SQLAlchemy imported in {', '.join(SQL_FREE)} (but the Session type and its repository): "
          f"{len(graph.sql_outside)}")
    for module, line, target in graph.sql_outside:
        print(f"  {module}:{line} -> {target}")
    too_long = long_modules(graph)
    print(f"modules over {MAX_LINES} lines: {len(too_long)}")
    for name, lines in too_long:
        print(f"  {name}: {lines}")
    return 1 if args.check and (found or too_long or graph.unexplained or graph.sql_outside) else 0


if __name__ == "__main__":
    raise SystemExit(main())
