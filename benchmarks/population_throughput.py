"""Models/hour of a population (K members in one program) vs K sequential runs.

  python benchmarks/population_throughput.py --k=1,4,16 --rounds=5 --json
  python benchmarks/population_throughput.py --k=64 --rounds=3 --json  # DCGAN: ~4.5 s a step
  python benchmarks/population_throughput.py --configs=augmentation_vae --k=10 \
      --per_member_data --json  # the augmentation study's ten class VAEs

With XLA_FLAGS=--xla_force_host_platform_device_count=2 (one host device per core) the
population is split over the devices as the trainer splits it, each device looping over its
own members; the solo baseline stays on one device.

K=64 is not in the default list: its DCGAN population step takes ~4.5 s on 2 cores.

What is timed: the trainer's own step (steps.make_train_step) on one resident MNIST-shaped
batch. The population program is the population trainer's step
(population.make_population_step) on K stacked states (one seed each), sharing the batch
or, with --per_member_data, each member its own; it runs the members as each --vectorize
says ('vmap': batched ops; 'loop': one after another in the one program), with the
model's conv lowering set to --pop_lowering ('matmul': a vmapped convolution with
per-member weights becomes a grouped convolution that XLA:CPU runs badly; see
wae_jax/models/conv.py). The baseline is one solo
run's step (steps.compile_train_step, the config's own lowering: the best a solo run gets)
repeated: K sequential runs give the same models/hour as one. models/hour =
3600 * member-steps/s / config.num_train_steps; the ratio is K * t_solo / t_population.

These machines drift 15-25% over minutes and other jobs may share the CPU, so each round
times the solo step and then each population step, alternating, and the ratio quoted is the
median over rounds. The 1-minute load average (os.getloadavg) is recorded per round.
"""

import json
import os
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # for configs/

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from absl import flags  # noqa: E402

from configs import augment_mnist, mnist_mlp_w2vae, mnist_mmd  # noqa: E402
from wae_jax import cli, models  # noqa: E402
from wae_jax.models import conv  # noqa: E402
from wae_jax.studies.augmentation import per_class  # noqa: E402
from wae_jax.training import methods, population, steps  # noqa: E402
from wae_jax.training.state import create_train_state  # noqa: E402


def _augmentation_vae():
    """The augmentation study's class VAE (latent 3) at a 250-image cell's batch: a class
    has 21 training images, one batch per epoch."""
    config = per_class.generator_config(augment_mnist.get_config(), "vae", 3, seed=0)
    config.batch_size = 21
    config.num_train_steps = 300  # models/hour: its generators stopped after 220-320 epochs
    return config


CONFIGS = {"mmd_dcgan": lambda: mnist_mmd.get_config("small"),
           "w2vae_mlp": lambda: mnist_mlp_w2vae.get_config("small"),
           "augmentation_vae": _augmentation_vae}
IMAGE_SHAPE = (28, 28, 1)
STEPS_PER_EPOCH = 600

_CONFIGS = flags.DEFINE_list("configs", ["mmd_dcgan", "w2vae_mlp"],
                             f"Any of {list(CONFIGS)} (':small' configs, the study's VAE).")
_K = flags.DEFINE_list("k", ["1", "4", "16"], "Population sizes (64: minutes per round).")
_POP_LOWERING = flags.DEFINE_enum("pop_lowering", "matmul", list(conv.LOWERINGS),
                                  "model.conv_lowering of the population program (the solo "
                                  "baseline keeps its config's).")
_VECTORIZE = flags.DEFINE_multi_enum("vectorize", list(population.VECTORIZE),
                                      list(population.VECTORIZE),
                                      "How the population step runs its members (each "
                                      "given one is timed in every round).")
_PER_MEMBER = flags.DEFINE_bool("per_member_data", False,
                                "Each member its own batch ([K, B, ...]), as the "
                                "augmentation study's class generators train.")
_STEPS = flags.DEFINE_integer("steps", 5, "Timed updates per measurement, at least ...")
_MIN_SECONDS = flags.DEFINE_float("min_seconds", 1.0, "... and at least this long (an MLP "
                                  "step takes ~7 ms: 5 steps are too short to time).")
_ROUNDS = flags.DEFINE_integer("rounds", 3, "Alternating solo/population rounds.")
_JSON = flags.DEFINE_bool("json", False, "Also print one JSON line with every measurement.")


def _build(config):
    model = models.build_autoencoder(config.model, IMAGE_SHAPE)
    adversary = (models.build_adversary(config.model)
                 if methods.METHODS[config.method].adversary else None)
    init = jax.jit(lambda key: create_train_state(config, model, adversary, IMAGE_SHAPE, key))
    return init, model, adversary


def solo_program(config):
    """(step, state): the trainer's compiled solo step on one device (a solo run's
    default: forced host devices would split its batch) and one initial state."""
    init, model, adversary = _build(config)
    train_step = steps.make_train_step(config, model, adversary, steps_per_epoch=STEPS_PER_EPOCH)
    one_device = steps.make_mesh(jax.devices()[:1])
    return steps.compile_train_step(train_step, one_device), init(jax.random.PRNGKey(0))


