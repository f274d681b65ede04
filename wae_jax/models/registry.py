"""Builds the networks named by a model config (explicit registries, no string imports).

model_config fields (an ml_collections.ConfigDict or any mapping with `.get`):
  arch               a key of ARCHITECTURES                                 (required)
  encoder            a key of HEADS: deterministic | gaussian | noise      (required)
  latent_dim         code size                                              (required)
  output_activation  sigmoid | tanh | identity                             (required)
  logvar_clamp       |log-variance| bound of the gaussian encoder  (required for gaussian)
  nonpositive_heads  W2-VAE's min(0, .) on the gaussian heads               (False)
  noise_dim, noise_hidden  noise encoder: eps size, mixing layer width      (latent_dim, 256)
  conv_lowering      passed to every Conv/ConvTranspose: auto | xla | rewrite | matmul ("auto")
  initializer        a key of INITIALIZERS, for every kernel of the auto-encoder
                     and the adversary: flax | wae                          ("flax")
  batch_norm         False drops every batch norm (dcgan_*, pythae_mnist, resnet_v2) (True)
  hidden             mlp: encoder hidden sizes, decoder mirrored            ((512, 256))
  widths             dcgan_*, pythae_mnist: encoder conv widths, decoder mirrored
                                                                  ((128, 256, 512, 1024))
  augmentation_width, augmentation_hidden  augmentation_vae: the conv width and the
                     dense layer of the augmentation paper's VAE (Table 1)      (64, 128)
  stage_sizes, resnet_width  resnet_v2 blocks per stage and base width     ((3, 4, 6, 3), 64)
  adversary_hidden   LatentAdversary hidden sizes                           ((512,) * 4)
  num_classes, dropout_rate  Classifier                                     (10, 0.5)
"""

import dataclasses
from typing import Any, Callable, Optional

import flax.linen as nn

from wae_jax.models.adversary import LatentAdversary
from wae_jax.models.augmentation import AugmentationVAEDecoder, AugmentationVAEEncoder
from wae_jax.models.autoencoder import OUTPUT_ACTIVATIONS, AutoEncoder
from wae_jax.models.classifier import Classifier
from wae_jax.models.dcgan import DCGANDecoder, DCGANEncoder
from wae_jax.models.heads import DeterministicHead, GaussianHead, NoiseHead
from wae_jax.models.initializers import INITIALIZERS, Initializers
from wae_jax.models.mlp import MLPDecoder, MLPEncoder
from wae_jax.models.pythae import PythaeMNISTDecoder, PythaeMNISTEncoder
from wae_jax.models.resnet import ResNetV2Decoder, ResNetV2Encoder

ImageShape = tuple[int, int, int]
ModelConfig = Any  # ml_collections.ConfigDict or a mapping with .get
PAPER_WIDTHS = (128, 256, 512, 1024)
MNIST_SHAPE = (28, 28, 1)
CELEBA_SHAPE = (64, 64, 3)


def _get(config: ModelConfig, name: str, default: Any) -> Any:
    value = config.get(name, None)
    return default if value is None else value


def _required(config: ModelConfig, name: str, hint: str) -> Any:
    value = config.get(name, None)
    if value is None:
        raise ValueError(f"model_config.{name} is missing: set it to {hint}")
    return value


def _sizes(config: ModelConfig, name: str, default: tuple[int, ...],
           min_len: int = 1, exact_len: Optional[int] = None) -> tuple[int, ...]:
    """A tuple of positive ints from config, with the length the architecture needs."""
    value = _get(config, name, default)
    if not (isinstance(value, (tuple, list)) and all(isinstance(s, int) and s > 0
                                                     for s in value)):
        raise ValueError(f"model_config.{name}={value!r}: use a tuple of positive integers")
    sizes = tuple(value)
    if exact_len is not None and len(sizes) != exact_len:
        raise ValueError(f"model_config.{name}={sizes}: {config.get('arch')} needs "
                         f"exactly {exact_len} entries")
    if len(sizes) < min_len:
        raise ValueError(f"model_config.{name}={sizes}: {config.get('arch')} needs at least "
                         f"{min_len} entries")
    return sizes


