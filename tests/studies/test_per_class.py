"""per_class.run's loop over the grid: finished cells and cells another process holds are
skipped (the cell's training is replaced by a recorder; the end-to-end run is in
test_augment.py)."""

import os

from configs import augment_mnist
from wae_jax.files import file_lock
from wae_jax.studies.augmentation import per_class, reports, results


def _recording_run(monkeypatch, workdir) -> list:
    trained = []

    def run_cell(config, workdir, cell, test):
        trained.append(cell)
        generator, latent_dim, size, seed = cell
        results.append_rows(os.path.join(workdir, "results.csv"), [
            dict(generator=generator, latent_dim=latent_dim, train_size=size, condition=c,
                 seed=seed, f1=0.5) for c in results.CONDITIONS])

    monkeypatch.setattr(per_class, "run_cell", run_cell)
    monkeypatch.setattr(per_class, "check_class_counts", lambda config: None)
    monkeypatch.setattr(per_class, "load_test", lambda config: ())
    monkeypatch.setattr(reports, "write_reports", lambda workdir, rows: None)
    return trained


def test_a_cell_held_by_another_process_is_skipped_and_done_cells_are_not_redone(
        tmp_path, monkeypatch):
    config = augment_mnist.get_config("tiny")
    config.latent_dims, config.seeds = (2, 3), (0, 1)
    trained = _recording_run(monkeypatch, tmp_path)
    held = ("vae", 2, 50, 1)
    with file_lock.claimed(per_class.claim_path(str(tmp_path), held)) as ours:
        assert ours
        per_class.run(config, str(tmp_path))
    assert trained == [("vae", 2, 50, 0), ("vae", 3, 50, 0), ("vae", 3, 50, 1)]
    per_class.run(config, str(tmp_path))  # released: only the skipped cell is left
    assert trained[3:] == [held]
    rows = results.read_rows(str(tmp_path / "results.csv"))
    assert len(rows) == 4 * len(results.CONDITIONS)
