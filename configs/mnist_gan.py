"""WAE-GAN on MNIST, the WAE paper's setting (Tolstikhin et al. 2018, appendix C.1).

As configs/mnist_mmd.py, with a latent adversary (4 x 512 ReLU MLP) instead of the
MMD: one adversary update per auto-encoder update, adversary Adam 5e-4 (official code),
lambda 10 as in the official MNIST config, no log-prior trick (CelebA only).

  python -m wae_jax.main --config=configs/mnist_gan.py --workdir=/tmp/wae/mnist_gan
  python -m wae_jax.main --config=configs/mnist_gan.py:small --workdir=/tmp/wae/mnist_gan_small
"""

from configs import common


def get_config(arg=None):
    config = common.get_config()
    config.method = "wae_gan"
    return common.finalize(config, arg)
