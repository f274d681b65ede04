"""Runs the per-class study (:tiny) with a poisoned test split and spies on every function
that selects something; prints JSON: the spies' findings. Run as a script by
tests/studies/test_augment.py (in a subprocess, for its XLA flags and compilation cache).

Then it runs the study again in the same workdir: finished cells are skipped, so the
spies record no further call. The poison: every test image is NaN. A selection
function that saw one would hold a NaN in an argument; the spies also compare every
argument image with the real test images.
"""

import json
import sys

import numpy as np

from configs import augment_mnist
from wae_jax.studies.augmentation import classifiers, generators, per_class


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
    findings = {"calls": [], "nan": 0, "test_images": 0}
    per_class.load_test = lambda _: (np.full_like(real_test[0], np.nan), real_test[1])

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            findings["calls"].append(name)
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
    first = (findings["calls"][:], open(f"{workdir}/results.csv").read())
    per_class.run(config, workdir)
    findings["rerun_calls"] = findings["calls"][len(first[0]):]
    findings["rerun_changed_results"] = open(f"{workdir}/results.csv").read() != first[1]
    print(json.dumps(findings))


if __name__ == "__main__":
    main(*sys.argv[1:])
