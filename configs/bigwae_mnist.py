"""bigWAE on MNIST: VAE, WAE-MMD and WAE-GAN in one random search (WAE paper, appendix D).

The ranges, budget and sizes are in configs/bigwae_common.py. `get_config` is the
base (configs/mnist_mmd.py with the sweep's step budget), `get_sweep` the members.

  python -m wae_jax.sweep --config=configs/bigwae_mnist.py:tiny --workdir=/tmp/bigwae_tiny
  python -m wae_jax.sweep --config=configs/bigwae_mnist.py:small --workdir=/tmp/bigwae_small
  python -m wae_jax.sweep --config=configs/bigwae_mnist.py --workdir=W --address=HEAD:6379
"""

from configs import bigwae_common, mnist_gan, mnist_mmd, mnist_vae
from wae_jax.sweeps import space

METHODS = {"vae": mnist_vae.get_config, "wae_mmd": mnist_mmd.get_config,
           "wae_gan": mnist_gan.get_config}
LATENT_DIMS = (4, 8, 16, 32)


def get_config(arg=None):
    arg = bigwae_common.check_arg(arg)
    return bigwae_common.budget(mnist_mmd.get_config(arg), arg)


def get_sweep(arg=None) -> space.Sweep:
    arg = bigwae_common.check_arg(arg)
    return bigwae_common.sweep(METHODS, get_config(arg), arg, LATENT_DIMS, "dcgan_mnist")
