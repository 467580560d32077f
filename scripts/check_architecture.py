"""The package graph of app/: no import cycle between its packages, and no package below the
HTTP layer (app/api: the JSON API and the operators' console, app/api/console) imports it or
Flask's request objects.

A node is a name directly under app/: a package (app/members, app/points, app/mall, ...) or a
top-level module (app/clock.py, app/db_helpers.py, ...). Every import counts, read with `ast`
from the source: at module level, inside a function (a late import delays a dependency, it
does not remove it), under `if TYPE_CHECKING:`, relative or absolute. app/__init__.py is left
out: it is the app factory, which wires every package together, and Python runs it before any
module of app anyway, so it sits in no layer.

Flask's request objects (`request`, `g`, `session`) belong to the HTTP layer too: a service
reading them works only inside a request, never in a job or the command line. Any file
outside app/api that imports one from flask (or flask.globals), or reads
`flask.request` and the like after `import flask`, is named, app/__init__.py included.

Run it from anywhere: `python scripts/check_architecture.py` prints the graph and exits 1
naming each cycle (with the imports that make it), each forbidden import of app/api and each
use of a request object below it.
tests/test_architecture.py runs the same check in the suite. Standard library only.
"""
import ast
import sys
from collections import defaultdict, deque
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
# The HTTP layer, and who besides itself may import it: the command line reuses the API's input
# schemas (app/__init__.py, which registers the blueprints, is outside the graph).
HTTP_USERS = {"api": {"cli"}}
REQUEST_OBJECTS = {"request", "g", "session"}

Graph = dict[str, dict[str, list[str]]]  # node → node it imports → where ("app/x/y.py:12")


def import_graph(app_dir: Path = APP) -> Graph:
    graph: Graph = defaultdict(lambda: defaultdict(list))
    for path in sorted(app_dir.rglob("*.py")):
        parts = path.relative_to(app_dir).with_suffix("").parts
        if parts == ("__init__",):
            continue
        source, package = parts[0], parts[:-1]  # package: where the file is, under app
        graph[source]  # a node even if it imports nothing
        where = path.relative_to(app_dir.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for target in _imported(node, package, app_dir):
                if target != source:
                    graph[source][target].append(f"{where}:{node.lineno}")
    return graph


def _imported(node: ast.AST, package: tuple[str, ...], app_dir: Path) -> list[str]:
    """The nodes of app that an import statement names (`package`: where the importing file is, under app)."""
    if isinstance(node, ast.Import):
        return [name for alias in node.names if (name := _node_of(alias.name.split(".")))]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:  # relative: from the importing file's package, `level - 1` packages up
        base = ("app", *package[:len(package) - node.level + 1])
    else:
        base = ()
    module = (*base, *(node.module.split(".") if node.module else ()))
    if module == ("app",):  # `from app import clock`: the name is the node, if it is one
        return [alias.name for alias in node.names if _exists(app_dir, alias.name)]
    return [name] if (name := _node_of(module)) else []


def request_object_uses(app_dir: Path = APP) -> dict[str, list[str]]:
    """Node outside the HTTP layers → where it takes a Flask request object ("app/x/y.py:3 g")."""
    uses = defaultdict(list)
    for path in sorted(app_dir.rglob("*.py")):
        parts = path.relative_to(app_dir).with_suffix("").parts
        if parts[0] in HTTP_USERS:
            continue
        where = path.relative_to(app_dir.parent)
        for node, name in _request_objects(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            uses[parts[0]].append(f"{where}:{node.lineno} {name}")
    return uses


def _request_objects(module: ast.Module) -> list[tuple[ast.AST, str]]:
    """Each `from flask import request` (or flask.globals) and each `flask.request` read of `import flask [as f]`."""
    flask_names = {alias.asname or "flask" for node in ast.walk(module) if isinstance(node, ast.Import)
                   for alias in node.names if alias.name == "flask"}
    found = []
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask.globals"):
            found += [(node, alias.name) for alias in node.names if alias.name in REQUEST_OBJECTS]
        elif (isinstance(node, ast.Attribute) and node.attr in REQUEST_OBJECTS
              and isinstance(node.value, ast.Name) and node.value.id in flask_names):
            found.append((node, f"flask.{node.attr}"))
    return sorted(found, key=lambda use: use[0].lineno)


def _node_of(module: tuple[str, ...] | list[str]) -> str | None:
    return module[1] if len(module) > 1 and module[0] == "app" else None


def _exists(app_dir: Path, name: str) -> bool:
    return (app_dir / f"{name}.py").exists() or (app_dir / name / "__init__.py").exists()


def _shortest_cycle(graph: Graph, group: set[str], start: str) -> list[str]:
    """Breadth first from `start` back to it, inside the group (which holds such a path)."""
    paths, seen = deque([[start]]), {start}
    while True:
        path = paths.popleft()
        for target in sorted(graph[path[-1]]):
            if target == start:
                return [*path, start]
            if target in group and target not in seen:
                seen.add(target)
                paths.append([*path, target])


def _strongly_connected(graph: Graph) -> list[set[str]]:
    """Tarjan's algorithm: the groups of more than one node, each node reaching every other."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while (member := stack.pop()) != node:
                on_stack.discard(member)
                group.add(member)
            on_stack.discard(node)
            if group:
                groups.append(group | {node})

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups, key=min)


def problems(app_dir: Path = APP) -> list[str]:
    """Each cycle, each import of app/api from below it and each request object used below it,
    with the imports at fault."""
    graph = import_graph(app_dir)
    found = []
    for group in _strongly_connected(graph):
        cycle = _shortest_cycle(graph, group, min(group))
        found.append(f"cycle: {' -> '.join(cycle)} ("
                     + "; ".join(f"{graph[a][b][0]} imports app.{b}" for a, b in zip(cycle, cycle[1:])) + ")"
                     + (f"; and all of {', '.join(sorted(group))} reach one another" if len(group) > 2 else ""))
    for layer, users in HTTP_USERS.items():
        for source in sorted(graph):
            if source != layer and source not in users and layer in graph[source]:
                found.append(f"{source} imports app.{layer} (HTTP only: domain code never does): "
                             + ", ".join(graph[source][layer]))
    for source, uses in sorted(request_object_uses(app_dir).items()):
        found.append(f"{source} uses Flask's request objects (HTTP only: domain code never does): "
                     + ", ".join(uses))
    return found


def main() -> int:
    graph = import_graph()
    for source in sorted(graph):
        print(f"{source} -> {', '.join(sorted(graph[source])) or '(nothing)'}")
    if found := problems():
        print("\n" + "\n".join(found), file=sys.stderr)
        return 1
    print("\nno cycle; only app/__init__.py and app/cli.py import app/api; only app/api uses Flask's request objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
