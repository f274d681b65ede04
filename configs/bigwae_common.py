"""The bigWAE study (WAE paper, appendix D) as a sweep over the three methods' configs.

The paper trained over 3,000 models: a random search over latent size, batch size,
log-uniform learning rates (auto-encoder and adversary), lambda (the VAE's beta), the
IMQ kernel's base scale, deterministic or Gaussian encoder and DCGAN or ResNet-v2,
three seeds per configuration, the same step budget for every method, each model kept
at its best-FID checkpoint (10k samples). The seed text lost the ranges; the ones
below are assumptions chosen to cover the paper's single-model settings:

  latent_dim           MNIST {4, 8, 16, 32} (paper 8); CelebA {32, 64, 128, 256} (paper 64)
  batch_size           {64, 100, 128, 256} (paper 100)
  learning_rate        log-uniform [1e-4, 3e-3] (paper 1e-3, 3e-4, VAE 1e-4)
  adversary lr         log-uniform [1e-4, 3e-3], WAE-GAN only (paper 5e-4, 1e-3)
  lambda_              VAE beta log-uniform [0.1, 10] (1); WAE-MMD [1, 1000] (10, 100);
                       WAE-GAN [0.1, 100] (1, 10)
  IMQ base scale       the scales (.1, ..., 10) times log-uniform [0.1, 10], WAE-MMD only
  model.encoder        WAE: {deterministic, gaussian}; VAE: gaussian
  model.arch           {dcgan_<dataset>, resnet_v2} (ResNet-v2 with 3-4-6-3 blocks, as ResNet-50)
  seeds                0, 1, 2 for every configuration
  budget               100,000 steps per model (paper: 100k steps on 8 TPU v2 cores)
  configurations       340 per method: 3 x 340 x 3 = 3,060 models

Everything else is each method's own experiment file (configs/<dataset>_<method>.py):
a member's config is that file's config with the drawn values, so the VAE keeps its
Gaussian decoder and the CelebA WAE-GAN its log-prior trick.

  :small   3 methods x 2 configurations x 3 seeds (18 models, DCGAN, 1200 steps):
           under an hour on 2 CPU cores, classifier_fd selects the checkpoints;
  :tiny    3 methods x 2 configurations x 2 seeds (12 models, MLP, 8 steps) in
           3 populations of 4: seconds, for tests.
"""

from typing import Callable, Optional

import ml_collections

from configs import common
from wae_jax.sweeps import space

GetConfig = Callable[[Optional[str]], ml_collections.ConfigDict]
SEEDS = {None: (0, 1, 2), "small": (0, 1, 2), "tiny": (0, 1)}
CONFIGURATIONS = {None: 340, "small": 2, "tiny": 2}  # per method
MAX_POPULATION_SIZE = {None: 8, "small": 3, "tiny": 4}
EVAL_SAMPLES = {None: 10_000, "small": 1000, "tiny": 16}  # final test metrics' prior samples
PAPER_STEPS = 100_000
IMQ_SCALES = common.get_config().kernel_scales


def budget(config: ml_collections.ConfigDict, arg: Optional[str]) -> ml_collections.ConfigDict:
    """The same step budget for every method: paper size 100k steps; :small and :tiny keep
    their own (1200, 8); :tiny also trains MLPs and evaluates only at its last step."""
    if not arg:
        config.num_train_steps = PAPER_STEPS
    if arg == "tiny":
        config.model.arch = "mlp"
        config.eval_every_steps = config.checkpoint_every_steps = config.num_train_steps
    return config


def search_space(method: str, arg: Optional[str], latent_dims: tuple, dcgan: str
                 ) -> dict[str, space.Distribution]:
    """The distributions drawn per configuration of `method` (see the module docstring)."""
    shapes = {"latent_dim": space.Choice(latent_dims),
              "batch_size": space.Choice((64, 100, 128, 256)),
              "model.arch": space.Choice((dcgan, "resnet_v2")),
              "model.encoder": space.Choice(("deterministic", "gaussian"))}
    if arg == "small":
        shapes.update({"latent_dim": space.Choice(latent_dims[1:3]),
                       "batch_size": space.Choice((64, 100)),
                       "model.arch": space.Choice((dcgan,))})
    if arg == "tiny":  # one shape per method: 3 populations
        shapes = {}
    if method == "vae":
        shapes.pop("model.encoder", None)  # the VAE's encoder is Gaussian
    searched = {**shapes, "learning_rate": space.LogUniform(1e-4, 3e-3)}
    if method == "vae":
        searched["lambda_"] = space.LogUniform(0.1, 10.0)
    if method == "wae_mmd":
        searched["lambda_"] = space.LogUniform(1.0, 1000.0)
        searched["kernel_scales"] = space.Scaled(tuple(IMQ_SCALES), space.LogUniform(0.1, 10.0))
    if method == "wae_gan":
        searched["lambda_"] = space.LogUniform(0.1, 100.0)
        searched["adversary_learning_rate"] = space.LogUniform(1e-4, 3e-3)
    return searched


def points(methods: dict[str, GetConfig], base: ml_collections.ConfigDict,
           arg: Optional[str], latent_dims: tuple, dcgan: str) -> list[space.Point]:
    """Per method its preset (its file's config against `base`) times its random search,
    then every configuration with each seed."""
    per_method = []
    for index, (method, get_config) in enumerate(methods.items()):
        searched = search_space(method, arg, latent_dims, dcgan)
        preset = space.difference(budget(get_config(arg), arg), base)
        preset = {k: v for k, v in preset.items() if k not in searched}
        draws = space.random(CONFIGURATIONS[arg], seed=index, distributions=searched)
        per_method.append(space.product(space.fixed(preset), draws))
    return space.product(space.chain(*per_method), space.sweep("seed", SEEDS[arg]))


def sweep(methods: dict[str, GetConfig], base: ml_collections.ConfigDict,
          arg: Optional[str], latent_dims: tuple, dcgan: str) -> space.Sweep:
    """The sweep and how to run it: paper size on GPUs (two populations per GPU, FID of
    10k samples), :small and :tiny on CPUs (classifier_fd, or no sample metric)."""
    resources = space.Resources(cpu=2, gpu=0.5) if not arg else space.Resources(cpu=1)
    metrics = {None: ("fid",), "small": ("classifier_fd",), "tiny": ()}[arg]
    return space.Sweep(points=tuple(points(methods, base, arg, latent_dims, dcgan)),
                       max_population_size=MAX_POPULATION_SIZE[arg], resources=resources,
                       eval_metrics=metrics, eval_num_samples=EVAL_SAMPLES[arg])


def check_arg(arg: Optional[str]) -> Optional[str]:
    arg = arg or None
    if arg not in SEEDS:
        raise ValueError(f"config argument {arg!r}: use one of ('small', 'tiny') or none")
    return arg

