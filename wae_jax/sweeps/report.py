"""The sweep's report, rebuilt from its workdir alone: report.csv, report.md, plots/*.png.

One row per member of W/sweep.json with its hyper-parameters, status, best checkpoint
(step and selection score, e.g. classifier_fd or FID on the reference split) and final
test metrics, from each trial's trial.json. report.md gives the best configuration per
method, as the paper's bigVAE / bigWAE rows: ranked by the selection score (lower is
better), or by the test reconstruction cost when the sweep selected no checkpoints.
"""

import csv
import math
import os
from typing import Any, Optional

# Figure objects, not pyplot: files only, and a notebook's own backend stays as it is.
from matplotlib.figure import Figure

from wae_jax.files import atomic_file
from wae_jax.sweeps import manifest, trial

CSV_NAME, MARKDOWN_NAME, PLOTS_DIR = "report.csv", "report.md", "plots"
FIRST_COLUMNS = ("member", "trial", "position", "status", "method")
PLOTTED = {"lambda_": "log", "latent_dim": "log", "learning_rate": "log"}  # x axis: scale


def _cell(value: Any) -> Any:
    """Tuples (JSON lists) as one CSV cell."""
    if isinstance(value, list):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return value


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(_cell(value))


def _member_row(member: dict, record: Optional[dict]) -> dict[str, Any]:
    row = {"member": member["member"], "trial": member["trial"],
           "position": member["position"], **member["values"]}
    if record is None:
        return {**row, "status": "pending", "workdir": member["workdir"]}
    if record["status"] != "finished":
        return {**row, "status": record["status"], "reason": record.get("reason", ""),
                "workdir": member["workdir"]}
    outcome = record["members"][member["position"]]
    row["status"] = outcome["status"]
    if outcome.get("best"):
        row.update({"best_metric": outcome["best"]["metric"],
                    "best_value": outcome["best"]["value"], "best_step": outcome["best"]["step"]})
    row.update({f"test_{name}": value for name, value in outcome.get("test", {}).items()})
    if "test_error" in outcome:
        row["reason"] = outcome["test_error"]
    return {**row, "workdir": member["workdir"]}


def rows(workdir: str) -> list[dict[str, Any]]:
    """One dict per member of the sweep in `workdir`, in member order."""
    sweep = manifest.read(workdir)
    records = {t["name"]: trial.read_record(manifest.trial_workdir(workdir, t["name"]))
               for t in sweep["trials"]}
    return [_member_row(m, records[m["trial"]]) for m in sweep["members"]]


def columns(table: list[dict]) -> list[str]:
    """FIRST_COLUMNS, then the hyper-parameters and results in first-seen order."""
    names = list(FIRST_COLUMNS)
    for row in table:
        names += [name for name in row if name not in names]
    return names


def score_name(table: list[dict]) -> str:
    """The column that ranks members: the selection score when any member has one."""
    return "best_value" if any("best_value" in r for r in table) else "test_reconstruction_cost"


def _scored(table: list[dict], score: str) -> list[dict]:
    return [r for r in table if r["status"] == "finished" and isinstance(r.get(score), float)
            and math.isfinite(r[score])]


def write_csv(path: str, table: list[dict]) -> None:
    with atomic_file.replaced(path) as f:
        writer = csv.DictWriter(f, columns(table), restval="")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in table)


def markdown(table: list[dict]) -> str:
    """Counts by status, the best member per method and the failures with reasons."""
    score = score_name(table)
    metric = next((r["best_metric"] for r in table if "best_metric" in r), None)
    statuses = sorted({r["status"] for r in table})
    lines = ["# Sweep report", "",
             f"{len(table)} members in {len({r['trial'] for r in table})} trials: " +
             ", ".join(f"{sum(r['status'] == s for r in table)} {s}" for s in statuses) + ".", "",
             "## Best configuration per method", "",
             (f"Ranked by the best checkpoint's {metric} (selection score, lower is better)."
              if metric else "No checkpoint selection in this sweep: ranked by the test "
              "reconstruction cost of the last checkpoint (lower is better)."), ""]
    hyper = [c for c in columns(table) if c not in FIRST_COLUMNS and not c.startswith(
        ("best_", "test_")) and c not in ("workdir", "reason")]
    lines += ["| method | member | score | best step | test reconstruction | " +
              " | ".join(hyper) + " |", "|" + "---|" * (len(hyper) + 5)]
    scored = _scored(table, score)
    for method in sorted({r["method"] for r in scored}):
        best = min((r for r in scored if r["method"] == method), key=lambda r: r[score])
        cells = [method, best["member"], f"{best[score]:.4g}", best.get("best_step", ""),
                 f"{best.get('test_reconstruction_cost', float('nan')):.4g}"]
        cells += [_short(best.get(c, "")) for c in hyper]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    failed = [r for r in table if r["status"] in ("failed", "diverged", "pending")]
    if failed:
        lines += ["", "## Not finished", "", "| member | trial | status | reason |",
                  "|---|---|---|---|"]
        lines += [f"| {r['member']} | {r['trial']} | {r['status']} | {r.get('reason', '')} |"
                  for r in failed]
    lines += ["", "## Plots", ""]
    lines += [f"![{name}]({PLOTS_DIR}/{name}.png)" for name in plot_names()]
    return "\n".join(lines) + "\n"


def plot_names() -> list[str]:
    return [f"score_vs_{field}" for field in PLOTTED] + ["score_distribution"]


def _score_label(table: list[dict], score: str) -> str:
    metric = next((r["best_metric"] for r in table if "best_metric" in r), None)
    return f"best {metric}" if metric and score == "best_value" else score


def _save(figure: Figure, path: str) -> None:
    with atomic_file.replaced(path, "wb") as f:
        figure.savefig(f, format="png", dpi=100)


def write_plots(directory: str, table: list[dict]) -> None:
    """Score against lambda, latent size and learning rate, per method; the distribution of
    scores per method."""
    os.makedirs(directory, exist_ok=True)
    score = score_name(table)
    scored = _scored(table, score)
    methods = sorted({r["method"] for r in scored})
    for field, scale in PLOTTED.items():
        figure = Figure(figsize=(3.5 * max(len(methods), 1), 3.2))
        panels = figure.subplots(1, max(len(methods), 1), squeeze=False)
        for axes, method in zip(panels[0], methods):
            points = [(r[field], r[score]) for r in scored
                      if r["method"] == method and isinstance(r.get(field), (int, float))]
            if points:
                axes.scatter(*zip(*points), s=14)
            axes.set_xscale(scale)
            axes.set(title=method, xlabel=field, ylabel=_score_label(table, score))
        figure.tight_layout()
        _save(figure, os.path.join(directory, f"score_vs_{field}.png"))
    figure = Figure(figsize=(5, 3.5))
    axes = figure.subplots()
    if methods:
        axes.boxplot([[r[score] for r in scored if r["method"] == m] for m in methods])
        axes.set_xticks(range(1, len(methods) + 1), methods)
    axes.set_ylabel(_score_label(table, score))
    figure.tight_layout()
    _save(figure, os.path.join(directory, "score_distribution.png"))


def write_report(workdir: str) -> list[dict]:
    """Writes report.csv, report.md and plots/ into `workdir`; returns the rows."""
    table = rows(workdir)
    write_csv(os.path.join(workdir, CSV_NAME), table)
    with atomic_file.replaced(os.path.join(workdir, MARKDOWN_NAME)) as f:
        f.write(markdown(table))
    write_plots(os.path.join(workdir, PLOTS_DIR), table)
    return table
