"""WAE-GAN on CelebA 64x64, the WAE paper's setting (Tolstikhin et al. 2018, appendix C.2).

As configs/celeba_mmd.py (prior N(0, 2 I), i.e. prior_std = sqrt(2), which also widens
the log-prior term) with lambda 1, auto-encoder Adam 3e-4, a 4 x 1024 latent adversary
trained with Adam 1e-3, and the log-prior trick.

  python -m wae_jax.main --config=configs/celeba_gan.py --workdir=/tmp/wae/celeba_gan
  python -m wae_jax.main --config=configs/celeba_gan.py:small --workdir=/tmp/wae/celeba_gan_small
"""

import math

from configs import common


def get_config(arg=None):
    config = common.celeba(common.get_config())
    config.method = "wae_gan"
    config.prior_std = math.sqrt(2.0)  # paper C.2: "Both used sigma_z^2 = 2"
    config.lambda_ = 1.0
    config.learning_rate = 3e-4  # paper C.2: auto-encoder 3e-4 ...
    config.adversary_learning_rate = 1e-3  # ... adversary 1e-3
    config.log_prior_trick = True
    return common.finalize(config, arg)
