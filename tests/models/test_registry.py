import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from wae_jax.models import ARCHITECTURES, HEADS, build_autoencoder, build_classifier
from wae_jax.models.conv import Conv, ConvTranspose

MNIST, CELEBA = (28, 28, 1), (64, 64, 3)
SHAPES = {"mlp": (MNIST, CELEBA), "dcgan_mnist": (MNIST,), "dcgan_celeba": (CELEBA,),
          "resnet_v2": (MNIST, CELEBA), "augmentation_vae": (MNIST,), "pythae_mnist": (MNIST,)}
TINY = {"mlp": dict(hidden=(6, 5)), "dcgan_mnist": dict(widths=(2, 3, 4, 5)),
        "dcgan_celeba": dict(widths=(2, 3, 4, 5)), "pythae_mnist": dict(widths=(2, 3, 4, 5)),
        "resnet_v2": dict(stage_sizes=(1, 1), resnet_width=2),
        "augmentation_vae": dict(augmentation_width=2, augmentation_hidden=4)}
RNGS = {"params": jax.random.key(0), "noise": jax.random.key(1)}


def _config(arch="mlp", encoder="gaussian", **fields) -> ml_collections.ConfigDict:
    base = dict(arch=arch, encoder=encoder, latent_dim=3, output_activation="sigmoid",
                logvar_clamp=6.0, **TINY.get(arch, {}))
    base.update(fields)
    return ml_collections.ConfigDict(base)


def test_every_architecture_is_covered():
    assert set(SHAPES) == set(TINY) == set(ARCHITECTURES)
    assert set(HEADS) == {"deterministic", "gaussian", "noise"}


@pytest.mark.parametrize("encoder", sorted(HEADS))
@pytest.mark.parametrize("arch,image_shape",
                         [(a, s) for a, shapes in SHAPES.items() for s in shapes])
def test_output_shapes(arch, image_shape, encoder):
    model = build_autoencoder(_config(arch, encoder), image_shape)
    x = jax.ShapeDtypeStruct((2, *image_shape), jnp.float32)
    (mean, logvar, x_hat), variables = jax.eval_shape(
        lambda x: model.init_with_output(RNGS, x, False), x)
    assert mean.shape == (2, 3) and x_hat.shape == (2, *image_shape)
    assert (logvar.shape == (2, 3)) if encoder == "gaussian" else (logvar is None)
    has_batch_norm = arch in ("dcgan_mnist", "dcgan_celeba", "resnet_v2", "pythae_mnist")
    assert ("batch_stats" in variables) == has_batch_norm


@pytest.mark.parametrize("arch", ["dcgan_mnist", "dcgan_celeba", "resnet_v2",
                                  "augmentation_vae", "pythae_mnist"])
def test_conv_lowering_reaches_every_convolution(arch):
    image_shape = SHAPES[arch][0]
    model = build_autoencoder(_config(arch, conv_lowering="xla"), image_shape)
    lowerings = []

    def record(next_fun, args, kwargs, context):
        if isinstance(context.module, (Conv, ConvTranspose)):
            lowerings.append(context.module.lowering)
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(record):
        jax.eval_shape(lambda x: model.init(RNGS, x, False),
                       jax.ShapeDtypeStruct((1, *image_shape), jnp.float32))
    assert len(lowerings) >= 5 and set(lowerings) == {"xla"}
    classifier = build_classifier(ml_collections.ConfigDict({"conv_lowering": "xla"}))
    assert classifier.lowering == "xla"


