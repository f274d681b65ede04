"""The W2-VAE paper's protocol (Chen & Liu): KL-VAE against W2-VAE, then augmentation.

1. Per objective, `num_runs` MLP VAEs (the paper's 15 epochs, batch 100), run i with its
   own seed and lambda_i ~ U(0, lambda_max), trained as populations of about
   runs_per_population members (runs a..b in workdir/<objective>/runs_<a>-<b>, each
   resumable). The T = W2 - KL monitor of each run's last logged window is recorded; a
   W2-VAE run ending with T > 0 is the overfitting the paper excludes: flagged in
   runs_w2.csv, left out of the selection, never silently dropped. A group's rows (with
   the test scores of step 2) are appended to runs_w2.csv as soon as it finishes, and a
   rerun skips every group found there: the study runs in pieces, on other machines too
   (copy runs_w2.csv into the new workdir). config.groups (--groups) selects groups, so
   processes on several cores or machines can train disjoint groups into one workdir
   (processes on one machine may also share groups: each claims the group it trains, a
   lock file under workdir/.groups, and the others skip it); steps 2-3 run once
   runs_w2.csv holds every run.
2. Selection on the train split only: each run's sample metric (config.training's
   sample_eval, e.g. classifier_fd of its final samples against training images) picks
   the best lambda per objective. Every run is then scored against the test split
   (test_metrics of eval_samples samples in <the run's member directory>/eval_test/,
   the Inception metrics of inception_samples in eval_test_inception/).
3. Augmentation: generated_images decoded by each objective's best run (retrained alone
   from its solo config when its directory is gone, the selection score of both logged
   in w2_tables.md), labelled by the
   cached proxy classifier of the train split (unconditional samples carry no class: the
   paper does not say how it labelled them), merged into train_sizes real training
   images; the fixed small CNN (config.classifier) trained for a fixed number of epochs
   on each; accuracy on `holdout` test images (the paper's "separate 3,000 images").
"""

import csv
import json
import os
from typing import Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from wae_jax import data, models, workdir_evaluation
from wae_jax.data import arrays, subsets
from wae_jax.evaluation import sample_metrics
from wae_jax.evaluation.proxy_classifier import proxy_classifier
from wae_jax.evaluation.significance import wilcoxon_table
from wae_jax.files import atomic_file, csv_file, file_lock
from wae_jax.training import (checkpointing, experiment, methods, population,
                              population_trainer, steps, validation)
from wae_jax.training.metrics_writer import read_jsonl
from wae_jax.studies.augmentation import classifiers, study_checks

RUN_COLUMNS = ("dataset", "objective", "member", "seed", "lambda", "T_final", "flagged",
               "kl_final", "collapsed", "diverged", "selection_metric", "selection_value")
RUN_TYPES = {"member": int, "seed": int, "lambda": float, "T_final": float,
             "kl_final": float, "selection_value": float,
             **{flag: lambda v: v == "True" for flag in ("flagged", "collapsed", "diverged")}}
COLLAPSED_KL = 0.01  # nats: below this the encoder carries no information, the decoder
# draws one image whatever z (posterior collapse; reported, not excluded: the paper doesn't)
RESULT_COLUMNS = ("dataset", "objective", "train_size", "seed", "accuracy")
RUNS_NAME = "runs_w2.csv"
AUGMENTATION_LOCK = ".augmentation.lock"  # taken while selecting and augmenting
CLAIMS_DIR = ".groups"  # workdir/.groups/<objective>-runs_<first>-<last>.lock
REAL_ONLY = "none"  # the objective column of the CNN trained on real images only
# The CNNs of a cell by training set; the index seeds a CNN's batch order, so it sees the
# same batches whatever objectives a run lists (the order of the former population).
CNN_ORDER = (REAL_ONLY, "vae", "w2vae")
# The metrics of the slow Inception network, scored from their own sample count.
INCEPTION_METRICS = frozenset(
    name for name, metric in sample_metrics.METRICS.items() if metric.network == "inception")


def population_config(config: ml_collections.ConfigDict, objective: str
                      ) -> ml_collections.ConfigDict:
    """config.training for `objective`: num_runs members, lambda_i ~ U(0, lambda_max)."""
    training = config.training.copy_and_resolve_references()
    training.method = objective
    training.dataset, training.data_dir = config.dataset, config.data_dir
    training.population.size = config.num_runs
    rng = np.random.default_rng(config.lambda_seed)
    training.population.lambda_ = tuple(
        float(v) for v in rng.uniform(0.0, config.lambda_max, config.num_runs))
    return training


