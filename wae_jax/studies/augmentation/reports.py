"""The per-class study's tables and figures, written from results.csv rows.

table2.md: the paper's Table 2 layout (macro F1 % per latent size and training size,
one column per condition, mean +- std over seeds) with the paper's numbers beside
ours where the guide has them; significance.md: the paper's Table 3 (Wilcoxon
signed-rank tests between conditions over the paired cells), the differences by training
size, and the generators compared pairwise; f1_vs_size_<gen>.png;
digits_<gen>_latent<d>.png (the paper's Fig. 2: one row of samples per class).
"""

import itertools
import os

# Figure objects, not pyplot: files only, and a notebook keeps its own backend.
from matplotlib.figure import Figure
import numpy as np

from wae_jax.evaluation.significance import wilcoxon_pvalues, wilcoxon_table
from wae_jax.files import atomic_file
from wae_jax.studies.augmentation.results import CONDITIONS, GENERATED, LABELS, cell_of
from wae_jax.training import figures

# Macro F1 (%) printed by the paper, by (latent_dim, train_size); the rest of its Table 2
# is not in our notes (docs/GUIDE section 1), so those cells show "-".
PAPER_F1 = {(3, 50): {"cnn": 76.30, "vae": 85.40, "aug": 86.10, "aug_vae": 90.86}}
DIGITS_PER_CLASS = 10


def _f1_by(rows: list[dict], generator: str) -> dict[tuple[int, int, str], list[float]]:
    out: dict[tuple[int, int, str], list[float]] = {}
    for row in rows:
        if row["generator"] == generator:
            out.setdefault((row["latent_dim"], row["train_size"], row["condition"]),
                           []).append(100 * row["f1"])
    return out


def _mean_std(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.2f} (1)" if values else "-"
    return f"{np.mean(values):.2f} ± {np.std(values):.2f} ({len(values)})"