def _positive_int(config: ModelConfig, name: str, default: Optional[int]) -> int:
    value = _get(config, name, default)
    if value is None:
        raise ValueError(f"model_config.{name} is missing: set it to a positive integer")
    if not (isinstance(value, int) and value > 0):
        raise ValueError(f"model_config.{name}={value!r}: use a positive integer")
    return value


def _lowering(config: ModelConfig) -> str:
    return _get(config, "conv_lowering", "auto")


def _inits(config: ModelConfig) -> Initializers:
    name = _get(config, "initializer", "flax")
    if name not in INITIALIZERS:
        raise ValueError(f"model_config.initializer={name!r}: use one of {tuple(INITIALIZERS)}")
    return INITIALIZERS[name]


def _batch_norm(config: ModelConfig) -> bool:
    value = _get(config, "batch_norm", True)
    if not isinstance(value, bool):
        raise ValueError(f"model_config.batch_norm={value!r}: use True or False")
    return value


Backbones = tuple[nn.Module, nn.Module]


def _mlp(config: ModelConfig, image_shape: ImageShape) -> Backbones:
    hidden = _sizes(config, "hidden", (512, 256))
    return MLPEncoder(hidden, _inits(config)), MLPDecoder(image_shape, hidden[::-1], _inits(config))


def _dcgan(kernel_size: int, num_upsamplings: int
           ) -> Callable[[ModelConfig, ImageShape], Backbones]:
    """The official WAE DCGAN nets: 4x4 kernels, 2 upsamplings (MNIST); 5x5, 3 (CelebA)."""
    def build(config: ModelConfig, image_shape: ImageShape) -> Backbones:
        widths = _sizes(config, "widths", PAPER_WIDTHS, min_len=num_upsamplings + 1)
        decoder_widths = widths[::-1][:num_upsamplings + 1]
        options = dict(kernel_size=kernel_size, lowering=_lowering(config),
                       batch_norm=_batch_norm(config), inits=_inits(config))
        return (DCGANEncoder(widths, **options),
                DCGANDecoder(image_shape, decoder_widths, **options))
    return build


def _pythae_mnist(config: ModelConfig, image_shape: ImageShape) -> Backbones:
    widths = _sizes(config, "widths", PAPER_WIDTHS, exact_len=4)
    options = dict(lowering=_lowering(config), batch_norm=_batch_norm(config),
                   inits=_inits(config))
    return (PythaeMNISTEncoder(widths, **options),
            PythaeMNISTDecoder(widths[:0:-1], image_shape[-1], **options))


def _resnet_v2(config: ModelConfig, image_shape: ImageShape) -> Backbones:
    stage_sizes = _sizes(config, "stage_sizes", (3, 4, 6, 3))
    width = _positive_int(config, "resnet_width", 64)
    options = dict(lowering=_lowering(config), batch_norm=_batch_norm(config),
                   inits=_inits(config))
    return (ResNetV2Encoder(stage_sizes, width, **options),
            ResNetV2Decoder(image_shape, stage_sizes, width, **options))


def _augmentation_vae(config: ModelConfig, image_shape: ImageShape) -> Backbones:
    options = dict(width=_positive_int(config, "augmentation_width", 64),
                   hidden=_positive_int(config, "augmentation_hidden", 128),
                   lowering=_lowering(config), inits=_inits(config))
    return (AugmentationVAEEncoder(**options),
            AugmentationVAEDecoder(image_shape[-1], **options))


@dataclasses.dataclass(frozen=True)
class Architecture:
    """How to build one backbone pair, and the image shapes it was designed for."""
    build: Callable[[ModelConfig, ImageShape], Backbones]
    image_shapes: tuple[ImageShape, ...] = ()  # empty: any shape


