"""Runs the per-class study (:tiny) into a workdir, interrupted inside its second CNN
training (as a kill would: nothing after it runs), then again; prints JSON: what the
interrupted run left in the cell's progress folder, what the second run trained, and
the final F1 rows. Run as a script by tests/studies/test_augment.py (in a subprocess,
for its XLA flags and compilation cache)."""

import json
import os
import sys

from configs import augment_mnist
from wae_jax.studies.augmentation import classifiers, generators, per_class, results
from wae_jax.files import json_file


class Interrupted(Exception):
    pass


def main(data_dir: str, workdir: str) -> None:
    config = augment_mnist.get_config("tiny")
    config.data_dir = data_dir
    cell = next(per_class.cells(config))
    progress = per_class.progress_dir(workdir, cell)
    train_cnn, train_generators = classifiers.train, generators.train
    calls = []

    def interrupting(*args, **kwargs):
        calls.append("classifiers.train")
        if len(calls) == 2:
            raise Interrupted
        return train_cnn(*args, **kwargs)

    classifiers.train = interrupting
    try:
        per_class.run(config, workdir)
    except Interrupted:
        pass
    findings = {"left": sorted(os.listdir(progress)),
                "scored": sorted(json_file.read(os.path.join(progress, "f1.json"))),
                "rows_after_interruption": len(results.read_rows(f"{workdir}/results.csv"))}

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            calls.append(name)
            return fn(*args, **kwargs)
        return wrapped

    calls.clear()
    classifiers.train = spy("classifiers.train", train_cnn)
    generators.train = spy("generators.train", train_generators)
    per_class.run(config, workdir)
    findings["resumed_calls"] = calls
    findings["progress_removed"] = not os.path.exists(progress)
    findings["f1"] = {r["condition"]: r["f1"] for r in results.read_rows(
        f"{workdir}/results.csv")}
    print(json.dumps(findings))


if __name__ == "__main__":
    main(*sys.argv[1:])
