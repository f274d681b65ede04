"""Images/s of the Flax FID Inception next to torch.jit.load(default_1.pt) on the same images.

Why: FID on 10,000 samples is the costliest evaluation step on CPU; this shows what the
port costs relative to the TorchScript original (needs the optional torch install and
the weights, fetched by `load_inception_params()` on first use).

Usage: python benchmarks/inception_throughput.py [--batch-size 16] [--runs 5] [--json]
Both networks get identical 299x299 inputs in [-1, 1) and the same batch size; the two
are alternated within each round so machine drift hits them equally, and the table
reports medians (the ratio column is the median of per-round ratios). A third row times
the full `inception_features` path from 64x64 uint8 images (resize included). --json
prints one line instead: the Flax network's `images_per_sec`, torch's, the full path's,
and the 1-minute load average (other jobs on the CPU lower every figure).
"""

import argparse
import json
import os
import statistics
import time

import jax
import numpy as np
import torch

from wae_jax import cli
from wae_jax.evaluation import features, inception, inception_weights


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    cli.keep_freed_buffers()  # as the command lines do (WAE_JAX_MALLOPT=0: glibc's defaults)

    params = jax.device_put(inception_weights.load_inception_params())
    weights = inception_weights.default_cache_dir() / inception_weights.TORCHSCRIPT_NAME
    torch_net = torch.jit.load(str(weights), map_location="cpu").eval()
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (args.batch_size, 64, 64, 3), np.uint8)
    x = np.asarray(features.inception_input(small))  # [B, 299, 299, 3] in [-1, 1)
    x_torch = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    apply = jax.jit(lambda p, x: inception.FIDInception().apply({"params": p}, x))
    runners = {
        "flax (network)": lambda: apply(params, x).block_until_ready(),
        "torch jit (network)": lambda: torch_net(x_torch),
        "flax inception_features (64x64 uint8)": lambda: features.inception_features(
            small, batch_size=args.batch_size, params=params),
    }
    times = {name: [] for name in runners}
    with torch.inference_mode():
        for run in runners.values():  # compile / TorchScript profiling passes
            run()
            run()
        for _ in range(args.runs):
            for name, run in runners.items():
                times[name].append(timed(run))

    ratios = [t / f for t, f in zip(times["torch jit (network)"], times["flax (network)"])]
    per_sec = {name: args.batch_size / statistics.median(ts) for name, ts in times.items()}
    if args.json:
        print(json.dumps({
            "images_per_sec": per_sec["flax (network)"],
            "torch_images_per_sec": per_sec["torch jit (network)"],
            "features_images_per_sec": per_sec["flax inception_features (64x64 uint8)"],
            "batch_size": args.batch_size, "runs": args.runs,
            "backend": jax.default_backend(), "load1": os.getloadavg()[0]}))
        return
    print(f"backend {jax.default_backend()}, torch threads {torch.get_num_threads()}, "
          f"batch {args.batch_size}, {args.runs} runs, medians")
    print(f"| {'implementation':40s} | s/batch | images/s |")
    print(f"|{'-' * 42}|---------|----------|")
    for name, ts in times.items():
        print(f"| {name:40s} | {statistics.median(ts):7.2f} | {per_sec[name]:8.2f} |")
    print(f"flax network speed-up over torch (median of per-round ratios): "
          f"{statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
