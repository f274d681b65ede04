"""GFLOP/s of every FID-Inception convolution per lowering, and the whole network's images/s.

Why: `inception.CPU_CONVS` (which layers leave XLA's convolution on CPU, and for what) is
chosen from this table; rerun it when XLA, the CPU or the batch size changes.

Usage: python benchmarks/inception_layers.py [--batch-size 16] [--rounds 3] [--json]
Per distinct conv shape of the 299x299 network (forward only, random weights): XLA's
convolution, patches + one matmul, patches in blocks of `inception.BLOCKS` (images, rows), and
Winograd's F(m, k) with tiles m = 2, 4, 6 (stride-1 convs wider than 1x1; '-' elsewhere),
alternated per round, medians; 'best' names the fastest. Then the whole network with its CPU
choice ('auto') against XLA's convolution everywhere ('xla'), alternated per round, and the
fraction of the float32 matmul peak that 'auto' reaches. --json prints one line: the two
networks' images/s, their median ratio, the peak, and the 1-minute load average.
"""

import argparse
import collections
import json
import os
import statistics
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from wae_jax import cli
from wae_jax.evaluation import inception

LAYER_LOWERINGS = ("xla", "patches", "blocks", "winograd2", "winograd4", "winograd6")


def conv_layers(batch: int) -> collections.Counter:
    """(input shape, ConvSpec) -> how many layers of the network have it."""
    layers = collections.Counter()

    def record(next_fun, args, kwargs, context):
        if isinstance(context.module, inception.ConvBN) and context.method_name == "__call__":
            layers[(tuple(args[0].shape), context.module.conv)] += 1
        return next_fun(*args, **kwargs)

    x = jax.ShapeDtypeStruct((batch, inception.INPUT_SIZE, inception.INPUT_SIZE, 3), jnp.float32)
    with nn.intercept_methods(record):
        jax.eval_shape(inception.FIDInception().init, jax.random.key(0), x)
    return layers


def alternating_times(runners: dict, rounds: int) -> dict[str, list[float]]:
    """Each runner once untimed, then `rounds` alternating timed calls."""
    times = {name: [] for name in runners}
    for run in runners.values():
        run()
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def layer_table(batch: int, rounds: int) -> list[str]:
    rows = []
    for (shape, conv), count in sorted(conv_layers(batch).items(),
                                       key=lambda kv: -np.prod(kv[0][0][1:3])):
        x = jnp.asarray(np.random.default_rng(0).random(shape), jnp.float32)
        runners = {}
        for lowering in LAYER_LOWERINGS:
            if lowering.startswith("winograd") and not inception.forced_lowering(lowering, conv):
                continue
            layer = inception.ConvBN(conv, lowering=lowering)
            params = layer.init(jax.random.key(0), x)
            apply = jax.jit(layer.apply)
            runners[lowering] = (lambda a=apply, p=params: a(p, x).block_until_ready())
        times = alternating_times(runners, rounds)
        features, (kh, kw), stride, _ = conv
        out = jax.eval_shape(inception.ConvBN(conv).init_with_output, jax.random.key(0), x)[0]
        flops = 2 * np.prod(out.shape) * kh * kw * shape[3]
        rates = [f"{flops / statistics.median(times[n]) / 1e9:7.0f}" if n in times else "-"
                 for n in LAYER_LOWERINGS]
        best = min(times, key=lambda n: statistics.median(times[n]))
        rows.append(f"| {shape[1]}x{shape[2]}x{shape[3]} | {kh}x{kw}/{stride} -> {features} | "
                    f"{count} | " + " | ".join(rates) + f" | {best} | "
                    f"{describe(inception.cpu_lowering(shape, conv))} |")
    return rows


def describe(lowering: inception.Lowering) -> str:
    if lowering is None:
        return "xla"
    if lowering[0] == "winograd":
        return f"winograd{lowering[1]}"
    return "patches, blocks {}x{}".format(*lowering[1:])


def matmul_gflops(n: int = 1024, rounds: int = 7) -> float:
    """The float32 matmul rate of this machine: the ceiling of any conv lowering."""
    a = jnp.ones((n, n), jnp.float32)
    matmul = jax.jit(jnp.matmul)
    times = alternating_times({"matmul": lambda: matmul(a, a).block_until_ready()}, rounds)
    return 2 * n ** 3 / statistics.median(times["matmul"]) / 1e9


def network_flops() -> float:
    """FLOPs of one 299x299 image by XLA's cost analysis."""
    x = jax.ShapeDtypeStruct((1, inception.INPUT_SIZE, inception.INPUT_SIZE, 3), jnp.float32)
    apply = jax.jit(lambda p, x: inception.FIDInception(lowering="xla").apply({"params": p}, x))
    cost = apply.lower(inception.param_shapes(), x).compile().cost_analysis()
    return (cost[0] if isinstance(cost, list) else cost)["flops"]


def network_rates(batch: int, rounds: int) -> dict[str, float]:
    size = inception.INPUT_SIZE
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (batch, size, size, 3)), jnp.float32)
    params = jax.tree.map(lambda s: jnp.full(s.shape, 0.01, s.dtype), inception.param_shapes())
    runners = {}
    for lowering in ("auto", "xla"):
        apply = jax.jit(lambda p, x, lowering=lowering: inception.FIDInception(
            lowering=lowering).apply({"params": p}, x))
        runners[lowering] = (lambda a=apply: a(params, x).block_until_ready())
    times = alternating_times(runners, rounds)
    ratio = statistics.median(x / a for a, x in zip(times["auto"], times["xla"]))
    return {"auto_images_per_sec": batch / statistics.median(times["auto"]),
            "xla_images_per_sec": batch / statistics.median(times["xla"]),
            "auto_over_xla": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    cli.keep_freed_buffers()  # as the command lines do (WAE_JAX_MALLOPT=0: glibc's defaults)
    if not args.json:
        print(f"backend {jax.default_backend()}, batch {args.batch_size}, forward GFLOP/s, "
              f"medians of {args.rounds} alternating rounds")
        print("| input | conv | layers | " + " | ".join(LAYER_LOWERINGS) + " | best | CPU choice |")
        print("|---" * (len(LAYER_LOWERINGS) + 5) + "|")
        print("\n".join(layer_table(args.batch_size, args.rounds)))
    rates = network_rates(args.batch_size, args.rounds)
    peak, flops = matmul_gflops(), network_flops()
    rates.update(matmul_gflops=peak, gflop_per_image=flops / 1e9,
                 auto_fraction_of_matmul_peak=rates["auto_images_per_sec"] * flops / 1e9 / peak)
    if args.json:
        print(json.dumps({**rates, "batch_size": args.batch_size, "rounds": args.rounds,
                          "backend": jax.default_backend(), "load1": os.getloadavg()[0]}))
        return
    print(f"whole network: auto {rates['auto_images_per_sec']:.2f} images/s, xla "
          f"{rates['xla_images_per_sec']:.2f}, median ratio {rates['auto_over_xla']:.2f}x; "
          f"{flops / 1e9:.1f} GFLOP per image, float32 matmul peak {peak:.0f} GFLOP/s, auto at "
          f"{rates['auto_fraction_of_matmul_peak']:.0%} of it")


if __name__ == "__main__":
    main()
