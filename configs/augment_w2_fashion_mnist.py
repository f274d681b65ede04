r"""configs/augment_w2_mnist.py on Fashion-MNIST (the paper's second data set).

  python -m wae_jax.augment --config=configs/augment_w2_fashion_mnist.py \
      --workdir=/tmp/wae/w2_fashion_mnist
"""

from configs import augment_w2_mnist


def get_config(arg=None):
    return augment_w2_mnist.w2_config("fashion_mnist", arg)
