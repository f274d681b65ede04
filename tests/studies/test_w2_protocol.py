"""configs/augment_w2_mnist.py:tiny end to end through `python -m wae_jax.augment`."""

import csv
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from configs import augment_w2_mnist
from tests import fast_compilation
from tests.training.tiny import ROOT
from wae_jax.files import file_lock
from wae_jax.studies.augmentation import w2_protocol
from wae_jax.training import population
from wae_jax.training.validation import ConfigError


def test_lambdas_are_uniform_draws_per_run():
    config = augment_w2_mnist.get_config()
    lambdas = np.array(w2_protocol.population_config(config, "w2vae").population.lambda_)
    assert len(lambdas) == 30 and lambdas.min() >= 0 and lambdas.max() < 20
    assert len(set(lambdas)) == 30
    same = w2_protocol.population_config(config, "vae").population.lambda_
    np.testing.assert_array_equal(same, lambdas)  # both objectives see the same lambdas


def test_groups_of_runs_are_the_whole_populations_members():
    config = augment_w2_mnist.get_config()
    assert w2_protocol.run_groups(config) == [range(0, 10), range(10, 20), range(20, 30)]
    whole = w2_protocol.population_config(config, "w2vae")
    group = w2_protocol.group_config(config, "w2vae", range(10, 20))
    assert group.population.size == 10
    for j in range(10):
        member = population.member_config(group, j)
        assert (member.seed, member.lambda_) == (
            config.training.seed + 10 + j, whole.population.lambda_[10 + j])
        assert member.to_dict() == population.member_config(whole, 10 + j).to_dict()
    config.num_runs = 31  # never a group of one run
    assert [len(r) for r in w2_protocol.run_groups(config)] == [11, 10, 10]
    config.num_runs, config.runs_per_population = 3, 2
    assert w2_protocol.run_groups(config) == [range(0, 3)]


def test_best_run_skips_flagged_runs_unless_all_are():
    rows = [dict(objective="w2vae", flagged=True, diverged=False, selection_value=1.0),
            dict(objective="w2vae", flagged=False, diverged=False, selection_value=2.0),
            dict(objective="w2vae", flagged=False, diverged=True, selection_value=0.5)]
    assert w2_protocol.best_run(rows) is rows[1]
    assert w2_protocol.best_run([rows[0]]) is rows[0]