def table2(rows: list[dict]) -> str:
    lines = ["# Macro F1 (%) on the test images: ours (mean ± std over seeds, n seeds; the "
             "std divides by n, and one seed has none) | paper", ""]
    for generator in sorted({r["generator"] for r in rows}):
        scores = _f1_by(rows, generator)
        lines += [f"## Generator: {generator}", "",
                  "| latent | train size | " + " | ".join(
                      f"{LABELS[c]} ours | {LABELS[c]} paper" for c in CONDITIONS) + " |",
                  "|---|---|" + "---|---|" * len(CONDITIONS)]
        for latent, size in sorted({(k[0], k[1]) for k in scores}):
            cells = []
            for c in CONDITIONS:
                values = scores.get((latent, size, c), [])
                ours = _mean_std(values)
                paper = PAPER_F1.get((latent, size), {}).get(c)
                cells += [ours, "-" if paper is None else f"{paper:.2f}"]
            lines.append(f"| {latent} | {size} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _paired_cells(rows: list[dict], generator: str) -> dict[tuple, dict[str, float]]:
    """The generator's cells finished under every condition: cell -> condition -> F1."""
    by_cell: dict[tuple, dict[str, float]] = {}
    for row in rows:
        if row["generator"] == generator:
            by_cell.setdefault(cell_of(row), {})[row["condition"]] = row["f1"]
    return {cell: f1 for cell, f1 in sorted(by_cell.items()) if set(f1) >= set(CONDITIONS)}


def paired_scores(rows: list[dict], generator: str) -> dict[str, list[float]]:
    """Per condition, the F1 of the cells finished under every condition, in one order."""
    cells = _paired_cells(rows, generator)
    return {c: [f1[c] for f1 in cells.values()] for c in CONDITIONS}


# (better, baseline): what generated images add to real ones, with and without AUG.
EFFECTS = (("vae", "cnn"), ("aug_vae", "aug"), ("aug_vae", "cnn"))


def effects_by_size(rows: list[dict], generator: str) -> list[str]:
    """Markdown lines: per training size, each EFFECTS pair's mean F1 difference (points)
    over the paired cells and in how many the first condition scored higher. The
    Wilcoxon tests pool all sizes; this shows where the differences come from."""
    cells = _paired_cells(rows, generator)
    lines = ["| train size | cells | " + " | ".join(
        f"{LABELS[a]} - {LABELS[b]} | higher" for a, b in EFFECTS) + " |",
        "|---|---|" + "---|---|" * len(EFFECTS)]
    for size in sorted({cell[2] for cell in cells}):
        at_size = [f1 for cell, f1 in cells.items() if cell[2] == size]
        entries = [str(size), str(len(at_size))]
        for a, b in EFFECTS:
            diffs = np.array([100 * (f1[a] - f1[b]) for f1 in at_size])
            entries += [f"{diffs.mean():+.2f}", f"{int((diffs > 0).sum())}/{len(diffs)}"]
        lines.append("| " + " | ".join(entries) + " |")
    return lines


def generators_compared(rows: list[dict]) -> list[str]:
    """Markdown lines: for each pair of generators and each condition with generated
    images, the cells both finished (same latent size, training size and seed; their CNN
    and AUG runs are the same), the mean F1 difference (points), in how many the first
    is higher, and the two-sided Wilcoxon p-value. [] with fewer than two generators."""
    # generator -> (latent_dim, train_size, seed) -> condition -> F1
    cells = {g: {cell[1:]: f1 for cell, f1 in _paired_cells(rows, g).items()}
             for g in sorted({r["generator"] for r in rows})}
    lines = []
    for first, second in itertools.combinations(cells, 2):
        shared = sorted(set(cells[first]) & set(cells[second]))
        if not shared:
            continue
        for condition in GENERATED:
            a = [cells[first][cell][condition] for cell in shared]
            b = [cells[second][cell][condition] for cell in shared]
            p, wins = wilcoxon_pvalues({first: a, second: b})[(first, second)]
            diff = 100 * float(np.mean(np.subtract(a, b)))
            lines.append(f"| {LABELS[condition]} | {first} - {second} | {len(shared)} | "
                         f"{diff:+.2f} | {wins}/{len(shared)} | {p:.3g} |")
    if not lines:
        return []
    return ["| condition | generators | paired cells | mean difference | first higher | p |",
            "|---|---|---|---|---|---|", *lines]


def significance(rows: list[dict]) -> str:
    lines = ["# Wilcoxon signed-rank tests between conditions (two-sided p-value; "
             "row beats column in w of n paired cells)", ""]
    for generator in sorted({r["generator"] for r in rows}):
        scores = paired_scores(rows, generator)
        n = len(scores[CONDITIONS[0]])
        lines += [f"## Generator: {generator} ({n} paired cells)", "",
                  *wilcoxon_table(scores, LABELS), "",
                  "Mean F1 difference (points) by training size, and the cells where the "
                  "first condition is higher:", "", *effects_by_size(rows, generator), ""]
    if compared := generators_compared(rows):
        lines += ["## Generators compared (cells finished by both: same latent size, "
                  "training size and seed)", "", *compared, ""]
    return "\n".join(lines)


def plot_f1(rows: list[dict], generator: str, path: str) -> None:
    """F1 against training size per condition, one panel per latent size."""
    scores = _f1_by(rows, generator)
    latents = sorted({k[0] for k in scores})
    fig = Figure(figsize=(4 * len(latents), 3.5))
    axes = fig.subplots(1, len(latents), squeeze=False)
    for ax, latent in zip(axes[0], latents):
        for c in CONDITIONS:
            sizes = sorted({k[1] for k in scores if k[0] == latent and k[2] == c})
            means = [np.mean(scores[(latent, s, c)]) for s in sizes]
            stds = [np.std(scores[(latent, s, c)]) for s in sizes]
            ax.errorbar(sizes, means, yerr=stds, marker="o", capsize=3, label=LABELS[c])
        ax.set(xscale="log", xlabel="training images", ylabel="macro F1 (%)",
               title=f"{generator}, latent {latent}")
        ax.grid(alpha=0.3)
    axes[0][0].legend()
    fig.tight_layout()
    with atomic_file.replaced(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)


def save_digits(workdir: str, generator: str, latent_dim: int, samples: np.ndarray) -> None:
    """The paper's Fig. 2 for one latent size (the first cell that ran with it): a row of
    generated digits per class. samples: [classes, N, H, W, C] in [0, 1]."""
    path = os.path.join(workdir, f"digits_{generator}_latent{latent_dim}.png")
    if not os.path.exists(path):
        shown = samples[:, :DIGITS_PER_CLASS]
        figures.save_png(path, figures.grid(shown.reshape((-1,) + shown.shape[2:]),
                                            shown.shape[1]))


def write_reports(workdir: str, rows: list[dict]) -> None:
    if not rows:
        return
    with atomic_file.replaced(os.path.join(workdir, "table2.md")) as f:
        f.write(table2(rows))
    with atomic_file.replaced(os.path.join(workdir, "significance.md")) as f:
        f.write(significance(rows))
    for generator in sorted({r["generator"] for r in rows}):
        plot_f1(rows, generator, os.path.join(workdir, f"f1_vs_size_{generator}.png"))
