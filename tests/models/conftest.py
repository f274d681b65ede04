"""Model set-up helpers that avoid compiling `init`.

XLA:CPU spends seconds compiling the random initialisers of even tiny models, so
tests trace `init` with jax.eval_shape (shapes and parameter counts of 20M+
models for free) and, when they need values, fill those shapes with numpy.
"""

import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.models.conv import Conv, ConvTranspose

RNGS = {"params": jax.random.key(0), "noise": jax.random.key(1), "dropout": jax.random.key(2)}


def _abstract_init(model, input_shape, **kwargs):
    """`model.init` traced with jax.eval_shape: variables as ShapeDtypeStructs."""
    x = jax.ShapeDtypeStruct(input_shape, jnp.float32)
    return jax.eval_shape(functools.partial(model.init, **kwargs), RNGS, x)


def _num_params(tree) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(tree))


def _random_variables(model, input_shape, seed=0, **kwargs):
    """Variables shaped as `model.init` makes them, drawn with numpy.

    Weights ~ N(0, 1/fan_in) and biases ~ N(0, 0.1^2) (non-zero, so tests see them);
    batch-norm scale 1 and running statistics (0, 1), as after flax's init.
    """
    rng = np.random.default_rng(seed)

    def fill(path, leaf):
        name = path[-1].key
        if name in ("scale", "var"):
            return np.ones(leaf.shape, np.float32)
        if name == "mean" and path[0].key == "batch_stats":
            return np.zeros(leaf.shape, np.float32)
        std = 0.1 if leaf.ndim == 1 else 1 / math.sqrt(math.prod(leaf.shape[:-1]))
        return (std * rng.standard_normal(leaf.shape)).astype(np.float32)

    return jax.tree_util.tree_map_with_path(fill, _abstract_init(model, input_shape, **kwargs))


def _conv_output_sizes(model, image_shape):
    """(H, W, C) after every Conv/ConvTranspose of an auto-encoder's init, in call order."""
    sizes = []

    def record(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if isinstance(context.module, (Conv, ConvTranspose)):
            sizes.append(out.shape[1:])
        return out

    with nn.intercept_methods(record):
        _abstract_init(model, (2, *image_shape), train=False)
    return sizes


@pytest.fixture(scope="session")
def abstract_init():
    return _abstract_init


@pytest.fixture(scope="session")
def num_params():
    return _num_params


@pytest.fixture(scope="session")
def random_variables():
    return _random_variables


@pytest.fixture(scope="session")
def conv_output_sizes():
    return _conv_output_sizes