def test_tiny_run_writes_both_csvs_and_the_tables(tmp_path, data_dir):
    env = {**os.environ, "WAE_JAX_CACHE_DIR": str(tmp_path / "cache"), **fast_compilation.ENV}
    command = [sys.executable, "-m", "wae_jax.augment",
               "--config=configs/augment_w2_mnist.py:tiny", f"--config.data_dir={data_dir}",
               f"--workdir={tmp_path / 'w2'}"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / "w2" / "results_w2.csv", newline="") as f:
        results = list(csv.DictReader(f))
    assert list(results[0]) == ["dataset", "objective", "train_size", "seed", "accuracy"]
    assert [(r["objective"], r["train_size"]) for r in results] == [
        (o, n) for n in ("20", "40") for o in ("none", "vae", "w2vae")]
    with open(tmp_path / "w2" / "runs_w2.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    runs_typed = w2_protocol.read_runs(augment_w2_mnist.get_config("tiny"), tmp_path / "w2")
    assert [(r["objective"], r["member"]) for r in runs] == [
        ("vae", "0"), ("vae", "1"), ("w2vae", "0"), ("w2vae", "1")]
    for run in runs:  # a W2-VAE run is flagged exactly when its final T is positive
        if run["objective"] == "w2vae":
            assert (run["flagged"] == "True") == (float(run["T_final"]) > 0)
        assert float(run["test_classifier_fd"]) >= 0
        log = (tmp_path / "w2" / run["objective"] / "runs_0-1" / "members" / run["member"]
               / "metrics.jsonl")
        kls = [json.loads(line)["train/kl"] for line in log.read_text().splitlines()
               if "train/kl" in line]
        assert float(run["kl_final"]) == pytest.approx(kls[-1], abs=1e-5)
        assert (run["collapsed"] == "True") == (kls[-1] < 0.01)
    assert "| w2vae | 2 |" in (tmp_path / "w2" / "w2_tables.md").read_text()

    # On another machine only runs_w2.csv is left: no group is trained again, each best
    # run is retrained alone from its solo config, and the augmentation runs again.
    for name in ("vae", "w2vae", "results_w2.csv"):
        shutil.rmtree(tmp_path / "w2" / name, ignore_errors=True)
        (tmp_path / "w2" / name).unlink(missing_ok=True)
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "w2").glob("*/run*")) == sorted(
        f"run_{w2_protocol.best_run([r for r in runs_typed if r['objective'] == o])['member']}"
        "_solo" for o in ("vae", "w2vae"))
    with open(tmp_path / "w2" / "runs_w2.csv", newline="") as f:
        assert list(csv.DictReader(f)) == runs
    with open(tmp_path / "w2" / "results_w2.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(results)
    notes = re.findall(r"(\w+): the best run \((\d)\) was retrained alone.*? "
                       r"classifier_fd (\S+) in the population, (\S+) retrained",
                       (tmp_path / "w2" / "w2_tables.md").read_text())
    assert [n[0] for n in notes] == ["vae", "w2vae"]
    for _, member, population_score, solo_score in notes:  # a member is its solo run
        assert float(solo_score) == pytest.approx(float(population_score), rel=1e-3)


def test_bad_w2_config_names_the_field():
    config = augment_w2_mnist.get_config("tiny")
    config.num_runs = 1
    with pytest.raises(ConfigError, match=r"config.num_runs=1: use an integer >= 2"):
        w2_protocol.check_config(config)
    config = augment_w2_mnist.get_config("tiny")
    config.runs_per_population = 3
    with pytest.raises(ConfigError, match=r"config.runs_per_population=3: use 2 to num_runs"):
        w2_protocol.check_config(config)
    config = augment_w2_mnist.get_config("tiny")
    config.groups = (1,)
    with pytest.raises(ConfigError, match=re.escape("config.groups=(1,): use indices 0..0")):
        w2_protocol.check_config(config)
    config = augment_w2_mnist.get_config("tiny")
    config.test_metrics = ("classifier_fd", "fid")
    with pytest.raises(ConfigError, match=r"config.test_metrics=.*inception_metrics"):
        w2_protocol.check_config(config)


@pytest.mark.parametrize("field, value, message", [
    ("holdout", 3005, "config.holdout=3005: use a positive multiple of the 10 classes"),
    ("train_sizes", (), "config.train_sizes=(): use at least one entry"),
    ("train_sizes", (20, 25), "config.train_sizes=(20, 25): entries [25]: use a positive"),
    ("generated_images", 0, "config.generated_images=0: use an integer >= 1"),
    ("eval_samples", 1, "config.eval_samples=1: use an integer >= 2"),
    ("seeds", (), "config.seeds=(): use at least one entry"),
    ("objectives", ("wae",), "config.objectives=('wae',): entries ['wae']: use one of"),
    ("inception_metrics", ("classifier_fd",), "config.inception_metrics=('classifier_fd',)"),
    ("dataset", "celeb_a_64", "config.dataset='celeb_a_64': use a labelled dataset"),
    ("classifier.num_classes", 5, "config.classifier.num_classes=5: mnist has 10 classes"),
])
def test_every_w2_field_is_checked_before_any_work(field, value, message):
    """Before, a bad holdout, train size or sample count failed after all the runs."""
    config = augment_w2_mnist.get_config("tiny")
    *parents, leaf = field.split(".")
    (config[parents[0]] if parents else config)[leaf] = value
    with pytest.raises(ConfigError, match=re.escape(message)):
        w2_protocol.check_config(config)


def test_split_sizes_the_data_cannot_hold_are_refused(data_dir, monkeypatch):
    """The fabricated train split has 6 images of its smallest class, the test split 1."""
    config = augment_w2_mnist.get_config("tiny")
    config.data_dir, config.train_sizes, config.holdout = data_dir, (20, 60), 10
    w2_protocol.check_split_sizes(config)
    config.train_sizes = (20, 70)
    with pytest.raises(ConfigError, match=re.escape(
            "config.train_sizes=(20, 70): the train split has 6 images of its smallest "
            "class; use at most 60")):
        w2_protocol.check_split_sizes(config)
    monkeypatch.setattr(w2_protocol.arrays, "num_examples", lambda *args: 70)
    w2_protocol.check_split_sizes(config)  # the whole split is taken, not drawn
    config.holdout = 20
    with pytest.raises(ConfigError, match=re.escape(
            "config.holdout=20: the test split has 1 images of its smallest class; use at "
            "most 10")):
        w2_protocol.check_split_sizes(config)


def test_each_metric_group_is_scored_once_with_its_own_sample_count(tmp_path, monkeypatch):
    """eval_test/ holds the proxy metrics of eval_samples samples, eval_test_inception/ FID
    and KID of inception_samples against inception_reference_n test images; a rerun reads
    them back, and only a group whose file lacks a metric or sample count is evaluated."""
    calls = []

    def fake_evaluate(workdir, *, num_samples, metrics, reference_split, reference_n,
                      output_dir, batch_size):
        calls.append((os.path.basename(output_dir), num_samples, metrics, reference_n))
        results = {"num_samples": num_samples,
                   **{m: {"value": 10.0 * len(m) + num_samples} for m in metrics}}
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "eval.json"), "w") as f:
            json.dump(results, f)
        return results

    monkeypatch.setattr(w2_protocol.workdir_evaluation, "evaluate_workdir", fake_evaluate)
    config = augment_w2_mnist.get_config()
    config.inception_metrics = ("fid",)
    row = {"workdir": str(tmp_path)}
    expected = {"classifier_fd": 130.0 + 2000, "fid": 30.0 + 200}
    assert w2_protocol.test_scores(config, row) == expected
    assert calls == [("eval_test", 2000, ("classifier_fd",), None),
                     ("eval_test_inception", 200, ("fid",), 2000)]
    assert w2_protocol.test_scores(config, row) == expected and len(calls) == 2
    config.inception_metrics = ("fid", "kid")
    assert w2_protocol.test_scores(config, row)["kid"] == 30.0 + 200
    assert calls[2:] == [("eval_test_inception", 200, ("fid", "kid"), 2000)]
    config.inception_samples, config.inception_reference_n = 500, 0
    w2_protocol.test_scores(config, row)
    assert calls[3:] == [("eval_test_inception", 500, ("fid", "kid"), None)]


