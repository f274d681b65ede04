"""WAE-MMD on CelebA 64x64, the WAE paper's setting (Tolstikhin et al. 2018, appendix C.2).

Deterministic DCGAN nets with 5x5 kernels and the official initialisers, z = 64, prior
N(0, 2 I) (sigma_z^2 = 2, so the IMQ base 2 * z * sigma_z^2 = 256, the prior samples, the
pre-training target and figures all use prior_std = sqrt(2)), lambda 100, IMQ MMD,
0.05 * squared error on [-1, 1] pixels with a tanh decoder, Adam 1e-3 (beta1 0.5),
batch 100, 55 epochs, learning rate /2 at epoch 30, /5 at 50. The best checkpoint is
chosen on CelebA's official validation partition. CelebA must be supplied by the user
(see wae_jax.data).

  python -m wae_jax.main --config=configs/celeba_mmd.py --workdir=/tmp/wae/celeba_mmd
  python -m wae_jax.main --config=configs/celeba_mmd.py:small --workdir=/tmp/wae/celeba_mmd_small
"""

import math

from configs import common


def get_config(arg=None):
    config = common.celeba(common.get_config())
    config.prior_std = math.sqrt(2.0)  # paper C.2: "Both used sigma_z^2 = 2"
    config.lambda_ = 100.0
    config.learning_rate = 1e-3  # paper C.2: WAE-MMD Adam 1e-3
    return common.finalize(config, arg)
