import ml_collections

from wae_jax.models import build_autoencoder


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def conv(k: int, n_in: int, n_out: int) -> int:
    return k * k * n_in * n_out + n_out


def _model(latent_dim: int = 3):
    config = ml_collections.ConfigDict(dict(arch="augmentation_conv", encoder="gaussian",
                                            latent_dim=latent_dim, logvar_clamp=10.0,
                                            output_activation="identity"))
    return build_autoencoder(config, (28, 28, 1))


def test_default_parameter_count(abstract_init, num_params):
    variables = abstract_init(_model(3), (1, 28, 28, 1), train=False)
    encoder = conv(3, 1, 32) + conv(3, 32, 64) + dense(7 * 7 * 64, 16) + 2 * dense(16, 3)
    decoder = dense(3, 7 * 7 * 64) + conv(3, 64, 64) + conv(3, 64, 32) + conv(3, 32, 1)
    assert num_params(variables) == encoder + decoder  # no batch norm


def test_feature_maps(conv_output_sizes):
    assert conv_output_sizes(_model(2), (28, 28, 1)) == [
        (14, 14, 32), (7, 7, 64),  # encoder
        (14, 14, 64), (28, 28, 32), (28, 28, 1)]  # decoder from 7x7x64