def test_summary_tests_the_training_sets_against_each_other_over_paired_cells():
    """The significance lines of w2_tables.md against scipy on the same accuracies; a cell
    missing one training set is left out of the pairs."""
    rng = np.random.default_rng(0)
    cells = [(n, s) for n in (10, 20, 30) for s in (0, 1, 2)]
    config = augment_w2_mnist.get_config()
    correct = {o: rng.integers(2900, 2990, len(cells)) for o in ("none", "vae", "w2vae")}
    correct["w2vae"][:3] = correct["vae"][:3] + [3, -3, 0]  # tied |differences| and a zero
    results = [{"dataset": "mnist", "objective": o, "train_size": n, "seed": s,
                "accuracy": round(correct[o][i] / config.holdout, 5)}
               for i, (n, s) in enumerate(cells) for o in correct]
    results.append({"dataset": "mnist", "objective": "none", "train_size": 40, "seed": 0,
                    "accuracy": 0.5})
    lines = w2_protocol.accuracy_significance(config, results)
    assert "over 9 paired (size, seed) cells" in lines[1]
    for row_name, column, a, b in (("none", 2, "none", "vae"), ("vae", 3, "vae", "w2vae")):
        row = next(line for line in lines if line.startswith(f"| {row_name} |"))
        p = stats.wilcoxon(correct[a], correct[b]).pvalue
        wins = int(np.sum(correct[a] > correct[b]))
        assert [c.strip() for c in row.strip("| ").split("|")][column] == (
            f"p={p:.3g} (w={wins}/9)")


def test_runs_csv_of_another_num_runs_is_refused(tmp_path):
    config = augment_w2_mnist.get_config("tiny")
    row = {c: "0" for c in w2_protocol.run_columns(config)}
    row.update(dataset="mnist", objective="vae", member="5", flagged="False")
    with open(tmp_path / w2_protocol.RUNS_NAME, "w", newline="") as f:
        writer = csv.DictWriter(f, list(row))
        writer.writeheader()
        writer.writerow(row)
    with pytest.raises(ConfigError, match=r"config.num_runs=2: .* has run 5"):
        w2_protocol.read_runs(config, str(tmp_path))
    config.num_runs = 6
    assert w2_protocol.read_runs(config, str(tmp_path))[0]["workdir"].endswith(
        os.path.join("vae", "runs_4-5", "members", "1"))  # groups 0-1, 2-3, 4-5


def test_processes_train_disjoint_groups_and_the_last_one_selects(tmp_path, monkeypatch):
    """Two processes share a workdir with --groups=1 then --groups=0: each trains only its
    groups, and the selection and augmentation wait until runs_w2.csv holds every run."""
    config = augment_w2_mnist.get_config("tiny")
    config.num_runs, config.objectives = 4, ("vae",)  # groups 0-1 and 2-3
    trained, augmented = [], []

    def train(group, directory):
        trained.append((os.path.relpath(directory, tmp_path), tuple(group.population.seed)))

    def table(config, objective, directory, runs):
        return [{"dataset": config.dataset, "objective": objective, "member": m, "seed": m,
                 "lambda": 1.0, "T_final": 0.0, "flagged": False, "kl_final": 1.0,
                 "collapsed": False, "diverged": False, "selection_metric": "classifier_fd",
                 "selection_value": 10.0 - m} for m in runs]

    monkeypatch.setattr(w2_protocol.experiment, "train_and_evaluate", train)
    monkeypatch.setattr(w2_protocol, "run_table", table)
    monkeypatch.setattr(w2_protocol, "test_scores", lambda config, row: {"classifier_fd": 1.0})
    monkeypatch.setattr(w2_protocol, "restored_best", lambda config, row, workdir: "")
    monkeypatch.setattr(w2_protocol, "augmentation",
                        lambda config, best, workdir: augmented.append(best))
    monkeypatch.setattr(w2_protocol, "summary", lambda *args: "")
    seed = config.training.seed
    config.groups = (1,)
    w2_protocol.run(config, str(tmp_path))
    assert trained == [(os.path.join("vae", "runs_2-3"), (seed + 2, seed + 3))]
    assert not augmented
    config.groups = (0, 1)  # group 1 is in runs_w2.csv now: skipped
    w2_protocol.run(config, str(tmp_path))
    assert trained[1:] == [(os.path.join("vae", "runs_0-1"), (seed, seed + 1))]
    assert [best["vae"]["member"] for best in augmented] == [3]
    assert sorted(r["member"] for r in w2_protocol.read_runs(config, str(tmp_path))) == [
        0, 1, 2, 3]


