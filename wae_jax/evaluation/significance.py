"""Wilcoxon signed-rank tests between paired conditions (the augmentation paper's Table 3)."""

import itertools
from typing import Mapping, Sequence

import numpy as np
from scipy import stats


def wilcoxon_pvalues(scores: Mapping[str, Sequence[float]]
                     ) -> dict[tuple[str, str], tuple[float, int]]:
    """For each ordered pair (a, b) of conditions: (two-sided p-value, how many paired
    cells a beats b), over the paired scores scores[a][i], scores[b][i].

    p is NaN when every difference is zero (scipy cannot rank them).
    """
    lengths = {name: len(values) for name, values in scores.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"scores: paired conditions need equal lengths, got {lengths}")
    table = {}
    for a, b in itertools.permutations(scores, 2):
        x, y = np.asarray(scores[a], np.float64), np.asarray(scores[b], np.float64)
        wins = int(np.sum(x > y))
        p = float(stats.wilcoxon(x, y).pvalue) if np.any(x != y) else float("nan")
        table[(a, b)] = (p, wins)
    return table
