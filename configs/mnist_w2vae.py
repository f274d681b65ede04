"""Closed-form W2-VAE (Chen & Liu) on MNIST with the WAE paper's DCGAN nets.

The VAE of configs/mnist_vae.py with the KL term replaced by the squared 2-Wasserstein
distance to N(0, I), weight 1. The T = W2 - KL monitor is logged as train/T. For the
paper's own MLP setting see configs/mnist_mlp_w2vae.py.

  python -m wae_jax.main --config=configs/mnist_w2vae.py --workdir=/tmp/wae/mnist_w2vae
  python -m wae_jax.main --config=configs/mnist_w2vae.py:small --workdir=/tmp/wae/mnist_w2vae_small
"""

from configs import common


def get_config(arg=None):
    config = common.vae(common.get_config())
    config.method = "w2vae"
    return common.finalize(config, arg)