def run_groups(config: ml_collections.ConfigDict) -> list[range]:
    """The runs split into populations of at least runs_per_population members each (so
    never a single run, whose workdir would have no members/): 30 by 10 is 0-9, 10-19, 20-29."""
    count = max(1, config.num_runs // config.runs_per_population)
    return [range(int(chunk[0]), int(chunk[-1]) + 1)
            for chunk in np.array_split(np.arange(config.num_runs), count)]


def group_config(config: ml_collections.ConfigDict, objective: str, runs: range
                 ) -> ml_collections.ConfigDict:
    """The population of `runs` alone: member j is run runs[j] of population_config (its
    seed, lambda and data order), so a group reproduces those members of the whole."""
    whole = population_config(config, objective)
    group = whole.copy_and_resolve_references()
    group.population.size = len(runs)
    for field in validation.VARYING_FIELDS:
        if field == "seed" or tuple(whole.population[field]):
            group.population[field] = tuple(population.member_value(whole, field, i)
                                            for i in runs)
    return group


def group_dir(workdir: str, objective: str, runs: range) -> str:
    return os.path.join(workdir, objective, f"runs_{runs[0]}-{runs[-1]}")


def _last(rows: list[dict], key: str) -> float:
    values = [row[key] for row in rows if key in row]
    return float(values[-1]) if values else float("nan")


def run_table(config: ml_collections.ConfigDict, objective: str, workdir: str,
              runs: range) -> list[dict]:
    """One row per run of the group in `workdir`: its lambda, final T monitor and KL, flags
    and selection score."""
    with open(os.path.join(workdir, population_trainer.SUMMARY_NAME)) as f:
        summary = json.load(f)
    rows = []
    for entry in summary["members"]:
        member_dir = os.path.join(workdir, entry["workdir"])
        log = read_jsonl(member_dir)
        t_final, kl_final = _last(log, "train/T"), _last(log, "train/kl")
        best = entry.get("best", {})
        rows.append({"dataset": config.dataset, "objective": objective,
                     "member": runs[entry["member"]], "seed": entry["values"]["seed"],
                     "lambda": round(entry["values"]["lambda_"], 4),
                     "T_final": round(t_final, 5),
                     "flagged": objective == "w2vae" and not t_final <= 0.0,
                     "kl_final": round(kl_final, 5), "collapsed": kl_final < COLLAPSED_KL,
                     "selection_metric": best.get("metric", ""),
                     "selection_value": best.get("value", float("nan")),
                     "diverged": entry["status"] == "diverged", "workdir": member_dir})
    return rows


def best_run(rows: list[dict]) -> dict:
    """The finished run with the lowest selection score among the unflagged ones; among
    all finished runs (with a warning) when every run is flagged."""
    scored = [r for r in rows if not r["diverged"] and np.isfinite(r["selection_value"])]
    if not scored:
        raise validation.ConfigError(
            f"objective {rows[0]['objective']}: every run diverged or is unscored; check "
            "config.training.sample_eval.metrics")
    eligible = [r for r in scored if not r["flagged"]]
    if not eligible:
        logging.warning("objective %s: every run is flagged (T > 0 at the end); the best "
                        "is chosen among the flagged runs", rows[0]["objective"])
    return min(eligible or scored, key=lambda r: r["selection_value"])


def _cached_scores(row: dict, output_dir: str, metrics: tuple, num_samples: int,
                   reference_n: Optional[int]) -> dict[str, float]:
    """`metrics` of the run from <output_dir>/eval.json; evaluated (and the file written)
    only when it lacks one of them or was made with another sample count."""
    path = os.path.join(output_dir, "eval.json")
    results = {}
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
    if results.get("num_samples") != num_samples or any(m not in results for m in metrics):
        results = workdir_evaluation.evaluate_workdir(
            row["workdir"], num_samples=num_samples, metrics=metrics, reference_split="test",
            reference_n=reference_n, output_dir=output_dir, batch_size=min(500, num_samples))
    return {name: float(results[name]["value"]) for name in metrics}


def test_scores(config: ml_collections.ConfigDict, row: dict) -> dict[str, float]:
    """The run's test-split sample metrics, computed once per group and then read back:
    test_metrics from eval_samples samples (eval_test/), inception_metrics from
    inception_samples samples against the first inception_reference_n test images
    (eval_test_inception/; the Inception runs at ~10 images/s on 2 CPU cores)."""
    scores = {}
    if config.test_metrics:
        scores.update(_cached_scores(row, os.path.join(row["workdir"], "eval_test"),
                                     tuple(config.test_metrics), config.eval_samples, None))
    if config.inception_metrics:
        scores.update(_cached_scores(
            row, os.path.join(row["workdir"], "eval_test_inception"),
            tuple(config.inception_metrics), config.inception_samples,
            config.inception_reference_n or None))
    return scores


def scored_metrics(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    return tuple(config.test_metrics) + tuple(config.inception_metrics)


def generate(row: dict, num: int, seed: int) -> np.ndarray:
    """num images in [0, 1] decoded from the prior by the run's final state."""
    member_config = workdir_evaluation.load_config(row["workdir"])
    image_shape = tuple(data.image_shape(member_config.dataset))
    model = models.build_autoencoder(member_config.model, image_shape)
    adversary = (models.build_adversary(member_config.model)
                 if methods.METHODS[member_config.method].adversary else None)
    state, _, _ = workdir_evaluation.restore_state(row["workdir"], member_config, model,
                                                   adversary, image_shape, steps.make_mesh())
    decode = jax.jit(steps.make_figure_fns(member_config, model)["decode"])
    z = member_config.prior_std * jax.random.normal(jax.random.PRNGKey(seed),
                                                    (num, member_config.latent_dim))
    return np.concatenate([np.asarray(decode(state, z[i:i + 1000]))
                           for i in range(0, num, 1000)])


def pseudo_labels(config: ml_collections.ConfigDict, images: np.ndarray) -> np.ndarray:
    proxy = proxy_classifier(config.dataset, data_dir=config.data_dir or None,
                             num_steps=config.training.sample_eval.classifier_steps)
    apply = jax.jit(lambda x: jnp.argmax(proxy.model.apply(proxy.variables, x, train=False), -1))
    return np.concatenate([np.asarray(apply(jnp.asarray(images[i:i + 1000])))
                           for i in range(0, len(images), 1000)])


def _done(path: str) -> set[tuple[str, int, int, str]]:
    if not os.path.exists(path):
        return set()
    with open(path, newline="") as f:
        return {(r["dataset"], int(r["train_size"]), int(r["seed"]), r["objective"])
                for r in csv.DictReader(f)}


def _real_subset(images, labels, size: int, seed: int):
    if size == len(labels):
        return images, labels
    chosen = subsets.stratified_indices(labels, size, seed)
    return images[chosen], labels[chosen]


def _cnn_accuracy(config: ml_collections.ConfigDict, training_set, monitor, holdout,
                  seed: int, data_seed: int) -> float:
    """The fixed CNN trained alone on `training_set` (on a CPU a population of a cell's
    CNNs is slower than one at a time: benchmarks/classifier_step.py), scored on holdout."""
    model, _, params = classifiers.train(config.classifier, [training_set], [False], monitor,
                                         seeds=[seed], data_seeds=[data_seed])
    return float((classifiers.predict(model, params, holdout[0]) == holdout[1]).mean())


def augmentation(config: ml_collections.ConfigDict, best: dict[str, dict], workdir: str
                 ) -> None:
    """results_w2.csv: the CNN on real images alone and merged with each best run's."""
    path = os.path.join(workdir, "results_w2.csv")
    done = _done(path)
    todo = {(n, s): missing for n in config.train_sizes for s in config.seeds
            if (missing := [o for o in [REAL_ONLY, *best]
                            if (config.dataset, n, s, o) not in done])}
    if not todo:
        return
    train_x, train_y = data.load_arrays(config.dataset, "train", config.data_dir or None)
    test_x, test_y = data.load_arrays(config.dataset, "test", config.data_dir or None)
    holdout = subsets.stratified_indices(test_y, config.holdout, seed=0)
    holdout_x, holdout_y = test_x[holdout].astype(np.float32) / 255.0, test_y[holdout]
    fake = {}
    for objective, row in best.items():
        images = generate(row, config.generated_images, seed=0)
        fake[objective] = (images, pseudo_labels(config, images))
    for (size, seed), missing in todo.items():
        real_x, real_y = _real_subset(train_x, train_y, size, seed)
        real = (real_x.astype(np.float32) / 255.0, real_y)
        monitor = (real[0][:500], real[1][:500])  # training images: no selection is made
        accuracy = {o: _cnn_accuracy(
            config, real if o == REAL_ONLY else (np.concatenate([real[0], fake[o][0]]),
                                                  np.concatenate([real[1], fake[o][1]])),
            monitor, (holdout_x, holdout_y), seed, seed * 1000 + CNN_ORDER.index(o))
            for o in missing}
        csv_file.append(path, RESULT_COLUMNS, [
            {"dataset": config.dataset, "objective": o, "train_size": size, "seed": seed,
             "accuracy": round(a, 5)} for o, a in accuracy.items()])
        logging.info("%s, %d real images, seed %d: accuracy %s", config.dataset, size, seed,
                     {o: round(a, 4) for o, a in accuracy.items()})


def summary(config: ml_collections.ConfigDict, runs: list[dict], best: dict[str, dict],
            workdir: str) -> str:
    """Markdown: per objective the test metrics' mean (std) over all and unflagged runs,
    the best run's lambda and score; then the accuracies of results_w2.csv."""
    metrics = scored_metrics(config)
    counts = [f"{m} of {config.eval_samples}" for m in config.test_metrics] + [
        f"{m} of {config.inception_samples} (reference: "
        f"{config.inception_reference_n or 'all'} test images)"
        for m in config.inception_metrics]
    lines = [f"# W2-VAE protocol on {config.dataset}", "",
             f"Test sample metrics per run ({'; '.join(counts)} samples), mean (std):", "",
             "| objective | runs | flagged | collapsed | " + " | ".join(
                 f"{m} all | {m} unflagged" for m in metrics)
             + " | best lambda | best test |", "|---|---|---|---|" + "---|---|" *
             len(metrics) + "---|---|"]
    for objective in config.objectives:
        rows = [r for r in runs if r["objective"] == objective]
        cells = []
        for metric in metrics:
            for kept in (rows, [r for r in rows if not r["flagged"]]):
                values = [r[f"test_{metric}"] for r in kept]
                cells.append(f"{np.mean(values):.2f} ({np.std(values):.2f})" if values else "-")
        b = best[objective]
        lines.append(f"| {objective} | {len(rows)} | {sum(r['flagged'] for r in rows)} | "
                     f"{sum(r['collapsed'] for r in rows)} | "
                     + " | ".join(cells) + f" | {b['lambda']:.2f} | " + ", ".join(
                         f"{m} {b[f'test_{m}']:.2f}" for m in metrics) + " |")
    path = os.path.join(workdir, "results_w2.csv")
    if os.path.exists(path):
        with open(path, newline="") as f:
            results = list(csv.DictReader(f))
        lines += ["", "Accuracy (%) on the held-out images, mean (std) over seeds:", "",
                  "| real images | " + " | ".join(
                      [REAL_ONLY] + list(config.objectives)) + " |",
                  "|---|" + "---|" * (len(config.objectives) + 1)]
        for size in config.train_sizes:
            cells = []
            for objective in [REAL_ONLY] + list(config.objectives):
                values = [100 * float(r["accuracy"]) for r in results
                          if int(r["train_size"]) == size and r["objective"] == objective]
                cells.append(f"{np.mean(values):.2f} ({np.std(values):.2f})" if values else "-")
            lines.append(f"| {size} | " + " | ".join(cells) + " |")
        lines += accuracy_significance(config, results)
    return "\n".join(lines) + "\n"


def accuracy_significance(config: ml_collections.ConfigDict, results: list[dict]
                          ) -> list[str]:
    """Markdown lines: Wilcoxon signed-rank tests between the training sets over the
    (train_size, seed) cells that have all of them (the part-1 layout)."""
    names = [REAL_ONLY] + list(config.objectives)
    by_cell = {}
    for r in results:
        # Counts of correct held-out images: exact integers, so equal differences tie (in
        # floats, round-off decides whether scipy sees ties and which test it runs).
        by_cell.setdefault((int(r["train_size"]), int(r["seed"])), {})[r["objective"]] = round(
            float(r["accuracy"]) * config.holdout)
    cells = sorted(c for c, acc in by_cell.items() if set(acc) >= set(names))
    if len(cells) < 2:
        return []
    return ["", f"Wilcoxon signed-rank tests over {len(cells)} paired (size, seed) cells "
            "(two-sided p; row beats column in w of n):", "",
            *wilcoxon_table({o: [by_cell[c][o] for c in cells] for o in names})]


def _test_metrics(v) -> Optional[str]:
    problem = validation.sequence_of(validation.one_of(sample_metrics.METRICS))(v)
    if problem or not INCEPTION_METRICS & set(v):
        return problem
    return f"list {sorted(INCEPTION_METRICS)} in inception_metrics (own sample count)"


def _fields(config: ml_collections.ConfigDict) -> dict[str, validation.Check]:
    """The schema of the study's top-level config (configs/augment_w2_mnist.py)."""
    positive, at_least_2 = validation.integer(1), validation.integer(2)
    per_class = study_checks.multiple_of_classes(config.classifier.num_classes)
    return {
        "study": validation.one_of(("w2_protocol",)),
        **study_checks.COMMON_FIELDS,
        "objectives": validation.nonempty(validation.sequence_of(
            validation.one_of(("vae", "w2vae")))),
        "num_runs": at_least_2,  # a population
        "runs_per_population": at_least_2,  # and at most num_runs: check_config
        "groups": validation.sequence_of(validation.integer(0)),
        "lambda_max": validation.number(0.0, strict=True),
        "lambda_seed": validation.integer(0),
        "eval_samples": at_least_2,
        "test_metrics": _test_metrics,
        "inception_metrics": validation.sequence_of(validation.one_of(
            sorted(INCEPTION_METRICS))),
        "inception_samples": at_least_2,
        "inception_reference_n": validation.integer(0),
        "generated_images": positive,
        "train_sizes": validation.nonempty(validation.sequence_of(per_class)),
        "holdout": per_class,
        "training": validation.config_dict,
    }


def check_config(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError naming the first bad or unknown field, before any work."""
    study_checks.check_fields(config, _fields)
    if config.runs_per_population > config.num_runs:
        raise validation.ConfigError(f"config.runs_per_population={config.runs_per_population}"
                                     ": use 2 to num_runs runs per population")
    if not config.training.sample_eval.metrics:
        raise validation.ConfigError(
            f"config.training.sample_eval.metrics={config.training.sample_eval.metrics!r}: "
            "the selection needs one, e.g. ('classifier_fd',)")
    count = len(run_groups(config))
    if not set(config.groups) <= set(range(count)):
        raise validation.ConfigError(
            f"config.groups={tuple(config.groups)!r}: use indices 0..{count - 1} (groups of "
            f"~{config.runs_per_population} runs), or () for all")
    for objective in config.objectives:
        validation.validate_config(population_config(config, objective), device_count=1)


def check_split_sizes(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError if a split has too few images of some class for the largest
    stratified real subset (the whole split is taken as it is) or for the holdout."""
    whole = arrays.num_examples(config.dataset, "train", config.data_dir or None)
    stratified = [size for size in config.train_sizes if size != whole]
    num_classes = config.classifier.num_classes
    study_checks.check_drawable(config, "train_sizes", "train",
                                max(stratified, default=0) // num_classes, of_total=True)
    study_checks.check_drawable(config, "holdout", "test", config.holdout // num_classes,
                                of_total=True)


def read_runs(config: ml_collections.ConfigDict, workdir: str) -> list[dict]:
    """The rows of workdir/runs_w2.csv for config.dataset, typed, each with its workdir."""
    path = os.path.join(workdir, RUNS_NAME)
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = set(run_columns(config)) - set(reader.fieldnames or ())
        if missing:
            raise validation.ConfigError(
                f"{path} lacks {sorted(missing)} (made by an older version or with other "
                "test metrics): move it away to score every run again, or use another "
                "--workdir")
        rows = [r for r in reader if r["dataset"] == config.dataset]
    groups = run_groups(config)
    for row in rows:
        row.update({k: convert(row[k]) for k, convert in RUN_TYPES.items()})
        row.update({k: float(row[k]) for k in row if k.startswith("test_")})
        if not 0 <= row["member"] < config.num_runs:
            raise validation.ConfigError(
                f"config.num_runs={config.num_runs}: {path} has run {row['member']}; use "
                "the num_runs it was made with, or another --workdir")
        runs = next(r for r in groups if row["member"] in r)
        row["workdir"] = population_trainer.member_dir(
            group_dir(workdir, row["objective"], runs), row["member"] - runs[0])
    return rows


def run_columns(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    return RUN_COLUMNS + tuple(f"test_{m}" for m in scored_metrics(config))


def selected_groups(config: ml_collections.ConfigDict) -> list[range]:
    """The groups this process trains: config.groups (indices into run_groups), or all."""
    groups = run_groups(config)
    return [groups[i] for i in config.groups] if config.groups else groups


def missing_runs(config: ml_collections.ConfigDict, workdir: str) -> dict[str, list[int]]:
    """Per objective, the runs not yet in runs_w2.csv (trained by another process, or
    not yet)."""
    rows = read_runs(config, workdir)
    return {o: missing for o in config.objectives if (missing := sorted(
        set(range(config.num_runs)) - {r["member"] for r in rows if r["objective"] == o}))}


def group_claim_path(workdir: str, objective: str, runs: range) -> str:
    """The lock file a process holds while it trains a group of runs."""
    return os.path.join(workdir, CLAIMS_DIR, f"{objective}-runs_{runs[0]}-{runs[-1]}.lock")


def train_groups(config: ml_collections.ConfigDict, objective: str, workdir: str) -> None:
    """Trains and scores each selected group of runs not yet in runs_w2.csv, appending its
    rows. Processes may share the workdir: each claims the group it trains (a lock file),
    skips groups another one holds, and reads runs_w2.csv again before each group."""
    for runs in selected_groups(config):
        with file_lock.claimed(group_claim_path(workdir, objective, runs)) as mine:
            if not mine:
                logging.info("%s runs %d-%d: being trained by another process, skipped",
                             objective, runs[0], runs[-1])
                continue
            if set(runs).isdisjoint(missing_runs(config, workdir).get(objective, ())):
                continue
            train_group(config, objective, workdir, runs)


def train_group(config: ml_collections.ConfigDict, objective: str, workdir: str,
                runs: range) -> None:
    directory = group_dir(workdir, objective, runs)
    experiment.train_and_evaluate(group_config(config, objective, runs), directory)
    rows = run_table(config, objective, directory, runs)
    for row in rows:
        row.update({f"test_{metric}": round(value, 4)
                    for metric, value in test_scores(config, row).items()})
    csv_file.append(os.path.join(workdir, RUNS_NAME), run_columns(config), rows)


def restored_best(config: ml_collections.ConfigDict, row: dict, workdir: str) -> str:
    """Points row["workdir"] at a directory holding the best run's final state: its own,
    or (when gone: runs_w2.csv came from another machine) a solo run of its config trained
    now. Returns "" or, when retrained, a note for w2_tables.md comparing the two
    selection scores."""
    if os.path.isdir(os.path.join(row["workdir"], checkpointing.LATEST_DIR)):
        return ""
    solo = population.member_config(population_config(config, row["objective"]),
                                    row["member"])
    row["workdir"] = os.path.join(workdir, row["objective"], f"run_{row['member']}_solo")
    experiment.train_and_evaluate(solo, row["workdir"])
    score = checkpointing.BestCheckpoint(row["workdir"]).score or {"value": float("nan")}
    return (f"{row['objective']}: the best run ({row['member']}) was retrained alone, its "
            f"population directory being gone: {row['selection_metric']} "
            f"{row['selection_value']:.4g} in the population, {score['value']:.4g} retrained.")


def run(config: ml_collections.ConfigDict, workdir: str) -> None:
    check_config(config)
    check_split_sizes(config)
    for objective in config.objectives:
        train_groups(config, objective, workdir)
    # Processes on disjoint --groups that end together take the rest in turn: the
    # second finds the first's cells in results_w2.csv and skips them.
    with file_lock.taken_in_turn(os.path.join(workdir, AUGMENTATION_LOCK)):
        select_and_augment(config, workdir)


def select_and_augment(config: ml_collections.ConfigDict, workdir: str) -> None:
    """Once runs_w2.csv holds every run: the best run of each objective, the CNNs on its
    images, and w2_tables.md."""
    if missing := missing_runs(config, workdir):
        logging.info("runs_w2.csv lacks runs %s: the selection and the augmentation wait for "
                     "them (rerun when the processes training them have ended)", missing)
        return
    runs = read_runs(config, workdir)
    best = {o: best_run([r for r in runs if r["objective"] == o]) for o in config.objectives}
    notes = [note for row in best.values() if (note := restored_best(config, row, workdir))]
    augmentation(config, best, workdir)
    with atomic_file.replaced(os.path.join(workdir, "w2_tables.md")) as f:
        f.write(summary(config, runs, best, workdir) + "".join(f"\n{n}\n" for n in notes))
