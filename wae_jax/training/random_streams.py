"""Named random streams: one key per purpose, folded from a root key by a registered number.

Every random draw of a run (initialisation, training, evaluation, figures, sample
scores) comes from `stream_key(root, name)` with root = PRNGKey(seed), so no two
purposes can share a key, even when two roots are equal (the trainer's seed and the
sample-evaluation seed are both 0 by default). A stream that needs a key per step
folds the step into its stream key.
"""

import jax

# Stream name -> the integer folded into the root key; distinct by construction. Append
# new streams at the end: a stream's number fixes its draws, so renumbering changes runs.
STREAMS: dict[str, int] = {name: i for i, name in enumerate((
    "params",  # auto-encoder initialisation
    "init_noise",  # the noise encoder's draw during initialisation
    "adversary_params",  # WAE-GAN adversary initialisation
    "train",  # train steps: fold_in(stream, step)
    "eval",  # the objective on test images (fixed: the same noise every evaluation)
    "pretrain",  # encoder pre-training steps: fold_in(stream, step)
    "figure_codes",  # the noise encoder's draw when encoding images for figures
    "figure_samples",  # the prior noise decoded into the trainer's sample grid
    "sample_eval",  # the prior noise of sample scores (trainer and evaluate CLI)
    "latent_scatter",  # the prior sample drawn under the codes of 2-D latent figures
))}


def stream_key(root: jax.Array, name: str) -> jax.Array:
    """The key of stream `name`; a KeyError names a stream missing from STREAMS."""
    return jax.random.fold_in(root, STREAMS[name])
