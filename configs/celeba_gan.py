"""WAE-GAN on CelebA 64x64, the WAE paper's setting (Tolstikhin et al. 2018, appendix C.2).

As configs/celeba_mmd.py with lambda 1, a 4 x 1024 latent adversary trained with Adam
1e-3 (auto-encoder 3e-4) and the log-prior trick.

  python -m wae_jax.main --config=configs/celeba_gan.py --workdir=/tmp/wae/celeba_gan
  python -m wae_jax.main --config=configs/celeba_gan.py:small --workdir=/tmp/wae/celeba_gan_small
"""

from configs import common


def get_config(arg=None):
    config = common.celeba(common.get_config())
    config.method = "wae_gan"
    config.lambda_ = 1.0
    config.adversary_learning_rate = 1e-3
    config.log_prior_trick = True
    return common.finalize(config, arg)
