"""Forward+backward time of XLA's convolutions vs the CPU rewrite in wae_jax.models.conv.

Why: XLA:CPU's backward of some strided and of all strided transposed convolutions runs in
a naive loop at 1-5 GFLOP/s, and so does every pass of a stride-1 conv with few output
channels (guide, section 4; conv.py's docstring says why). This script times both
lowerings, and what 'auto' picks, on the layers of the paper's DCGAN nets, pythae's MNIST
nets and the augmentation study's VAE (batch 100) so the choice in conv.py rests on numbers.

Usage: python benchmarks/conv_lowering.py [--repeats 3] [--budget 60] [--grad xw|w]
           [--filter TEXT] [--json]
Each cell is the median over up to `repeats` runs of the AOT-compiled step after one
warm-up run, stopping early once a lowering has used `budget` seconds; a warm-up slower
than `budget` is kept as the only sample. GFLOP/s counts the layer's useful multiply-adds
(x2): forward, plus one forward's worth per gradient taken. --json prints one line per
layer (ms and GFLOP/s per lowering, the 1-minute load average) instead of the table.
"""

import argparse
import json
import os
import statistics
import time
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from wae_jax.models import conv


class Layer(NamedTuple):
    """Input [batch, size, size, cin] -> cout with a k x k kernel."""
    name: str
    op: str  # "conv" | "convT"
    size: int
    cin: int
    cout: int
    k: int
    stride: int = 2
    padding: object = "SAME"
    output_padding: int = 0
    batch: int = 100


LAYERS = (
    Layer("wae mnist enc 1", "conv", 28, 1, 128, 4),
    Layer("wae mnist enc 2", "conv", 14, 128, 256, 4),
    Layer("wae mnist enc 3", "conv", 7, 256, 512, 4),
    Layer("wae mnist enc 4", "conv", 4, 512, 1024, 4),
    Layer("pythae enc 3", "conv", 7, 256, 512, 4, padding=1),
    Layer("pythae enc 4", "conv", 3, 512, 1024, 4, padding=1),
    Layer("celeba enc 1", "conv", 64, 3, 128, 5),
    Layer("celeba enc 2", "conv", 32, 128, 256, 5),
    Layer("celeba enc 3", "conv", 16, 256, 512, 5),
    Layer("celeba enc 4", "conv", 8, 512, 1024, 5),
    Layer("pythae dec 1", "convT", 4, 1024, 512, 3, padding=1),
    Layer("pythae dec 2", "convT", 7, 512, 256, 3, padding=1, output_padding=1),
    Layer("pythae dec 3", "convT", 14, 256, 1, 3, padding=1, output_padding=1),
    Layer("wae mnist dec 1", "convT", 7, 1024, 512, 4, padding=1),
    Layer("wae mnist dec 2", "convT", 14, 512, 256, 4, padding=1),
    Layer("guide 7->14 128", "convT", 7, 128, 128, 4, padding=1),
    # The `:small` DCGAN of the main job (configs/mnist_mmd.py:small: widths 8-16-32-64).
    Layer("small enc 1", "conv", 28, 1, 8, 4),
    Layer("small enc 2", "conv", 14, 8, 16, 4),
    Layer("small enc 3", "conv", 7, 16, 32, 4),
    Layer("small enc 4", "conv", 4, 32, 64, 4),
    Layer("small dec 1", "convT", 7, 64, 32, 4, padding=1),
    Layer("small dec 2", "convT", 14, 32, 16, 4, padding=1),
    Layer("small dec out", "conv", 28, 16, 1, 4, stride=1),
    Layer("celeba dec 1", "convT", 8, 1024, 512, 5, padding=2, output_padding=1),
    Layer("celeba dec 2", "convT", 16, 512, 256, 5, padding=2, output_padding=1),
    Layer("celeba dec 3", "convT", 32, 256, 128, 5, padding=2, output_padding=1),
    # Stride 1. Narrow outputs (shift-and-add under 'rewrite'/'auto', conv._narrow_output):
    Layer("wae mnist dec out", "conv", 28, 256, 1, 4, stride=1),
    Layer("dcgan 256->3 k4", "conv", 28, 256, 3, 4, stride=1),
    Layer("dcgan 256->8 k4", "conv", 28, 256, 8, 4, stride=1),
    Layer("dcgan 256->16 k4", "conv", 28, 256, 16, 4, stride=1),  # wide: XLA
    Layer("celeba dec out", "conv", 64, 128, 3, 5, stride=1),  # wide: XLA
    Layer("aug vae dec out", "conv", 29, 64, 1, 2, stride=1, padding="VALID"),
    Layer("aug vae enc 1", "conv", 28, 1, 1, 2, stride=1),
    # The augmentation VAE's stride-1 transposed convs: 'rewrite' is the flipped plain conv,
    # 'phases' the scattered-taps rewrite that every transposed conv used before.
    Layer("aug vae dec 1", "convT", 14, 64, 64, 3, stride=1, padding=1),
    Layer("aug vae dec 1", "convT_phases", 14, 64, 64, 3, stride=1, padding=1),
    Layer("aug vae dec 3", "convT", 14, 64, 64, 3, padding=0),
)


