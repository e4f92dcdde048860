"""The import direction the README promises: the console, the portal and the mailer call the
store; nothing calls the console; inside the store, imports run one way (no cycles), so a
newcomer can read it from the records up to the use cases."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("store", "tui", "portal", "mailer", "cli")


def imports_of(path: Path, package: str) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function, as dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from .x import y
                base = package if node.level == 1 else ""
                module = f"{base}.{node.module}" if node.module else base
                names = [f"{module}.{alias.name}" for alias in node.names] + [module]
            else:
                names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            found.update(names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def modules(package: str) -> dict[str, Path]:
    folder = ROOT.joinpath(*package.split("."))
    found = {f"{package}.{p.stem}": p for p in folder.glob("*.py") if p.stem != "__init__"}
    assert found, f"no modules in {package}"
    return found


def test_the_store_imports_no_other_part():
    for name, path in modules("store").items():
        outside = {m for m in imports_of(path, "store") if not m.startswith("store")}
        assert not outside, f"{name} imports {outside}"


def test_nothing_imports_the_command_line():
    """`cli` builds the program from the parts; no part depends on how it was started."""
    for package in ("store", "tui", "portal", "mailer"):
        for name, path in modules(package).items():
            assert not {m for m in imports_of(path, package) if m.startswith("cli")}, name


def test_the_console_is_only_textual_over_the_store():
    """tui/ imports the store, never the portal or the mailer: the program hands it its mailer."""
    for package in ("tui", "tui.screens", "tui.widgets"):
        for name, path in modules(package).items():
            assert not {m for m in imports_of(path, package) if m.split(".")[0] in ("portal", "mailer")}, name


def test_the_portal_and_the_mailer_never_import_the_console():
    for package in ("portal", "mailer"):
        for name, path in modules(package).items():
            assert not {m for m in imports_of(path, package) if m.startswith("tui")}, name


def test_store_modules_import_one_way():
    """No two store modules import each other, directly or round a longer loop."""
    store = modules("store")
    graph = {name: {m for m in store if m != name and any(i == m or i.startswith(m + ".")
                                                          for i in imports_of(path, "store"))}
             for name, path in store.items()}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, "import cycle: " + " -> ".join(trail[trail.index(name):] + (name,))
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, trail + (name,))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
