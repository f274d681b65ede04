"""VAE baseline on MNIST with the WAE paper's nets (Gaussian encoder, Bernoulli decoder).

The WAE paper compares with a VAE of the same architecture (and initialisers); its
likelihood and optimiser are not printed, so this uses the standard Bernoulli
likelihood (decoder logits), KL weight 1 and the WAE optimiser settings (Adam 1e-3,
beta1 0.5, batch 100, 100 epochs, the same decay); no WAE heuristics.

  python -m wae_jax.main --config=configs/mnist_vae.py --workdir=/tmp/wae/mnist_vae
  python -m wae_jax.main --config=configs/mnist_vae.py:small --workdir=/tmp/wae/mnist_vae_small
"""

from configs import common


def get_config(arg=None):
    config = common.vae(common.get_config())
    return common.finalize(config, arg)
