"""WAE-MMD on CelebA 64x64, the WAE paper's setting (Tolstikhin et al. 2018, appendix C.2).

Deterministic DCGAN nets with 5x5 kernels, z = 64, lambda 100, IMQ MMD, 0.05 * squared
error on [-1, 1] pixels with a tanh decoder, Adam 3e-4 (beta1 0.5), batch 100, 55 epochs,
learning rate /2 at epoch 30, /5 at 50. CelebA must be supplied by the user (see wae_jax.data).

  python -m wae_jax.main --config=configs/celeba_mmd.py --workdir=/tmp/wae/celeba_mmd
  python -m wae_jax.main --config=configs/celeba_mmd.py:small --workdir=/tmp/wae/celeba_mmd_small
"""

from configs import common


def get_config(arg=None):
    config = common.celeba(common.get_config())
    config.lambda_ = 100.0
    return common.finalize(config, arg)