ARCHITECTURES: dict[str, Architecture] = {
    "mlp": Architecture(_mlp),
    "dcgan_mnist": Architecture(_dcgan(kernel_size=4, num_upsamplings=2), (MNIST_SHAPE,)),
    "dcgan_celeba": Architecture(_dcgan(kernel_size=5, num_upsamplings=3), (CELEBA_SHAPE,)),
    "resnet_v2": Architecture(_resnet_v2),
    "augmentation_vae": Architecture(_augmentation_vae, (MNIST_SHAPE,)),
    "pythae_mnist": Architecture(_pythae_mnist, (MNIST_SHAPE,)),
}


def _deterministic_head(config: ModelConfig, latent_dim: int) -> nn.Module:
    return DeterministicHead(latent_dim, _inits(config))


def _gaussian_head(config: ModelConfig, latent_dim: int) -> nn.Module:
    clamp = _required(config, "logvar_clamp", "a positive bound, e.g. 10.0")
    if clamp <= 0:
        raise ValueError(f"model_config.logvar_clamp={clamp}: use a positive bound")
    return GaussianHead(latent_dim, float(clamp), bool(_get(config, "nonpositive_heads", False)),
                        _inits(config))


def _noise_head(config: ModelConfig, latent_dim: int) -> nn.Module:
    return NoiseHead(latent_dim, _positive_int(config, "noise_dim", latent_dim),
                     _positive_int(config, "noise_hidden", 256), _inits(config))


HEADS: dict[str, Callable[[ModelConfig, int], nn.Module]] = {
    "deterministic": _deterministic_head,
    "gaussian": _gaussian_head,
    "noise": _noise_head,
}


def _choice(config: ModelConfig, name: str, choices: dict[str, Any]) -> str:
    value = _required(config, name, f"one of {tuple(choices)}")
    if value not in choices:
        raise ValueError(f"model_config.{name}={value!r}: use one of {tuple(choices)}")
    return value


def build_autoencoder(model_config: ModelConfig, image_shape: ImageShape) -> AutoEncoder:
    """The AutoEncoder for `model_config` on images of `image_shape` (H, W, C)."""
    image_shape = tuple(image_shape)
    arch = ARCHITECTURES[_choice(model_config, "arch", ARCHITECTURES)]
    kind = _choice(model_config, "encoder", HEADS)
    activation = _choice(model_config, "output_activation", OUTPUT_ACTIVATIONS)
    latent_dim = _positive_int(model_config, "latent_dim", None)
    if len(image_shape) != 3:
        raise ValueError(f"image_shape={image_shape}: use (height, width, channels)")
    if arch.image_shapes and image_shape not in arch.image_shapes:
        raise ValueError(f"image_shape={image_shape}: arch {model_config.get('arch')!r} is "
                         f"built for {arch.image_shapes}; use 'mlp' or 'resnet_v2' for "
                         f"other shapes")
    if _get(model_config, "nonpositive_heads", False) and kind != "gaussian":
        raise ValueError(f"model_config.nonpositive_heads=True needs encoder='gaussian', "
                         f"not {kind!r}")
    _batch_norm(model_config)  # checked for every arch, also those without batch norm
    encoder, decoder = arch.build(model_config, image_shape)
    head = HEADS[kind](model_config, latent_dim)
    return AutoEncoder(encoder, head, decoder, activation)


def build_adversary(model_config: ModelConfig) -> LatentAdversary:
    """WAE-GAN's latent adversary; adversary_hidden defaults to the MNIST (512,) * 4."""
    return LatentAdversary(_sizes(model_config, "adversary_hidden", (512,) * 4),
                           _inits(model_config))


def build_classifier(model_config: ModelConfig) -> Classifier:
    """The augmentation paper's CNN; num_classes, dropout_rate, conv_lowering all optional."""
    rate = _get(model_config, "dropout_rate", 0.5)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"model_config.dropout_rate={rate}: use a value in [0, 1)")
    return Classifier(_positive_int(model_config, "num_classes", 10), rate,
                      _lowering(model_config))
