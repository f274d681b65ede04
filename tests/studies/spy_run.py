"""Runs the per-class study (:tiny) with a poisoned test split and spies on every function
that selects something; prints JSON: the spies' findings. Run as a script by
tests/studies/test_augment.py (in a subprocess, for its XLA flags and compilation cache).

Then it runs the study again in the same workdir: finished cells are skipped, so the
spies record no further call. Then the cell at latent size 3, in the same workdir (its
CNN and AUG scores reused from latent 2's) and in a fresh one (all four trained): the
spy on classifiers.train hashes every argument, so the findings show whether the CNN
and AUG trainings of latent 3 get exactly the inputs of latent 2's (then their scores
are the same by determinism, and reusing them is exact). The poison: every test image is NaN. A selection
function that saw one would hold a NaN in an argument; the spies also compare every
argument image with the real test images.
"""

import hashlib
import json
import os
import pathlib
import sys

import numpy as np

from configs import augment_mnist
from wae_jax.studies.augmentation import classifiers, generators, per_class, results


def digest(value) -> str:
    """sha256 of every array's bytes and every other leaf's repr, in order."""
    h = hashlib.sha256()
    for leaf in leaves(value):
        h.update(leaf.tobytes() if isinstance(leaf, np.ndarray) else repr(leaf).encode())
    return h.hexdigest()


def leaves(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def arrays_in(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from arrays_in(item)


def main(data_dir: str, workdir: str) -> None:
    config = augment_mnist.get_config("tiny")
    config.data_dir = data_dir
    real_test = per_class.load_test(config)
    test_rows = {image.tobytes() for image in real_test[0]}
    findings = {"calls": [], "inputs": [], "nan": 0, "test_images": 0}
    per_class.load_test = lambda _: (np.full_like(real_test[0], np.nan), real_test[1])

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            findings["calls"].append(name)
            findings["inputs"].append(digest([args, sorted(kwargs.items())]))
            for array in arrays_in(list(args) + list(kwargs.values())):
                if array.dtype.kind == "f":
                    findings["nan"] += int(np.isnan(array).any())
                    images = array.reshape((-1,) + real_test[0].shape[1:]) if (
                        array.size % real_test[0][0].size == 0 and array.ndim >= 3) else []
                    findings["test_images"] += sum(i.tobytes() in test_rows for i in images)
            return fn(*args, **kwargs)
        return wrapped

    generators.train = spy("generators.train", generators.train)
    classifiers.train = spy("classifiers.train", classifiers.train)
    per_class.run(config, workdir)
    first = (findings["calls"][:], pathlib.Path(workdir, "results.csv").read_text())
    per_class.run(config, workdir)
    findings["rerun_calls"] = findings["calls"][len(first[0]):]
    findings["rerun_changed_results"] = (
        pathlib.Path(workdir, "results.csv").read_text() != first[1])
    config.latent_dims = (3,)
    calls_before = len(findings["calls"])
    per_class.run(config, workdir)
    findings["reusing_calls"] = findings["calls"][calls_before:]
    f1 = {(r["latent_dim"], r["condition"]): r["f1"]
          for r in results.read_rows(f"{workdir}/results.csv")}
    findings["f1"] = {f"{latent}/{condition}": value for (latent, condition), value in f1.items()}
    fresh = os.path.join(workdir, "fresh")
    os.makedirs(fresh)
    calls_before = len(findings["calls"])
    per_class.run(config, fresh)
    # CNN inputs per condition (calls 1-4 of the cell's 5): latent 2's, latent 3's.
    findings["cnn_inputs"] = [findings["inputs"][1:5],
                              findings["inputs"][calls_before + 1:calls_before + 5]]
    print(json.dumps(findings))


if __name__ == "__main__":
    main(*sys.argv[1:])
