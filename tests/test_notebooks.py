"""Every notebook in notebooks/ runs top to bottom in a real Jupyter kernel (nbclient).

The kernel gets the small settings through the environment, as the notebooks' parameters
cells read them: SIZE "tiny" (WAE_JAX_NOTEBOOK_SIZE), the fabricated MNIST of
tests/conftest.py (WAE_JAX_DATA_DIR), a temporary workdir and a proxy-classifier cache
that all notebooks share. A cell error fails the test, and so does a cell that calls
plt.show() without leaving a PNG. Committed notebooks carry no outputs.
"""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

from tests import fast_compilation

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_there_are_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {"quickstart", "objectives", "augmentation", "sweeps"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_have_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.outputs and cell.execution_count is None
               for cell in _code_cells(notebook)), f"strip the outputs of {path.name}"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    """One proxy-classifier cache for all notebooks, as a user's: trained once."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_draws_its_figures(path, data_dir, cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("WAE_JAX_NOTEBOOK_SIZE", "tiny")
    monkeypatch.setenv("WAE_JAX_DATA_DIR", data_dir)
    monkeypatch.setenv("WAE_JAX_NOTEBOOK_WORKDIR", str(tmp_path / "workdirs"))
    monkeypatch.setenv("WAE_JAX_CACHE_DIR", cache_dir)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name, value in fast_compilation.ENV.items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    plotting = [cell for cell in _code_cells(notebook) if "plt.show()" in cell.source]
    assert plotting, f"{path.name} draws nothing"
    for cell in plotting:
        pngs = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert pngs, f"{path.name}: no figure from the cell\n{cell.source[:300]}"
