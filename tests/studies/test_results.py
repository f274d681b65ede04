import pytest

from wae_jax.studies.augmentation import results

ROW = {"generator": "vae", "latent_dim": 3, "train_size": 50, "condition": "cnn", "seed": 0,
       "f1": 0.5}


def test_rows_round_trip_typed(tmp_path):
    path = str(tmp_path / "results.csv")
    results.append_rows(path, [ROW])
    results.append_rows(path, [{**ROW, "seed": 1, "f1": 0.25}])
    assert results.read_rows(path) == [ROW, {**ROW, "seed": 1, "f1": 0.25}]


def test_a_row_missing_a_column_is_refused(tmp_path):
    path = tmp_path / "results.csv"
    with pytest.raises(KeyError, match="f1"):
        results.append_rows(str(path), [{k: v for k, v in ROW.items() if k != "f1"}])
