r"""Closed-form W2-VAE (Chen & Liu) in its paper's MLP setting: 15 epochs, batch 100.

As configs/mnist_mlp_vae.py (same nets, min(0, .) heads and weight schedule
lambda = 0.5 + 0.05 * epoch) with the W2 penalty. T = W2 - KL is logged as train/T.

  python -m wae_jax.main --config=configs/mnist_mlp_w2vae.py \
      --workdir=/tmp/wae/mnist_mlp_w2vae
  python -m wae_jax.main --config=configs/mnist_mlp_w2vae.py:small \
      --workdir=/tmp/wae/mnist_mlp_w2vae_small
"""

from configs import common, mnist_mlp_vae


def get_config(arg=None):
    config = mnist_mlp_vae.mlp_setting(common.get_config())
    config.method = "w2vae"
    return common.finalize(config, arg)
