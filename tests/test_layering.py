"""The package boundaries the design depends on."""
import ast
from pathlib import Path

import index

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_ingest_never_imports_index():
    for path in (ROOT / "ingest").glob("*.py"):
        if path.name == "__main__.py":  # the command's entry point, not the library
            continue
        assert "index" not in imported_modules(path), path.name


def test_app_uses_only_the_public_api_of_index():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("index"):
            assert node.module == "index", node.module
            assert all(a.name in index.__all__ for a in node.names)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            assert not (module or "").startswith("ingest")