def test_a_group_held_by_another_process_is_skipped(tmp_path, monkeypatch):
    config = augment_w2_mnist.get_config("tiny")
    config.num_runs, config.objectives = 4, ("vae",)  # groups 0-1 and 2-3
    trained = []
    monkeypatch.setattr(w2_protocol, "train_group",
                        lambda config, objective, workdir, runs: trained.append(runs))
    monkeypatch.setattr(w2_protocol, "select_and_augment", lambda config, workdir: None)
    with file_lock.claimed(w2_protocol.group_claim_path(str(tmp_path), "vae", range(0, 2))):
        w2_protocol.run(config, str(tmp_path))
    assert trained == [range(2, 4)]
    w2_protocol.run(config, str(tmp_path))  # released (nothing reached runs_w2.csv here)
    assert trained[1:] == [range(0, 2), range(2, 4)]


def test_the_selection_and_augmentation_hold_the_workdirs_turn_lock(tmp_path, monkeypatch):
    """Two processes ending together cannot both augment: while one selects and trains the
    CNNs, the lock file is held, so another's flock on it would wait."""
    config = augment_w2_mnist.get_config("tiny")
    held = []

    def augmentation(config, best, workdir):
        with open(os.path.join(workdir, w2_protocol.AUGMENTATION_LOCK)) as other:
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(False)
            except BlockingIOError:
                held.append(True)

    monkeypatch.setattr(w2_protocol, "train_groups", lambda *args: None)
    monkeypatch.setattr(w2_protocol, "missing_runs", lambda *args: [])
    monkeypatch.setattr(w2_protocol, "read_runs", lambda *args: [])
    monkeypatch.setattr(w2_protocol, "best_run", lambda rows: {})
    monkeypatch.setattr(w2_protocol, "restored_best", lambda config, row, workdir: "")
    monkeypatch.setattr(w2_protocol, "augmentation", augmentation)
    monkeypatch.setattr(w2_protocol, "summary", lambda *args: "")
    w2_protocol.run(config, str(tmp_path))
    assert held == [True]
    with open(os.path.join(tmp_path, w2_protocol.AUGMENTATION_LOCK)) as after:  # released
        fcntl.flock(after.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_augmentation_adds_only_the_objectives_a_cell_lacks(tmp_path, monkeypatch):
    """A cell scored for fewer objectives (an earlier --config.objectives) gets the missing
    rows: only their CNNs are trained, each alone, with its own batch order."""
    config = augment_w2_mnist.get_config("tiny")
    config.train_sizes, config.seeds = (20,), (0,)
    rng = np.random.default_rng(0)
    arrays = (rng.integers(0, 256, (50, 28, 28, 1), dtype=np.uint8), np.arange(50) % 10)
    trained = []

    def train(settings, sets, augment, monitor, seeds, data_seeds):
        trained.append(([len(x) for x, _ in sets], list(data_seeds)))
        return None, None, None

    monkeypatch.setattr(w2_protocol.data, "load_arrays", lambda *args: arrays)
    monkeypatch.setattr(w2_protocol, "generate",
                        lambda row, num, seed: np.zeros((num, 28, 28, 1), np.float32))
    monkeypatch.setattr(w2_protocol, "pseudo_labels", lambda config, x: np.zeros(len(x), int))
    monkeypatch.setattr(w2_protocol.classifiers, "train", train)
    monkeypatch.setattr(w2_protocol.classifiers, "predict",
                        lambda model, params, x: np.zeros((1, len(x)), int))
    w2_protocol.augmentation(config, {"vae": {}}, str(tmp_path))
    w2_protocol.augmentation(config, {"vae": {}, "w2vae": {}}, str(tmp_path))
    w2_protocol.augmentation(config, {"vae": {}, "w2vae": {}}, str(tmp_path))  # all done
    assert trained == [([20], [0]), ([40], [1]), ([40], [2])]
    with open(tmp_path / "results_w2.csv", newline="") as f:
        assert [r["objective"] for r in csv.DictReader(f)] == ["none", "vae", "w2vae"]
