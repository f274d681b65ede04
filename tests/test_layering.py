"""The package's layering, read from the source with `ast` (nothing is imported).

wae_jax.files (locks, atomic writes) imports nothing else from wae_jax; libraries
(losses, models, data, evaluation) never import the trainer or an application; the
trainer never imports an application; wae_jax.cli imports nothing from wae_jax.
Applications are the top-level modules beside wae_jax/main.py.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "wae_jax"
LIBRARIES = ("losses", "models", "data", "evaluation")
APPLICATIONS = tuple(f"wae_jax.{p.stem}" for p in sorted(PACKAGE.glob("*.py"))
                     if p.stem not in ("__init__", "cli"))


def imported_names(path: pathlib.Path) -> set[str]:
    """Every module (or module attribute) that `path` imports, at any depth, absolute."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(directory: pathlib.Path, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(PACKAGE.parent)} imports {name}"
            for path in sorted(directory.rglob("*.py")) for name in sorted(imported_names(path))
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


def test_imported_names_sees_nested_and_from_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import a.b\nfrom c import d\ndef f():\n    from e.f import g\n")
    assert imported_names(source) == {"a.b", "c", "c.d", "e.f", "e.f.g"}
    assert set(APPLICATIONS) >= {"wae_jax.main", "wae_jax.evaluate",
                                 "wae_jax.workdir_evaluation"}


@pytest.mark.parametrize("library", LIBRARIES)
def test_libraries_import_neither_the_trainer_nor_applications(library):
    assert violations(PACKAGE / library, ("wae_jax.training",) + APPLICATIONS) == []


def test_files_import_nothing_else_from_wae_jax():
    assert [name for path in sorted((PACKAGE / "files").glob("*.py"))
            for name in sorted(imported_names(path))
            if name.split(".")[0] == "wae_jax" and not name.startswith("wae_jax.files")] == []


def test_the_trainer_imports_no_application():
    assert violations(PACKAGE / "training", APPLICATIONS) == []


def test_cli_imports_nothing_from_wae_jax():
    assert not [name for name in imported_names(PACKAGE / "cli.py")
                if name.split(".")[0] == "wae_jax"]
