"""Wilcoxon signed-rank tests between paired conditions (the augmentation paper's Table 3)."""

import itertools
from typing import Mapping, Optional, Sequence

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


def wilcoxon_table(scores: Mapping[str, Sequence[float]],
                   labels: Optional[Mapping[str, str]] = None) -> list[str]:
    """Markdown rows of `wilcoxon_pvalues`: "p=... (w=wins/n)" for row against column
    (empty cells when there are no paired scores)."""
    names = list(scores)
    labels = labels or {name: name for name in names}
    n = len(scores[names[0]])
    table = wilcoxon_pvalues(scores) if n else {}
    lines = ["| row vs column | " + " | ".join(labels[b] for b in names) + " |",
             "|---|" + "---|" * len(names)]
    for a in names:
        lines.append(f"| {labels[a]} | " + " | ".join(
            "" if a == b or not table else f"p={table[(a, b)][0]:.3g} (w={table[(a, b)][1]}/{n})"
            for b in names) + " |")
    return lines
