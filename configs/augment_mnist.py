r"""Data augmentation via VAEs (Garay-Maestre et al.): one generator per MNIST class.

The grid: generators x latent_dims x sizes x seeds cells; each cell draws a stratified
subset (85% train / 15% validation per class, at least one validation image per class),
trains the ten class generators as one population, and the paper's CNN under four
conditions (CNN: real; VAE: real + generated; AUG: real + rotations/shifts; AUG+VAE:
both), scored by macro F1 on 700 test images per class.

  python -m wae_jax.augment --config=configs/augment_mnist.py --workdir=/tmp/wae/augment
  python -m wae_jax.augment --config=configs/augment_mnist.py --workdir=/tmp/wae/augment \
      --latent_dims=3 --sizes=50,100 --seeds=0   # a part of the grid
  python -m wae_jax.augment --config=configs/augment_mnist.py \
      --config.generators="('w2vae',)" --workdir=/tmp/wae/augment   # another generator

Finished cells (all four conditions in results.csv) are skipped on a rerun.
"""

import ml_collections

from configs import common


def generator_config() -> ml_collections.ConfigDict:
    """The paper's VAE (Table 1): Bernoulli likelihood (binary cross-entropy on logits)
    + the correct KL, RMSprop with Keras' defaults (1e-3), batch 100 (the Keras example;
    a class of the reduced sets has fewer images: then one full batch per epoch)."""
    config = common.vae(common.get_config())
    config.model.arch = "augmentation_vae"
    config.model.augmentation_width = 64  # paper: the convs' 64 channels
    config.model.augmentation_hidden = 128  # paper: FC(128)
    config.model.initializer = "flax"  # Keras' glorot_uniform is not offered: lecun_normal
    config.optimizer = "rmsprop"
    config.learning_rate = 1e-3
    config.batch_size = 100
    config.num_epochs = 1  # unused: the study's own epoch loop stops on validation
    config.lr_decay_epochs = ()
    config.lr_decay_factors = ()
    config.progress_bar = False
    config.sample_eval.metrics = ()
    config.sample_eval.keep_best = ""
    return config


def generator_settings() -> ml_collections.ConfigDict:
    """Overrides of generator_config() per selectable generator: the same nets, each
    method with its own paper's objective. W2-VAE: the KL term replaced by the closed-form
    W2 (weight 1). WAE-MMD / WAE-GAN: deterministic encoder, the WAE paper's MNIST
    objective (0.05 * squared error, lambda 10, sigmoid output), no pre-training or
    input noise (the study trains without the WAE trainer's heuristics)."""
    wae = dict(cost="l2sq", recon_scale=0.05, lambda_=10.0, encoder="deterministic",
               output_activation="sigmoid")
    return ml_collections.ConfigDict({
        "vae": {}, "w2vae": {"method": "w2vae"},
        "wae_mmd": {"method": "wae_mmd", **wae}, "wae_gan": {"method": "wae_gan", **wae}})


def classifier_config() -> ml_collections.ConfigDict:
    """The paper's CNN (Table 1) and how it is trained."""
    classifier = ml_collections.ConfigDict()
    classifier.num_classes = 10
    classifier.widths = (64, 128, 128, 128)  # paper: Conv64-Conv128-pool-Conv128-Conv128-pool
    classifier.hidden = 128  # paper: FC128
    classifier.dropout_rate = 0.5  # paper
    classifier.learning_rate = 1e-3  # Adam, Keras' default rate
    classifier.padding = "SAME"  # not stated in the paper: its official code's
    classifier.batch_size = 32  # not stated in the paper: Keras' default (and its code's)
    # An epoch is ceil(n / 32) steps (Keras' fit), but at least 10. 40 real images made
    # 2-step epochs, so patience 10 stopped the dropout-heavy CNN within 20 steps of its
    # best, even on its initial plateau (one AUG run predicted one class for everything;
    # the official code's AUG epochs were len(train) batches). With 10, patience spans
    # 100 steps; a longer minimum (25 was tried) checks too rarely: the validation loss
    # of the smallest sets is lowest within the first 25-50 steps.
    classifier.min_steps_per_epoch = 10
    # Images with generated ones: all real training images + a fresh page of this many
    # generated ones each epoch (the official code's 100), so the real images are a
    # third of an epoch at 50 images (40 train), not 4% of one pool of 1000.
    classifier.generated_per_epoch = 100
    classifier.max_epochs = 200  # an upper bound; early stopping ends training long before
    classifier.patience = 10  # paper: early stopping, patience 10, on the validation loss
    classifier.max_rotation_degrees = 20.0  # paper's AUG: rotation_range 20
    classifier.max_shift_fraction = 0.2  # paper's AUG: width/height_shift_range 0.2
    classifier.data_seed = 0  # batch order (the cell seed is added)
    return classifier


