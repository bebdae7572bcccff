"""The layout docs/architecture.md describes, kept by a test: every service package has the
same skeleton, the domain does no I/O, nothing imports in a circle, and the ports have one
owner. Each check names the file that breaks it."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p for p in (ROOT / "services").glob("*/regia_*") if p.is_dir() and not p.name.endswith(".egg-info"))
PACKAGES = {
    **{p.name: p for p in SERVICES},
    "regia_shared": ROOT / "shared" / "regia_shared",
    "regia_console": ROOT / "console" / "regia_console",
    "regia": ROOT / "regia",
}
SKELETON = {
    "__init__.py",
    "__main__.py",
    "app.py",
    "config.py",
    "migrations",
    "domain",
    "service_layer",
    "adapters",
    "entrypoints",
}
DATA = {"templates"}  # package data beside the code (the annual review's HTML template)
# What a pure domain may not touch: databases, HTTP, the broker, the clock's I/O cousins.
IO_MODULES = (
    "asyncpg",
    "fastapi",
    "starlette",
    "httpx",
    "aiokafka",
    "faststream",
    "aiosmtplib",
    "smtplib",
    "uvicorn",
    "socket",
    "subprocess",
)


def python_files(package: Path) -> Iterator[Path]:
    yield from (p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(package: str, path: Path) -> str:
    rel = path.relative_to(PACKAGES[package]).with_suffix("")
    parts = [package, *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that `path` (module `name`) imports, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                found.add(candidate if candidate in known else module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


@pytest.mark.parametrize("service", SERVICES, ids=lambda p: p.name)
def test_every_service_has_the_same_skeleton(service: Path) -> None:
    entries = {p.name for p in service.iterdir() if p.name != "__pycache__"}
    assert entries - SKELETON - DATA == set(), f"{service.relative_to(ROOT)}: loose at the package root"
    assert SKELETON - entries == set(), f"{service.relative_to(ROOT)}: missing from the skeleton"
    assert (service / "domain" / "errors.py").is_file(), f"{service.relative_to(ROOT)}: no domain/errors.py"
    generic = [p.name for p in (service / "entrypoints").glob("*.py") if p.name in {"http.py", "handlers.py"}]
    assert generic == [], f"{service.relative_to(ROOT)}/entrypoints: name each router by what it serves"
    assert not list(service.rglob("handlers.py")), f"{service.relative_to(ROOT)}: a handlers.py says nothing"


@pytest.mark.parametrize("service", SERVICES, ids=lambda p: p.name)
def test_the_domain_does_no_io(service: Path) -> None:
    offending = []
    for path in python_files(service / "domain"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offending += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in IO_MODULES]
    assert offending == []


def test_nothing_imports_in_a_circle() -> None:
    files = {module_name(pkg, path): path for pkg, root in PACKAGES.items() for path in python_files(root)}
    graph = {name: imports_of(name, path, set(files)) for name, path in files.items()}
    cycles: list[list[str]] = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []


def test_ports_have_one_owner_and_routes_take_the_pool_as_a_dependency() -> None:
    catalogue = PACKAGES["regia_shared"] / "contracts" / "catalogue.py"
    copies, reaching = [], []
    for root in PACKAGES.values():
        for path in python_files(root):
            text = path.read_text()
            if path != catalogue:
                for node in ast.walk(ast.parse(text)):
                    value = node.value if isinstance(node, ast.Constant) else None
                    if (isinstance(value, int) and 8100 <= value <= 8104) or (
                        isinstance(value, str) and re.search(r"://[^\s/]*:810[0-4]\b", value)
                    ):
                        copies.append(f"{path.relative_to(ROOT)}:{node.lineno}: {value!r}")
            if "app.state.runtime.pool" in text:
                reaching.append(str(path.relative_to(ROOT)))
    assert copies == [], "a port copied outside regia_shared.contracts.catalogue"
    assert reaching == [], "use regia_shared.http.dependencies.DatabasePool"
