"""Networks of wae_jax: auto-encoders (backbone + latent head), adversary, classifier."""

from wae_jax.models.adversary import LatentAdversary
from wae_jax.models.augmentation import AugmentationVAEDecoder, AugmentationVAEEncoder
from wae_jax.models.autoencoder import OUTPUT_ACTIVATIONS, AutoEncoder
from wae_jax.models.classifier import Classifier
from wae_jax.models.conv import Conv, ConvTranspose
from wae_jax.models.dcgan import DCGANDecoder, DCGANEncoder
from wae_jax.models.heads import DeterministicHead, GaussianHead, NoiseHead
from wae_jax.models.mlp import MLPDecoder, MLPEncoder
from wae_jax.models.pythae import PythaeMNISTDecoder, PythaeMNISTEncoder
from wae_jax.models.registry import (ARCHITECTURES, HEADS, Architecture, build_adversary,
                                     build_autoencoder, build_classifier)
from wae_jax.models.resnet import ResNetV2Decoder, ResNetV2Encoder

__all__ = [
    "ARCHITECTURES", "HEADS", "OUTPUT_ACTIVATIONS", "Architecture", "AugmentationVAEDecoder",
    "AugmentationVAEEncoder", "AutoEncoder", "Classifier", "Conv", "ConvTranspose",
    "DCGANDecoder", "DCGANEncoder", "DeterministicHead", "GaussianHead", "LatentAdversary",
    "MLPDecoder", "MLPEncoder", "NoiseHead", "PythaeMNISTDecoder", "PythaeMNISTEncoder",
    "ResNetV2Decoder", "ResNetV2Encoder", "build_adversary", "build_autoencoder",
    "build_classifier",
]
