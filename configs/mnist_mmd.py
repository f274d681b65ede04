"""WAE-MMD on MNIST, the WAE paper's setting (Tolstikhin et al. 2018, appendix C.1).

Deterministic DCGAN encoder/decoder (4x4 convs, 128-256-512-1024), z = 8, IMQ-kernel
MMD with lambda 10, 0.05 * squared error, Adam 1e-3 (beta1 0.5), batch 100, 100 epochs,
learning rate /2 at epoch 30, /5 at 50; encoder pre-training and input noise on.

  python -m wae_jax.main --config=configs/mnist_mmd.py --workdir=/tmp/wae/mnist_mmd
  python -m wae_jax.main --config=configs/mnist_mmd.py:small --workdir=/tmp/wae/mnist_mmd_small
"""

from configs import common


def get_config(arg=None):
    config = common.get_config()  # the base is this setting
    return common.finalize(config, arg)
