"""WAE-MMD on MNIST, the WAE paper's setting (Tolstikhin et al. 2018, appendix C.1).

Deterministic DCGAN encoder/decoder (4x4 convs, 128-256-512-1024) with the official
code's initialisers (N(0, 0.01), truncated for convs), z = 8, prior N(0, I), IMQ-kernel
MMD with lambda 10, 0.05 * squared error, Adam 1e-3 (beta1 0.5), batch 100, 100 epochs,
learning rate /2 at epoch 30, /5 at 50; encoder pre-training and input noise on. The
best checkpoint is chosen against the first 10,000 training images, never the test split.

  python -m wae_jax.main --config=configs/mnist_mmd.py --workdir=/tmp/wae/mnist_mmd
  python -m wae_jax.main --config=configs/mnist_mmd.py:small --workdir=/tmp/wae/mnist_mmd_small
"""

from configs import common


def get_config(arg=None):
    config = common.get_config()  # the base is this setting
    return common.finalize(config, arg)