def get_config(arg=None) -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.study = "per_class"  # per_class (this paper) | w2_protocol (configs/augment_w2_*.py)
    config.dataset = "mnist"
    config.data_dir = ""  # '' = $WAE_JAX_DATA_DIR or ~/tensorflow_datasets
    config.generators = ("vae",)  # any of vae | w2vae | wae_mmd | wae_gan (paper: vae)
    config.latent_dims = (2, 3, 4, 8)  # paper
    config.sizes = (50, 100, 250, 500, 1000)  # reduced training sets, equal per class; paper
    config.seeds = (0, 1, 2)  # the paper reports one run; we report mean and std over 3
    config.validation_fraction = 0.15  # paper: 85% train / 15% validation
    config.test_per_class = 700  # paper: 7000 test images
    # Generated images per class: a pool that the CNNs page through, a fresh
    # classifier.generated_per_epoch of it each epoch (the official code's scheme: it
    # drew 2500 per class and added 100 new ones per epoch). 500 per class (5000) lasts
    # the 50 epochs that early stopping rarely exceeds before any image repeats.
    config.generated_per_class = 500
    config.generator_max_epochs = 1000  # the paper "adjusted manually"; we stop early:
    # A class of the smallest sets has 4 training images: one step per epoch. Checked
    # after every epoch, the one validation image's noisy loss stopped one class's VAE
    # at its 2nd step (a blank decoder); checked every 10 epochs, patience 20 spans 200
    # steps, the official code's fixed 200 epochs for this size.
    config.generator_check_every = 10
    config.generator_patience = 20  # checks without a better validation loss
    config.generator = generator_config()
    config.generator_settings = generator_settings()
    config.classifier = classifier_config()
    return _finalize(config, arg)


def _small(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """One cell (latent 3, 50 images, seed 0) on 2 CPU cores: the paper's nets, fewer
    generated images and generator epochs. About 50 minutes on 2 loaded cores, mostly
    the CNNs; the CNN keeps its 200-epoch bound (60 stopped AUG while still improving)."""
    config.latent_dims = (3,)
    config.sizes = (50,)
    config.seeds = (0,)
    config.generated_per_class = 100
    config.generator_max_epochs = 300
    return config


def _tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Seconds: narrow nets, a few epochs (tests)."""
    config.latent_dims = (2,)
    config.sizes = (50,)
    config.seeds = (0,)
    config.test_per_class = 1
    config.generated_per_class = 2
    config.generator_max_epochs = 3
    config.generator_check_every = 1
    config.generator_patience = 2
    config.generator.model.augmentation_width = 4
    config.generator.model.augmentation_hidden = 8
    config.generator.model.adversary_hidden = (8, 8)
    config.classifier.widths = (4, 4, 4, 4)
    config.classifier.hidden = 8
    config.classifier.max_epochs = 3
    config.classifier.patience = 2
    config.classifier.min_steps_per_epoch = 1
    config.classifier.generated_per_epoch = 10
    return config


def _finalize(config, arg):
    sizes = {"small": _small, "tiny": _tiny}
    if arg:
        if arg not in sizes:
            raise ValueError(f"config argument {arg!r}: use one of {tuple(sizes)} or none")
        config = sizes[arg](config)
    return config
