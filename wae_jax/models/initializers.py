"""Kernel initialisers by name (model_config.initializer), passed down to every layer.

  flax  flax's default, lecun_normal, for every kernel (what wae_jax used before: the
        `:small` and `:tiny` configs keep it);
  wae   the official WAE code's (`tolstikhin/wae` ops.py, init_std 0.01): N(0, 0.01^2)
        for dense and transposed-conv kernels, N(0, 0.01^2) truncated at 2 std for
        conv kernels. The paper-size WAE configs use it.

Biases start at zero under both (flax's and the official code's default).
"""

import dataclasses

import flax.linen as nn

Initializer = nn.initializers.Initializer
OFFICIAL_STD = 0.01  # the official code's init_std


@dataclasses.dataclass(frozen=True)
class Initializers:
    """One kernel initialiser per layer kind; modules take this as an attribute."""
    dense: Initializer
    conv: Initializer
    conv_transpose: Initializer


FLAX = Initializers(nn.initializers.lecun_normal(), nn.initializers.lecun_normal(),
                    nn.initializers.lecun_normal())
WAE = Initializers(nn.initializers.normal(OFFICIAL_STD),
                   nn.initializers.truncated_normal(OFFICIAL_STD),  # cut at +-2 std, as TF
                   nn.initializers.normal(OFFICIAL_STD))

INITIALIZERS: dict[str, Initializers] = {"flax": FLAX, "wae": WAE}
