r"""VAE baseline of the W2-VAE paper (Chen & Liu): 3-layer MLPs, 15 epochs, batch 100.

As the paper does "for fair comparison", the KL term gets the same weight schedule as
the W2 run, lambda = 0.5 + 0.05 * epoch, and the encoder the same min(0, .) heads. The
paper does not print the layer sizes, latent size, optimiser or initialisation: this
uses 784-512-256-z MLPs (mirrored decoder), z = 20, Bernoulli likelihood, Adam 1e-3 with
default betas, constant rate, flax's initialisers, no WAE heuristics.

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
    config.model.initializer = "flax"  # not the WAE code's: another paper, another code
    config.model.nonpositive_heads = True  # W2-VAE paper: min(0, .) on mean and log-variance
    config.latent_dim = 20
    config.num_epochs = 15  # W2-VAE paper
    config.batch_size = 100  # W2-VAE paper
    config.lambda_ = 0.5  # W2-VAE paper: lambda + eps * epoch with 0.5 ...
    config.lambda_growth = 0.05  # ... and 0.05, for the W2 and (fairness) the KL run alike
    config.adam_b1 = 0.9
    config.lr_decay_epochs = ()
    config.lr_decay_factors = ()
    return config


def get_config(arg=None):
    return common.finalize(mlp_setting(common.get_config()), arg)
