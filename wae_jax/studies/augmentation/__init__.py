"""The augmentation studies: per-class generators feeding a CNN (wae_jax/augment.py)."""
