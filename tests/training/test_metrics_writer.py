"""metrics.jsonl rows, resume truncation (including a torn last line) and TensorBoard files."""

import json

from wae_jax.training import metrics_writer


def test_rows_and_non_finite_values(tmp_path):
    writer = metrics_writer.MetricsWriter(str(tmp_path), 0, enabled=True)
    writer.write_scalars(1, {"train/loss": 2.5})
    writer.write_scalars(2, {"train/loss": float("nan"), "train/x": float("inf")})
    writer.close()
    assert metrics_writer.read_jsonl(str(tmp_path)) == [
        {"step": 1, "train/loss": 2.5}, {"step": 2, "train/loss": "nan", "train/x": "inf"}]
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_resume_drops_rows_after_the_checkpoint_and_torn_lines(tmp_path):
    path = tmp_path / metrics_writer.JSONL_NAME
    rows = [{"step": s, "train/loss": float(s)} for s in (2, 4, 6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 8, "tra')
    writer = metrics_writer.MetricsWriter(str(tmp_path), 4, enabled=True)
    writer.write_scalars(6, {"train/loss": 60.0})
    writer.close()
    assert metrics_writer.read_jsonl(str(tmp_path)) == rows[:2] + [
        {"step": 6, "train/loss": 60.0}]


def test_disabled_writer_writes_nothing(tmp_path):
    writer = metrics_writer.MetricsWriter(str(tmp_path), 0, enabled=False)
    writer.write_scalars(1, {"train/loss": 1.0})
    writer.close()
    assert list(tmp_path.iterdir()) == []
