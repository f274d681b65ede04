"""The per-class study's tables from hand-made rows (numbers worked out by hand)."""

from wae_jax.studies.augmentation import reports

CONDITIONS = ("cnn", "vae", "aug", "aug_vae")


def _rows(generator, latent, size, seed, f1s):
    return [{"generator": generator, "latent_dim": latent, "train_size": size,
             "condition": c, "seed": seed, "f1": f1} for c, f1 in zip(CONDITIONS, f1s)]


def test_table2_prints_mean_and_std_over_seeds_and_the_papers_numbers():
    rows = (_rows("vae", 3, 50, 0, (0.70, 0.60, 0.80, 0.90))
            + _rows("vae", 3, 50, 1, (0.74, 0.64, 0.90, 0.80))
            + _rows("vae", 8, 1000, 0, (0.9438, 0.9556, 0.9357, 0.9605)))
    table = reports.table2(rows)
    # population std of two values a, b is |a - b| / 2
    assert ("| 3 | 50 | 72.00 ± 2.00 (2) | 76.30 | 62.00 ± 2.00 (2) | 85.40 | "
            "85.00 ± 5.00 (2) | 86.10 | 85.00 ± 5.00 (2) | 90.86 |") in table
    # one seed: no spread is claimed
    assert ("| 8 | 1000 | 94.38 (1) | - | 95.56 (1) | - | 93.57 (1) | - | 96.05 (1) | - |"
            in table)


def test_significance_counts_only_cells_finished_under_every_condition():
    rows = (_rows("vae", 2, 50, 0, (0.7, 0.6, 0.8, 0.9)) + _rows("vae", 2, 50, 1, (0.7, 0.6))
            + _rows("w2vae", 3, 50, 0, (0.7, 0.6, 0.8, 0.9)))
    text = reports.significance(rows)
    assert "## Generator: vae (1 paired cells)" in text
    assert "## Generator: w2vae (1 paired cells)" in text


def test_effects_by_size_averages_the_paired_differences_of_each_size():
    rows = (_rows("vae", 2, 50, 0, (0.70, 0.60, 0.80, 0.90))     # VAE-CNN -10, A+V-AUG +10
            + _rows("vae", 3, 50, 0, (0.70, 0.74, 0.80, 0.78))   # +4, -2; A+V-CNN +8
            + _rows("vae", 2, 100, 1, (0.90, 0.91, 0.95, 0.94))  # +1, -1; +4
            + _rows("vae", 2, 100, 2, (0.90, 0.91)))             # unfinished: left out
    lines = reports.effects_by_size(rows, "vae")
    assert lines[2:] == ["| 50 | 2 | -3.00 | 1/2 | +4.00 | 1/2 | +14.00 | 2/2 |",
                         "| 100 | 1 | +1.00 | 1/1 | -1.00 | 0/1 | +4.00 | 1/1 |"]
    assert lines[0].startswith("| train size | cells | VAE - CNN | higher | AUG+VAE - AUG |")


def test_generators_are_compared_on_the_cells_both_finished():
    vae_f1 = [0.60, 0.62, 0.70, 0.75, 0.81, 0.90]
    w2_f1 = [0.65, 0.61, 0.78, 0.77, 0.86, 0.93]  # w2vae - vae: +5, -1, +8, +2, +5, +3
    rows = []
    for i, (v, w) in enumerate(zip(vae_f1, w2_f1)):
        latent, size, seed = (2, 3)[i % 2], (50, 100, 250)[i // 2], i
        rows += _rows("vae", latent, size, seed, (0.5, v, 0.8, v + 0.1))
        rows += _rows("w2vae", latent, size, seed, (0.5, w, 0.8, v + 0.1))
    rows += _rows("vae", 8, 50, 0, (0.5, 0.1, 0.8, 0.1))  # no w2vae cell: left out
    rows += _rows("w2vae", 2, 500, 0, (0.5, 0.9))          # unfinished: left out
    lines = reports.generators_compared(rows)
    # scipy.stats.wilcoxon([-5, 1, -8, -2, -5, -3]) by hand: ranks of |d| 4.5, 1, 6, 2,
    # 4.5, 3; W+ = 1, the exact two-sided p for n = 6 is 2 * 2 / 64 = 0.0625.
    assert lines[2] == "| VAE | vae - w2vae | 6 | -3.67 | 1/6 | 0.0625 |"
    assert lines[3] == "| AUG+VAE | vae - w2vae | 6 | +0.00 | 0/6 | nan |"  # all equal
    assert reports.generators_compared([r for r in rows if r["generator"] == "vae"]) == []
    assert "## Generators compared" in reports.significance(rows)
