"""`python -m wae_jax.augment` at :tiny end to end, bad input, resumption, and that no
test image reaches a function that selects anything (a poisoned test split).

The runs share one persistent compilation cache and unoptimised LLVM code generation
(as tests/test_main.py): the spy run compiles nothing the CLI run has not compiled.
"""

import csv
import json
import os
import subprocess
import sys

import importlib
import re

import pytest

from configs import augment_mnist
from tests import fast_compilation
from tests.training.tiny import ROOT
from wae_jax.studies.augmentation import per_class, w2_protocol
from wae_jax.training.validation import ConfigError

CONFIG = "--config=configs/augment_mnist.py:tiny"
CHECKS = {"per_class": per_class.check_config, "w2_protocol": w2_protocol.check_config}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {**os.environ,
            "JAX_COMPILATION_CACHE_DIR": str(tmp_path_factory.mktemp("jax_cache")),
            **fast_compilation.ENV}


def augment(env, workdir, *flags):
    command = [sys.executable, "-m", "wae_jax.augment", f"--workdir={workdir}", *flags]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, data_dir, env):
    workdir = tmp_path_factory.mktemp("augment")
    result = augment(env, workdir, CONFIG, f"--config.data_dir={data_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def test_tiny_run_writes_every_output(tiny_run):
    with open(tiny_run / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["generator", "latent_dim", "train_size", "condition", "seed", "f1"]
    assert [r["condition"] for r in rows] == ["cnn", "vae", "aug", "aug_vae"]
    assert {(r["generator"], r["latent_dim"], r["train_size"], r["seed"]) for r in rows} == {
        ("vae", "2", "50", "0")}
    assert all(0.0 <= float(r["f1"]) <= 1.0 for r in rows)
    table = (tiny_run / "table2.md").read_text()
    assert "| 2 | 50 |" in table and "AUG+VAE paper" in table
    assert "1 paired cells" in (tiny_run / "significance.md").read_text()
    for png in ("f1_vs_size_vae.png", "digits_vae_latent2.png"):
        assert (tiny_run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_flag_is_one_line_and_status_2(tmp_path, env):
    result = augment(env, tmp_path, CONFIG, "--sizes=55")
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: config.sizes=(55,): entries [55]: use a positive "
                                     "multiple of the 10 classes")
    result = augment(env, tmp_path, CONFIG, "--groups=0")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --groups: config.study='per_class' has no groups"


@pytest.mark.parametrize("field, value, message", [
    ("seeds", (-1,), "config.seeds=(-1,): entries [-1]: use an integer >= 0"),
    ("seeds", (), "config.seeds=(): use at least one entry"),
    ("generators", ("gan",), "config.generators=('gan',): entries ['gan']: use one of"),
    ("latent_dims", (), "config.latent_dims=(): use at least one entry"),
    ("latent_dims", (2, 0), "config.latent_dims=(2, 0): entries [0]: use an integer >= 1"),
    ("sizes", (50, 55), "config.sizes=(50, 55): entries [55]: use a positive multiple of"),
    ("sizes", ("50",), "config.sizes=('50',): entries ['50']: use a positive multiple of"),
    ("dataset", "celeb_a_64", "config.dataset='celeb_a_64': use a labelled dataset"),
    ("classifier.num_classes", 0, "config.classifier.num_classes=0: use an integer >= 2"),
    ("classifier.num_classes", 5, "config.classifier.num_classes=5: mnist has 10 classes; "
                                  "use 10"),
    ("validation_fraction", 0.0, "config.validation_fraction=0.0: use a fraction in (0, 1)"),
    ("generated_per_class", 0, "config.generated_per_class=0: use an integer >= 1"),
    ("test_per_class", 0, "config.test_per_class=0: use an integer >= 1"),
    ("validation_fraction", 1.5, "config.validation_fraction=1.5: use a fraction in (0, 1)"),
    ("generator_patience", 0, "config.generator_patience=0: use an integer >= 1"),
    ("classifier.batch_size", 0, "config.classifier.batch_size=0: use an integer >= 1"),
    ("classifier.patience", 0, "config.classifier.patience=0: use an integer >= 1"),
    ("classifier.widths", (4, 4, 4), "config.classifier.widths=(4, 4, 4): use four conv"),
    ("classifier.padding", "same", "config.classifier.padding='same': use one of"),
    ("classifier.dropout_rate", 1.0, "config.classifier.dropout_rate=1.0: use a number in"),
])
def test_bad_config_names_the_field(field, value, message):
    config = augment_mnist.get_config("tiny")
    *parents, name = field.split(".")
    target = config[parents[0]] if parents else config
    target[name] = value
    with pytest.raises(ConfigError, match=re.escape(message)):
        per_class.check_config(config)


@pytest.mark.parametrize("name", ["augment_mnist", "augment_w2_mnist"])
@pytest.mark.parametrize("field", ["classifier.pateince", "generator_patiance"])
def test_an_unknown_field_is_refused(name, field):
    config = importlib.import_module(f"configs.{name}").get_config("tiny")
    *parents, leaf = field.split(".")
    (config[parents[0]] if parents else config)[leaf] = 3
    with pytest.raises(ConfigError, match=re.escape(f"config.{field}: unknown field")):
        CHECKS[config.study](config)


def test_more_images_per_class_than_a_split_holds_is_refused_before_any_cell(data_dir):
    """The fabricated data hold 64 train and 16 test images: 17 test images of a class, or
    a training set of 1000, cannot be drawn."""
    config = augment_mnist.get_config("tiny")
    config.data_dir = data_dir
    per_class.check_class_counts(config)
    config.test_per_class = 17
    with pytest.raises(ConfigError, match=re.escape("config.test_per_class=17: the test split")):
        per_class.check_class_counts(config)
    config.test_per_class, config.sizes = 1, (50, 1000)
    with pytest.raises(ConfigError, match=re.escape("config.sizes=(50, 1000): the train split")):
        per_class.check_class_counts(config)


@pytest.mark.parametrize("name, args", [("augment_mnist", (None, "small", "tiny")),
                                        ("augment_w2_mnist", (None, "tiny")),
                                        ("augment_w2_fashion_mnist", (None, "tiny"))])
def test_study_configs_validate_and_document_their_command(name, args):
    module = importlib.import_module(f"configs.{name}")
    assert f"--config=configs/{name}.py" in module.__doc__
    for arg in args:
        config = module.get_config(arg)
        CHECKS[config.study](config)


def test_every_generator_is_selectable():
    config = augment_mnist.get_config("tiny")
    config.generators = ("vae", "w2vae", "wae_mmd", "wae_gan")
    per_class.check_config(config)
    methods = [per_class.generator_config(config, g, 3, 0).method for g in config.generators]
    assert methods == ["vae", "w2vae", "wae_mmd", "wae_gan"]


def test_a_bad_generator_field_is_caught_before_any_work():
    config = augment_mnist.get_config("tiny")
    config.generator.learning_rate = -1.0
    with pytest.raises(ConfigError, match=r"config.learning_rate=-1.0"):
        per_class.check_config(config)


def test_no_test_image_reaches_a_selection_reruns_skip_and_cnn_scores_are_reused(
        tmp_path, data_dir, env, tiny_run):
    del tiny_run  # only for its compilation cache
    result = subprocess.run([sys.executable, "-m", "tests.studies.spy_run", str(data_dir),
                             str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    findings = json.loads(result.stdout.strip().splitlines()[-1])
    assert findings["calls"][:5] == ["generators.train"] + ["classifiers.train"] * 4
    assert findings["nan"] == 0 and findings["test_images"] == 0
    assert (tmp_path / "results.csv").exists()  # the poisoned images were only scored
    assert findings["rerun_calls"] == [] and not findings["rerun_changed_results"]
    # Latent 3 after latent 2 trains only the CNNs that see generated images ...
    assert findings["reusing_calls"] == ["generators.train"] + ["classifiers.train"] * 2
    f1 = findings["f1"]
    assert [f1["3/cnn"], f1["3/aug"]] == [f1["2/cnn"], f1["2/aug"]]
    # ... because the CNN and AUG trainings of a fresh latent-3 cell get exactly latent
    # 2's inputs (hashed by the spy), while the two with generated images do not.
    latent2, latent3 = findings["cnn_inputs"]
    assert [a == b for a, b in zip(latent2, latent3)] == [True, False, True, False]


def test_an_interrupted_cell_resumes_after_its_last_finished_stage(
        tmp_path, data_dir, env, tiny_run):
    result = subprocess.run([sys.executable, "-m", "tests.studies.interrupted_run",
                             str(data_dir), str(tmp_path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    findings = json.loads(result.stdout.strip().splitlines()[-1])
    # Interrupted inside the second CNN: the generated images and the first score kept.
    assert findings["left"] == ["f1.json", "generated.npy"]
    assert findings["scored"] == ["cnn"] and findings["rows_after_interruption"] == 0
    # The rerun trains neither the generators nor the first CNN again ...
    assert findings["resumed_calls"] == ["classifiers.train"] * 3
    assert findings["progress_removed"]
    # ... and scores exactly what the uninterrupted command-line run did.
    with open(tiny_run / "results.csv", newline="") as f:
        uninterrupted = {row["condition"]: float(row["f1"]) for row in csv.DictReader(f)}
    assert findings["f1"] == uninterrupted