def population_program(config, k: int, vectorize: str):
    """(step, state): the population trainer's step over k stacked states, compiled as
    the trainer compiles it (members split over all devices when they divide K)."""
    init, model, adversary = _build(config)
    mesh = steps.make_mesh()
    stacked = population.stack([init(jax.random.PRNGKey(seed)) for seed in range(k)])
    step = population.make_population_step(config, model, adversary, [STEPS_PER_EPOCH] * k,
                                           [2**30] * k, _PER_MEMBER.value, vectorize, mesh)
    compiled = population.compile_population_step(step, mesh, k, _PER_MEMBER.value)
    return compiled, jax.device_put(stacked, population.state_sharding(mesh, k))


def seconds_per_step(step, state, batch, num_steps: int, min_seconds: float):
    """Mean wall time per update after two untimed ones; returns (seconds, state).

    Two, because the second call compiles again: the initial state's placement differs
    from the step's output placement.
    """
    for _ in range(2):
        state, metrics = step(state, batch)
    jax.block_until_ready(metrics)
    start, done = time.perf_counter(), 0
    while done < num_steps or time.perf_counter() - start < min_seconds:
        for _ in range(num_steps):
            state, metrics = step(state, batch)
        jax.block_until_ready((state, metrics))
        done += num_steps
    return (time.perf_counter() - start) / done, state


def _population_batch(batch, k: int):
    """The solo batch shared by the members, or with --per_member_data K different ones
    (the solo batch rolled by i images for member i) stacked as [K, B, ...]."""
    if not _PER_MEMBER.value:
        return batch
    return jax.tree.map(lambda x: jnp.stack([jnp.roll(x, i, axis=0) for i in range(k)]), batch)


def measure(name: str, k: int, batch) -> dict:
    """Alternating rounds of the solo step and each --vectorize population step of one
    config at one K."""
    solo_config = CONFIGS[name]()
    pop_config = CONFIGS[name]()
    pop_config.model.conv_lowering = _POP_LOWERING.value
    solo, solo_state = solo_program(solo_config)
    programs = {mode: population_program(pop_config, k, mode) for mode in _VECTORIZE.value}
    pop_batch = _population_batch(batch, k)
    rounds = []
    for _ in range(_ROUNDS.value):
        t_solo, solo_state = seconds_per_step(solo, solo_state, batch, _STEPS.value,
                                              _MIN_SECONDS.value)
        times = {"solo_s": t_solo}
        for mode, (step, state) in programs.items():
            times[mode + "_s"], state = seconds_per_step(step, state, pop_batch, _STEPS.value,
                                                         _MIN_SECONDS.value)
            programs[mode] = step, state
        rounds.append({**times, "load": os.getloadavg()[0]})
    run_steps = solo_config.num_train_steps
    t_solo = statistics.median(r["solo_s"] for r in rounds)
    result = {"config": name, "k": k, "rounds": rounds,
              "sequential_models_per_hour": 3600 / (t_solo * run_steps)}
    for mode in programs:
        t_pop = statistics.median(r[mode + "_s"] for r in rounds)
        result[mode] = {"population_models_per_hour": 3600 * k / (t_pop * run_steps),
                        "median_ratio": statistics.median(k * r["solo_s"] / r[mode + "_s"]
                                                          for r in rounds)}
    return result


def _population_sizes() -> list[int]:
    """--k as ints; bad values end the program with one line and status 2."""
    try:
        ks = [int(k) for k in _K.value]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        cli.exit_with(f"--k={','.join(_K.value)}: use positive integers, e.g. --k=1,4,16", 2)
    return ks


def main():
    for name in _CONFIGS.value:
        if name not in CONFIGS:
            cli.exit_with(f"--configs={name}: use any of {','.join(CONFIGS)}", 2)
    ks = _population_sizes()
    images = jax.random.uniform(jax.random.PRNGKey(1), (100, *IMAGE_SHAPE))
    results = []
    print(f"{'config':>16} {'K':>3} {'vectorize':>9} {'sequential models/h':>20} "
          f"{'population models/h':>20} {'ratio (median)':>15} {'load':>5}")
    for name in _CONFIGS.value:
        batch_size = CONFIGS[name]().batch_size
        batch = {"image": images[:batch_size], "label": jnp.zeros(batch_size, jnp.int32)}
        for k in ks:
            result = measure(name, k, batch)
            results.append(result)
            load = statistics.median(r["load"] for r in result["rounds"])
            for mode in _VECTORIZE.value:
                print(f"{name:>16} {k:>3} {mode:>9} {result['sequential_models_per_hour']:>20.1f} "
                      f"{result[mode]['population_models_per_hour']:>20.1f} "
                      f"{result[mode]['median_ratio']:>14.2f}x {load:>5.1f}", flush=True)
    if _JSON.value:
        print(json.dumps({"backend": jax.default_backend(), "devices": jax.device_count(),
                          "pop_lowering": _POP_LOWERING.value,
                          "vectorize": _VECTORIZE.value, "per_member_data": _PER_MEMBER.value,
                          "steps": _STEPS.value, "min_seconds": _MIN_SECONDS.value,
                          "results": results}))


if __name__ == "__main__":
    cli.run(main)
