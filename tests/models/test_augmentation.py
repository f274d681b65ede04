import ml_collections

from wae_jax.models import build_autoencoder


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def conv(k: int, n_in: int, n_out: int) -> int:
    return k * k * n_in * n_out + n_out


def _model(latent_dim: int = 3):
    config = ml_collections.ConfigDict(dict(arch="augmentation_vae", encoder="gaussian",
                                            latent_dim=latent_dim, logvar_clamp=10.0,
                                            output_activation="identity"))
    return build_autoencoder(config, (28, 28, 1))


def test_parameter_count_is_the_papers_table_1(abstract_init, num_params):
    variables = abstract_init(_model(3), (1, 28, 28, 1), train=False)
    encoder = (conv(2, 1, 1) + conv(2, 1, 64) + 2 * conv(3, 64, 64)
               + dense(14 * 14 * 64, 128) + 2 * dense(128, 3))
    decoder = (dense(3, 128) + dense(128, 14 * 14 * 64) + 3 * conv(3, 64, 64)
               + conv(2, 64, 1))
    assert num_params(variables) == encoder + decoder  # no batch norm


def test_feature_maps_follow_the_keras_example(conv_output_sizes):
    assert conv_output_sizes(_model(2), (28, 28, 1)) == [
        (28, 28, 1), (14, 14, 64), (14, 14, 64), (14, 14, 64),  # encoder
        (14, 14, 64), (14, 14, 64), (29, 29, 64), (28, 28, 1)]  # decoder: valid 14->29->28
