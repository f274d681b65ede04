"""wae_jax: Wasserstein auto-encoders and their relatives in JAX/Flax."""

__version__ = "0.1.0"
