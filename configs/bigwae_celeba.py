"""bigWAE on CelebA 64x64: VAE, WAE-MMD and WAE-GAN in one random search (WAE paper,
appendix D, whose bigVAE / bigWAE rows this reproduces).

The ranges, budget and sizes are in configs/bigwae_common.py. `get_config` is the
base (configs/celeba_mmd.py with the sweep's step budget), `get_sweep` the members;
the WAE-GAN members keep the log-prior trick and the VAE its Gaussian decoder without
batch norm (their own experiment files). CelebA has no class labels, so :small selects
no checkpoint (classifier_fd needs labels) and reports its final test numbers.

  python -m wae_jax.sweep --config=configs/bigwae_celeba.py --workdir=W --address=HEAD:6379
"""

from configs import bigwae_common, celeba_gan, celeba_mmd, celeba_vae
from wae_jax.sweeps import space

METHODS = {"vae": celeba_vae.get_config, "wae_mmd": celeba_mmd.get_config,
           "wae_gan": celeba_gan.get_config}
LATENT_DIMS = (32, 64, 128, 256)


def get_config(arg=None):
    arg = bigwae_common.check_arg(arg)
    return bigwae_common.budget(celeba_mmd.get_config(arg), arg)


def get_sweep(arg=None) -> space.Sweep:
    arg = bigwae_common.check_arg(arg)
    return bigwae_common.sweep(METHODS, get_config(arg), arg, LATENT_DIMS, "dcgan_celeba")