def test_paper_defaults():
    config = ml_collections.ConfigDict(dict(arch="dcgan_mnist", encoder="gaussian",
                                            latent_dim=8, output_activation="sigmoid",
                                            logvar_clamp=10.0, nonpositive_heads=True))
    model = build_autoencoder(config, MNIST)
    assert model.encoder.widths == (128, 256, 512, 1024) and model.encoder.kernel_size == 4
    assert model.decoder.widths == (1024, 512, 256)
    assert model.head.nonpositive and model.head.logvar_clamp == 10.0
    config.update(dict(arch="dcgan_celeba"))
    model = build_autoencoder(config, CELEBA)
    assert model.decoder.widths == (1024, 512, 256, 128) and model.decoder.kernel_size == 5
    config.update(dict(arch="resnet_v2", encoder="noise", nonpositive_heads=False))
    model = build_autoencoder(config, CELEBA)
    assert model.encoder.stage_sizes == (3, 4, 6, 3) and model.encoder.width == 64
    assert (model.head.noise_dim, model.head.hidden) == (8, 256)
    config.update(dict(arch="mlp"))
    assert build_autoencoder(config, MNIST).encoder.hidden == (512, 256)


@pytest.mark.parametrize("fields,image_shape,message", [
    (dict(arch="vgg"), MNIST, r"model_config.arch='vgg': use one of \('mlp'"),
    (dict(encoder="flow"), MNIST, r"model_config.encoder='flow': use one of \('deterministic'"),
    (dict(output_activation="relu"), MNIST, r"output_activation='relu': use one of"),
    (dict(latent_dim=None), MNIST, "model_config.latent_dim is missing"),
    (dict(latent_dim=0), MNIST, "latent_dim=0: use a positive integer"),
    (dict(arch="dcgan_mnist", **TINY["dcgan_mnist"]), CELEBA,
     r"image_shape=\(64, 64, 3\): arch 'dcgan_mnist' is built for \(\(28, 28, 1\),\)"),
    (dict(arch="pythae_mnist", **TINY["pythae_mnist"]), (32, 32, 1), "pythae_mnist"),
    (dict(arch="dcgan_mnist", widths=(2, 3)), MNIST, r"widths=\(2, 3\).*at least 3"),
    (dict(arch="pythae_mnist", widths=(2, 3, 4)), MNIST, "exactly 4"),
    (dict(arch="augmentation_vae", augmentation_width=0), MNIST,
     "augmentation_width=0: use a positive integer"),
    (dict(hidden=(6, 0)), MNIST, r"hidden=\(6, 0\): use a tuple of positive integers"),
    (dict(arch="dcgan_mnist", widths=64), MNIST, "widths=64: use a tuple"),
    (dict(logvar_clamp=None), MNIST, "model_config.logvar_clamp is missing"),
    (dict(logvar_clamp=-1.0), MNIST, "logvar_clamp=-1.0: use a positive bound"),
    (dict(encoder="deterministic", nonpositive_heads=True), MNIST, "needs encoder='gaussian'"),
    (dict(encoder="noise", noise_hidden=0), MNIST, "noise_hidden=0"),
    (dict(), (28, 28), r"image_shape=\(28, 28\): use \(height, width, channels\)"),
])
def test_bad_configs(fields, image_shape, message):
    with pytest.raises(ValueError, match=message):
        build_autoencoder(_config(**fields), image_shape)


def test_jit_training_step_differentiates_every_parameter(random_variables):
    """One jitted gradient of a reconstruction loss through a BN conv net with noise."""
    model = build_autoencoder(_config("dcgan_mnist", "noise", widths=(2, 2, 2, 2)), MNIST)
    x = jax.random.uniform(jax.random.key(0), (2, *MNIST))
    variables = random_variables(model, x.shape, train=False)

    @jax.jit
    def grads(params, batch_stats, key):
        def loss(p):
            (_, _, x_hat), state = model.apply({"params": p, "batch_stats": batch_stats}, x,
                                               True, rngs={"noise": key},
                                               mutable=["batch_stats"])
            return jnp.sum((x - x_hat) ** 2), state
        return jax.grad(loss, has_aux=True)(params)

    g, state = grads(variables["params"], variables["batch_stats"], jax.random.key(2))
    leaves = jax.tree.leaves(g)
    assert all(np.isfinite(leaf).all() and np.abs(leaf).max() > 0 for leaf in leaves)
    assert jax.tree.structure(state["batch_stats"]) == jax.tree.structure(
        variables["batch_stats"])
