"""VAE baseline on CelebA 64x64, the WAE paper's (appendix C.2; reported FID 82).

The WAE CelebA nets without batch normalization, a Gaussian encoder, and a Gaussian
decoder with variance sigma_G^2 = 0.3: its negative log-likelihood is the summed
squared error on [-1, 1] pixels weighted by 1 / (2 * 0.3) (plus a constant). KL weight
1, prior N(0, I), Adam 1e-4 (beta1 0.5), batch 100, 68 epochs.

Assumption: the paper gives no learning-rate schedule for the VAE; this keeps the WAE
runs' decay (/2 at epoch 30, /5 at 50) so that the baselines differ only where the
paper says they do.

  python -m wae_jax.main --config=configs/celeba_vae.py --workdir=/tmp/wae/celeba_vae
  python -m wae_jax.main --config=configs/celeba_vae.py:small --workdir=/tmp/wae/celeba_vae_small
"""

from configs import common

DECODER_VARIANCE = 0.3  # paper C.2: sigma_G^2 = 0.3


def get_config(arg=None):
    config = common.vae(common.celeba(common.get_config()))
    config.num_epochs = 68  # paper C.2
    config.learning_rate = 1e-4  # paper C.2
    config.model.batch_norm = False  # paper C.2: "no batch normalization"
    config.recon_scale = 1.0 / (2.0 * DECODER_VARIANCE)
    return common.finalize(config, arg)
