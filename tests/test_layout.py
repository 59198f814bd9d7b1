"""The tree shows the architecture (README, Layout): capabilities in packages, views in
``api/``, Flask only in the views and the service's plumbing, and no import circle."""
import ast
import pathlib

BACKEND = pathlib.Path(__file__).resolve().parent.parent / "backend"
TOP_LEVEL_MODULES = {"__init__.py", "cli.py"}
FLASK_ALLOWED = ("backend.api", "backend.service", "backend.cli", "backend")


def _modules():
    for path in sorted(BACKEND.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(BACKEND.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        yield name, is_package, ast.parse(path.read_text(), str(path))


MODULES = {name: (is_package, tree) for name, is_package, tree in _modules()}


def _imports(name, is_package, tree):
    """Every backend module this one imports, at the top or inside a function."""
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                yield submodule if submodule in MODULES else module


def _graph():
    return {name: {m for m in _imports(name, *MODULES[name]) if m in MODULES and m != name}
            for name in MODULES}


def test_no_module_directly_under_backend_but_the_factory_and_the_cli():
    flat = {p.name for p in BACKEND.glob("*.py")}
    assert flat == TOP_LEVEL_MODULES


def test_every_package_says_what_lives_there():
    for init in BACKEND.rglob("__init__.py"):
        if "migrations" not in init.parts:
            assert ast.get_docstring(ast.parse(init.read_text())), init


def test_no_flask_below_the_views():
    for name, (is_package, tree) in MODULES.items():
        if name.startswith(FLASK_ALLOWED[:3]) or name == "backend":
            continue
        imported = {n.names[0].name if isinstance(n, ast.Import) else n.module or ""
                    for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))}
        assert not {m for m in imported if m.split(".")[0] in ("flask", "flask_login")}, name


def test_no_import_circle_inside_backend():
    graph = _graph()
    state, path = {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                raise AssertionError("import circle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_views_are_not_imported_by_the_domain():
    graph = _graph()
    for name, imported in graph.items():
        if not name.startswith(("backend.api", "backend.cli")) and name != "backend":
            assert not {m for m in imported if m.startswith("backend.api")}, name
