import math

import pytest

from wae_jax.evaluation.significance import wilcoxon_pvalues, wilcoxon_table


def test_hand_computed_wilcoxon_case():
    """Differences a - b = 1, -2, 3, 4, 5: ranks 1..5, W- = 2. Exactly, 3 of the 32
    sign patterns have a rank sum <= 2 ({}, {1}, {2}): two-sided p = 2 * 3/32."""
    a = [11.0, 8.0, 13.0, 14.0, 15.0]
    b = [10.0, 10.0, 10.0, 10.0, 10.0]
    table = wilcoxon_pvalues({"a": a, "b": b})
    assert table[("a", "b")] == (pytest.approx(6 / 32), 4)
    assert table[("b", "a")] == (pytest.approx(6 / 32), 1)


def test_identical_conditions_have_no_p_value_and_lengths_must_match():
    table = wilcoxon_pvalues({"a": [1.0, 2.0], "b": [1.0, 2.0]})
    assert math.isnan(table[("a", "b")][0]) and table[("a", "b")][1] == 0
    with pytest.raises(ValueError, match="equal lengths"):
        wilcoxon_pvalues({"a": [1.0], "b": [1.0, 2.0]})


def test_markdown_table_of_the_hand_computed_case_and_of_no_pairs():
    a = [11.0, 8.0, 13.0, 14.0, 15.0]
    b = [10.0, 10.0, 10.0, 10.0, 10.0]
    assert wilcoxon_table({"a": a, "b": b}, {"a": "A", "b": "B"}) == [
        "| row vs column | A | B |", "|---|---|---|",
        f"| A |  | p={6 / 32:.3g} (w=4/5) |", f"| B | p={6 / 32:.3g} (w=1/5) |  |"]
    assert wilcoxon_table({"a": [], "b": []})[2:] == ["| a |  |  |", "| b |  |  |"]
