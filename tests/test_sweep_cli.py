"""python -m wae_jax.sweep without Ray: dry runs and one-line errors with status 2."""

import subprocess
import sys

import pytest

from tests.training.tiny import ROOT


def _sweep(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wae_jax.sweep", *flags], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_dry_run_prints_every_trial_and_starts_nothing(tmp_path):
    result = _sweep("--config=configs/bigwae_mnist.py:tiny", f"--workdir={tmp_path}",
                    "--dry_run", "--config.batch_size=16")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("12 members in 3 trials (at most 4 per population), each trial CPU=1")
    assert sum(line.startswith("trial ") for line in lines) == 3
    assert sum(line.startswith("  member ") for line in lines) == 12
    assert "method=wae_gan" in result.stdout and "lambda_=" in result.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written, no Ray


@pytest.mark.parametrize("flags, message", [
    (("--config=configs/mnist_mmd.py",), "declares no get_sweep"),
    (("--config=configs/bigwae_mnist.py:huge",), "use one of ('small', 'tiny')"),
])
def test_bad_input_is_one_line_with_status_2(tmp_path, flags, message):
    result = _sweep(*flags, f"--workdir={tmp_path}", "--dry_run")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr

