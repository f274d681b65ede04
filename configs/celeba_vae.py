"""VAE baseline on CelebA 64x64 with the WAE paper's nets (reported FID 82).

Gaussian encoder, Gaussian likelihood written as the squared error on [-1, 1] pixels
with weight 1 (a fixed decoder variance of 1/2; the paper does not print its choice),
KL weight 1, the WAE CelebA optimiser (Adam 3e-4, beta1 0.5, batch 100, 55 epochs).

  python -m wae_jax.main --config=configs/celeba_vae.py --workdir=/tmp/wae/celeba_vae
  python -m wae_jax.main --config=configs/celeba_vae.py:small --workdir=/tmp/wae/celeba_vae_small
"""

from configs import common


def get_config(arg=None):
    config = common.vae(common.celeba(common.get_config()))
    config.recon_scale = 1.0
    return common.finalize(config, arg)
