import ml_collections
import pytest

from wae_jax.models import build_autoencoder

GUIDE_PARAMS_MILLIONS = 17.1  # guide, section 4: pythae's MNIST benchmark nets, latent 8


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def conv(k: int, n_in: int, n_out: int) -> int:
    return k * k * n_in * n_out + n_out


def _config(encoder: str, **fields) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(dict(arch="pythae_mnist", encoder=encoder, latent_dim=8,
                                          output_activation="sigmoid", logvar_clamp=10.0,
                                          **fields))


@pytest.mark.parametrize("encoder,heads", [("deterministic", 1), ("gaussian", 2)])
def test_parameter_count_matches_pythae(encoder, heads, abstract_init, num_params):
    model = build_autoencoder(_config(encoder), (28, 28, 1))
    variables = abstract_init(model, (1, 28, 28, 1), train=False)
    widths = [1, 128, 256, 512, 1024]
    encoder_count = sum(conv(4, a, b) + 2 * b for a, b in zip(widths, widths[1:]))
    encoder_count += heads * dense(1024, 8)  # the 1x1x1024 map
    decoder_count = (dense(8, 4 * 4 * 1024) + conv(3, 1024, 512) + 2 * 512
                     + conv(3, 512, 256) + 2 * 256 + conv(3, 256, 1))
    count = num_params(variables["params"])
    assert count == encoder_count + decoder_count
    assert round(count / 1e6, 1) == GUIDE_PARAMS_MILLIONS


def test_feature_maps(conv_output_sizes):
    model = build_autoencoder(_config("deterministic", widths=(2, 3, 4, 5)), (28, 28, 1))
    assert conv_output_sizes(model, (28, 28, 1)) == [
        (14, 14, 2), (7, 7, 3), (3, 3, 4), (1, 1, 5),  # 4x4 stride 2, padding 1
        (7, 7, 4), (14, 14, 3), (28, 28, 1)]  # 3x3 stride 2 from 4x4x5


def test_kernels_and_batch_norms(abstract_init, num_params):
    model = build_autoencoder(_config("deterministic", widths=(2, 3, 4, 5)), (28, 28, 1))
    variables = abstract_init(model, (1, 28, 28, 1), train=False)
    decoder = variables["params"]["decoder"]
    assert decoder["Dense_0"]["kernel"].shape == (8, 4 * 4 * 5)
    assert [decoder[f"ConvTranspose_{i}"]["kernel"].shape for i in range(3)] == [
        (3, 3, 5, 4), (3, 3, 4, 3), (3, 3, 3, 1)]
    # Batch norm after every encoder conv and every decoder layer but the last.
    assert num_params(variables["batch_stats"]) == 2 * (2 + 3 + 4 + 5 + 4 + 3)
