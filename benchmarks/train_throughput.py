"""Training throughput of wae_jax's compiled train step, alone or against pythae.

  python benchmarks/train_throughput.py --method=wae_mmd --arch=pythae_mnist \
      --batch_size=100 --latent_dim=8 --steps=20 --json
  python benchmarks/train_throughput.py --method=wae_mmd --arch=pythae_mnist \
      --batch_size=100 --latent_dim=8 --steps=20 --vs_pythae=/work/venv_pythae/bin/python

What is timed: `steps` updates of the trainer's own step function (steps.make_train_step
compiled by steps.compile_train_step, as train_and_evaluate runs it) on one resident
MNIST-shaped batch after `warmup` updates, so the number is the model+optimizer cost
without input-pipeline or logging effects. gflops_per_sec uses XLA's cost analysis of
the compiled step. The model config is the method's MNIST paper config with --arch,
--latent_dim and --batch_size set (pythae_mnist: pythae's MNIST benchmark nets).

--vs_pythae=PYTHON runs pythae 0.1.2's WAE_MMD on its Encoder/Decoder_Conv_AE_MNIST nets
(torch CPU, Adam, same batch, latent size and IMQ scales; a plain loop, no pythae trainer)
under that interpreter, alternating with the JAX measurement for --rounds rounds because
these machines drift 15-25% over minutes, and prints the median ratio jax/pythae.
"""

import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # for configs/

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from absl import app, flags  # noqa: E402

from configs import mnist_gan, mnist_mmd, mnist_vae, mnist_w2vae  # noqa: E402
from wae_jax import cli, models  # noqa: E402
from wae_jax.training import methods, steps  # noqa: E402
from wae_jax.training.state import create_train_state  # noqa: E402

CONFIGS = {"vae": mnist_vae, "w2vae": mnist_w2vae, "wae_mmd": mnist_mmd, "wae_gan": mnist_gan}
IMAGE_SHAPE = (28, 28, 1)

_METHOD = flags.DEFINE_enum("method", "wae_mmd", list(CONFIGS), "Training method.")
_ARCH = flags.DEFINE_enum("arch", "pythae_mnist", list(models.ARCHITECTURES), "Network.")
_BATCH = flags.DEFINE_integer("batch_size", 100, "Global batch size.")
_LATENT = flags.DEFINE_integer("latent_dim", 8, "Latent size.")
_STEPS = flags.DEFINE_integer("steps", 20, "Timed updates per measurement.")
_WARMUP = flags.DEFINE_integer("warmup", 2, "Untimed updates before each measurement.")
_JSON = flags.DEFINE_bool("json", False, "Print one JSON line instead of text.")
_VS_PYTHAE = flags.DEFINE_string("vs_pythae", None, "Python interpreter with pythae + torch.")
_ROUNDS = flags.DEFINE_integer("rounds", 5, "Alternating rounds for --vs_pythae.")

PYTHAE_SCRIPT = r"""
import json, os, sys, time
import torch
from pythae.data.datasets import DatasetOutput
from pythae.models import WAE_MMD, WAE_MMD_Config
from pythae.models.nn.benchmarks.mnist import Decoder_Conv_AE_MNIST, Encoder_Conv_AE_MNIST
batch, latent, steps, warmup = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
config = WAE_MMD_Config(input_dim=(1, 28, 28), latent_dim=latent, kernel_choice="imq",
                        reg_weight=10.0)
model = WAE_MMD(config, encoder=Encoder_Conv_AE_MNIST(config),
                decoder=Decoder_Conv_AE_MNIST(config))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
data = DatasetOutput(data=torch.rand(batch, 1, 28, 28))
def step():
    optimizer.zero_grad()
    model(data).loss.backward()
    optimizer.step()
for _ in range(warmup):
    step()
start = time.perf_counter()
for _ in range(steps):
    step()
print(json.dumps({"images_per_sec": batch * steps / (time.perf_counter() - start)}))
"""


def _config():
    config = CONFIGS[_METHOD.value].get_config()
    config.model.arch = _ARCH.value
    config.latent_dim = _LATENT.value
    config.batch_size = _BATCH.value
    return config


def compile_step(config):
    """(compiled train step, initial state, resident batch, flops per step)."""
    model = models.build_autoencoder(config.model, IMAGE_SHAPE)
    adversary = (models.build_adversary(config.model)
                 if methods.METHODS[config.method].adversary else None)
    mesh = steps.make_mesh()
    state = jax.jit(lambda k: create_train_state(config, model, adversary, IMAGE_SHAPE, k),
                    out_shardings=steps.replicated(mesh))(jax.random.PRNGKey(0))
    images = jax.random.uniform(jax.random.PRNGKey(1), (config.batch_size, *IMAGE_SHAPE))
    batch = jax.device_put({"image": images, "label": jnp.zeros(config.batch_size, jnp.int32)},
                           steps.data_sharded(mesh))
    train_step = steps.compile_train_step(
        steps.make_train_step(config, model, adversary, steps_per_epoch=600), mesh)
    compiled = train_step.lower(state, batch).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return compiled, state, batch, float(cost.get("flops", float("nan")))


def measure_jax(compiled, state, batch, flops: float, num_steps: int, warmup: int):
    """Times num_steps updates; returns the measurement and the state to continue from."""
    for _ in range(warmup):
        state, metrics = compiled(state, batch)
    jax.block_until_ready(metrics)
    start = time.perf_counter()
    for _ in range(num_steps):
        state, metrics = compiled(state, batch)
    jax.block_until_ready((state, metrics))
    seconds = (time.perf_counter() - start) / num_steps
    batch_size = batch["image"].shape[0]
    return {"images_per_sec": batch_size / seconds, "gflops_per_sec": flops / seconds / 1e9,
            "step_ms": seconds * 1e3, "gflop_per_step": flops / 1e9}, state


def measure_pythae(python: str, num_steps: int, warmup: int) -> float:
    result = subprocess.run(
        [python, "-c", PYTHAE_SCRIPT, str(_BATCH.value), str(_LATENT.value), str(num_steps),
         str(warmup)], capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if result.returncode != 0:
        sys.exit(f"the pythae run failed under {python}:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["images_per_sec"]


def main(argv):
    del argv
    cli.keep_freed_buffers()  # as the command lines do (WAE_JAX_MALLOPT=0: glibc's defaults)
    config = _config()
    compiled, state, batch, flops = compile_step(config)
    setting = {"method": _METHOD.value, "arch": _ARCH.value, "batch_size": _BATCH.value,
               "latent_dim": _LATENT.value, "steps": _STEPS.value,
               "backend": jax.default_backend(), "devices": jax.device_count()}
    if _VS_PYTHAE.value is None:
        result, _ = measure_jax(compiled, state, batch, flops, _STEPS.value, _WARMUP.value)
        result = {**setting, **result}
    else:
        rounds = []
        for _ in range(_ROUNDS.value):
            jax_result, state = measure_jax(compiled, state, batch, flops, _STEPS.value,
                                            _WARMUP.value)
            pythae = measure_pythae(_VS_PYTHAE.value, _STEPS.value, _WARMUP.value)
            rounds.append((jax_result["images_per_sec"], pythae))
        result = {**setting, **jax_result,
                  "jax_images_per_sec": [r[0] for r in rounds],
                  "pythae_images_per_sec": [r[1] for r in rounds],
                  "median_ratio": statistics.median(j / p for j, p in rounds)}
    if _JSON.value:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    app.run(main)
