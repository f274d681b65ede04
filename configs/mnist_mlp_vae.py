r"""VAE baseline of the W2-VAE paper (Chen & Liu): 3-layer MLPs, 15 epochs, batch 100.

The paper does not print the layer sizes, latent size or optimiser: this uses
784-512-256-z MLPs (mirrored decoder), z = 20, Bernoulli likelihood, Adam 1e-3 with
default betas, constant rate, KL weight 1, no WAE heuristics.

  python -m wae_jax.main --config=configs/mnist_mlp_vae.py \
      --workdir=/tmp/wae/mnist_mlp_vae
  python -m wae_jax.main --config=configs/mnist_mlp_vae.py:small \
      --workdir=/tmp/wae/mnist_mlp_vae_small
"""

from configs import common


def mlp_setting(config):
    """The W2-VAE paper's training setting, shared with configs/mnist_mlp_w2vae.py."""
    config = common.vae(config)
    config.model.arch = "mlp"
    config.model.hidden = (512, 256)
    config.latent_dim = 20
    config.num_epochs = 15
    config.batch_size = 100
    config.adam_b1 = 0.9
    config.lr_decay_epochs = ()
    config.lr_decay_factors = ()
    return config


def get_config(arg=None):
    return common.finalize(mlp_setting(common.get_config()), arg)
