"""Throughput of the wae_jax.data input pipeline (images/s), MNIST and CelebA-64.

  python benchmarks/input_pipeline.py [--steps=200] [--celeba_images=2048]

MNIST is read from the default data dir (prepared on first use). CelebA-64 is read
from the default data dir if prepared there; otherwise a synthetic CelebA (random
smooth 178x218 JPEGs in the official layout) is prepared in a temporary folder, which
the table says. Both go through the tfds array_record data source + grain, as training
does; the batches are consumed but not copied to a device.
"""

import os
import pathlib
import tempfile
import time

from absl import app
from absl import flags
import numpy as np
from PIL import Image

from wae_jax import data
from wae_jax.data import celeba
from wae_jax.data import preparation

_STEPS = flags.DEFINE_integer("steps", 200, "Timed batches per configuration.")
_CELEBA_IMAGES = flags.DEFINE_integer("celeba_images", 2048, "Synthetic CelebA size.")
_BATCH_SIZES = flags.DEFINE_list("batch_sizes", ["64", "256"], "Global batch sizes.")


def _write_synthetic_celeba(directory: pathlib.Path, n: int) -> None:
    rng = np.random.default_rng(0)
    (directory / celeba.IMAGES_DIR).mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for name in names:
        small = rng.integers(0, 256, (14, 12, 3), dtype=np.uint8)
        noise = rng.integers(-8, 8, (218, 178, 3))
        face = np.asarray(Image.fromarray(small).resize(celeba.ALIGNED_SIZE, Image.BILINEAR))
        Image.fromarray(np.clip(face + noise, 0, 255).astype(np.uint8)).save(
            directory / celeba.IMAGES_DIR / name, quality=95)
    codes = ["0"] * (n - n // 4) + ["1"] * (n // 8) + ["2"] * (n // 4 - n // 8)
    (directory / celeba.PARTITION_FILE).write_text(
        "".join(f"{f} {c}\n" for f, c in zip(names, codes)))
    (directory / celeba.ATTRIBUTE_FILE).write_text(
        f"{n}\n" + " ".join(celeba.ATTRIBUTE_NAMES) + "\n"
        + "".join(f"{f} " + " ".join(["-1"] * 40) + "\n" for f in names))


def _throughput(name: str, data_dir: os.PathLike | None, batch_size: int, flip: bool,
                steps: int) -> float:
    iterator = data.make_train_pipeline(name, batch_size=batch_size, seed=0,
                                        value_range="symmetric", random_flip=flip,
                                        data_dir=data_dir)
    for _ in range(5):  # warm-up: thread pool start and first reads
        next(iterator)
    start = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    rate = steps * batch_size / (time.perf_counter() - start)
    iterator.close()
    return rate


def main(argv: list[str]) -> None:
    del argv
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        celeba_dir, celeba_note = None, "real (default data dir)"
        if not preparation.prepare("mnist").is_prepared():
            raise RuntimeError("MNIST could not be prepared")
        try:
            data.num_examples("celeb_a_64", "train")
        except FileNotFoundError:
            celeba_dir = pathlib.Path(tmp) / "data"
            raw = pathlib.Path(tmp) / "raw"
            _write_synthetic_celeba(raw, _CELEBA_IMAGES.value)
            start = time.perf_counter()
            preparation.prepare("celeb_a_64", celeba_dir, raw, verify_counts=False)
            seconds = time.perf_counter() - start
            celeba_note = f"SYNTHETIC {_CELEBA_IMAGES.value} JPEGs (real data absent)"
            rate = _CELEBA_IMAGES.value / seconds
            print(f"CelebA-64 preparation (synthetic): {rate:.0f} images/s"
                  f" -> ~{202599 / rate / 60:.0f} min for the real "
                  "202,599 images on this machine")
        for name, data_dir, note in (("mnist", None, "real (default data dir)"),
                                     ("celeb_a_64", celeba_dir, celeba_note)):
            for batch_size in map(int, _BATCH_SIZES.value):
                for flip in (False, True):
                    rate = _throughput(name, data_dir, batch_size, flip, _STEPS.value)
                    rows.append((name, note, batch_size, flip, rate))
    print(f"\ninput pipeline throughput ({os.cpu_count()} CPU cores, value_range=symmetric)")
    print("| dataset | data | global batch | random_flip | images/s |")
    print("|---|---|---|---|---|")
    for name, note, batch_size, flip, rate in rows:
        print(f"| {name} | {note} | {batch_size} | {flip} | {rate:,.0f} |")


if __name__ == "__main__":
    app.run(main)