def forward(layer: Layer, lowering: str) -> Callable:
    """The layer's op as a function (x, w) -> y under the given lowering."""
    if layer.op == "conv":
        return lambda x, w: conv.conv2d(x, w, layer.stride, layer.padding, lowering)
    if layer.op == "convT_phases" and lowering == "rewrite":
        return lambda x, w: conv._conv_transpose2d_rewrite(
            x, w, layer.stride, layer.padding, layer.output_padding, conv._scattered_taps)
    return lambda x, w: conv.conv_transpose2d(x, w, layer.stride, layer.padding,
                                              layer.output_padding, lowering)


def auto_choice(layer: Layer, x: jax.Array, w: jax.Array) -> str:
    """Which lowering 'auto' uses here: the one whose program it is."""
    programs = {name: str(jax.make_jaxpr(forward(layer, name))(x, w))
                for name in ("auto", "xla", "rewrite")}
    return "xla" if programs["auto"] == programs["xla"] else (
        "rewrite" if programs["auto"] == programs["rewrite"] else "other")


def compiled_step(fn: Callable, argnums: tuple[int, ...], x, w, cotangent) -> Callable:
    """AOT-compiled gradient of <fn(x, w), cotangent>: the layer's forward + backward."""
    grad = jax.grad(lambda x, w, c: jnp.vdot(fn(x, w), c), argnums=argnums)
    return jax.jit(grad).lower(x, w, cotangent).compile()


def time_ms(step: Callable, args, repeats: int, budget_s: float) -> tuple[float, int]:
    """Median wall-clock ms of step(*args) after a warm-up, and the number of samples."""
    def once() -> float:
        start = time.perf_counter()
        jax.block_until_ready(step(*args))
        return time.perf_counter() - start

    warm_up = once()
    if warm_up > budget_s:
        return 1e3 * warm_up, 1
    samples, spent = [], 0.0
    while len(samples) < repeats and (not samples or spent < budget_s):
        samples.append(once())
        spent += samples[-1]
    return 1e3 * statistics.median(samples), len(samples)


def gflop(layer: Layer, out_hw: tuple[int, int], n_grads: int) -> float:
    """Useful GFLOP of forward + backward (a transposed conv touches every input pixel)."""
    pixels = layer.size ** 2 if layer.op.startswith("convT") else out_hw[0] * out_hw[1]
    forward_flop = 2.0 * layer.batch * pixels * layer.k ** 2 * layer.cin * layer.cout
    return (1 + n_grads) * forward_flop / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per cell")
    parser.add_argument("--grad", choices=("xw", "w"), default="xw",
                        help="differentiate w.r.t. input and kernel, or the kernel only")
    parser.add_argument("--filter", default="", help="only layers whose name contains this")
    parser.add_argument("--json", action="store_true", help="one JSON line per layer")
    args = parser.parse_args()
    argnums = (0, 1) if args.grad == "xw" else (1,)
    table = print if not args.json else (lambda *a, **k: None)
    table(f"jax {jax.__version__}, {jax.devices()[0].device_kind}; forward + grad w.r.t. "
          f"{args.grad}; median of <= {args.repeats} runs (n) after warm-up")
    table(f"{'layer':16} {'op':5} {'shape':24} {'k/s/p/op':11} {'xla ms':>9} {'n':>2} "
          f"{'rewrite ms':>10} {'n':>2} {'xla/rw':>7} {'GF/s xla':>8} {'GF/s rw':>8} auto")
    rng = np.random.default_rng(0)
    for layer in LAYERS:
        if args.filter not in layer.name:
            continue
        # On the device: numpy arguments would be copied in on every call (80 MB per call
        # for a 28x28x256 batch of 100), inflating both columns alike.
        x = jnp.asarray(rng.standard_normal((layer.batch, layer.size, layer.size, layer.cin),
                                            np.float32))
        w = jnp.asarray(0.05 * rng.standard_normal((layer.k, layer.k, layer.cin, layer.cout),
                                                   np.float32))
        out = jax.eval_shape(forward(layer, "xla"), x, w).shape
        cotangent = jnp.asarray(rng.standard_normal(out, np.float32))
        ms, runs = {}, {}
        for lowering in ("xla", "rewrite"):
            step = compiled_step(forward(layer, lowering), argnums, x, w, cotangent)
            ms[lowering], runs[lowering] = time_ms(step, (x, w, cotangent), args.repeats,
                                                   args.budget)
        work = gflop(layer, out[1:3], len(argnums))
        shape = f"{layer.size}x{layer.size}x{layer.cin}->{out[1]}x{out[2]}x{layer.cout}"
        kspo = f"{layer.k}/{layer.stride}/{layer.padding}/{layer.output_padding}"
        if args.json:
            print(json.dumps({
                "layer": layer.name, "op": layer.op, "shape": shape, "k/s/p/op": kspo,
                "grad": args.grad, "xla_ms": ms["xla"], "rewrite_ms": ms["rewrite"],
                "xla_gflops_per_sec": 1e3 * work / ms["xla"],
                "rewrite_gflops_per_sec": 1e3 * work / ms["rewrite"],
                "auto": auto_choice(layer, x, w), "load1": os.getloadavg()[0]}), flush=True)
            continue
        print(f"{layer.name:16} {layer.op:5} {shape:24} {kspo:11} {ms['xla']:9.1f} "
              f"{runs['xla']:2d} {ms['rewrite']:10.1f} {runs['rewrite']:2d} "
              f"{ms['xla'] / ms['rewrite']:7.2f} {1e3 * work / ms['xla']:8.1f} "
              f"{1e3 * work / ms['rewrite']:8.1f} {auto_choice(layer, x, w)}", flush=True)


if __name__ == "__main__":
    main()
