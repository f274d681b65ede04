"""The base config every experiment file starts from, and the `:small` / `:tiny` shrinkers.

Defaults are the WAE paper's MNIST WAE-MMD setting (Tolstikhin et al. 2018, appendix C,
and the official code's configs.py); each experiment file changes only what differs and
ends with `common.finalize(config, arg)`, which applies the optional size argument:

  (none)  the paper-size run;
  small   a CPU run of a few minutes on 2 cores (compact nets, a few thousand steps);
  tiny    a seconds-long smoke run for tests (tiny nets, a handful of steps).

The config is locked by `config_flags`, so `--config.<field>=value` with an unknown
field fails; the trainer validates values (wae_jax/training/validation.py).
"""

from typing import Optional

import ml_collections


def model_config(latent_dim: ml_collections.FieldReference) -> ml_collections.ConfigDict:
    """The network (wae_jax.models.build_autoencoder / build_adversary reads these fields)."""
    model = ml_collections.ConfigDict()
    model.arch = "dcgan_mnist"  # mlp | dcgan_mnist | dcgan_celeba | resnet_v2 | pythae_mnist | ...
    model.encoder = "deterministic"  # deterministic | gaussian | noise ("universal approximator")
    model.latent_dim = latent_dim  # tied to config.latent_dim; do not set it separately
    model.output_activation = "sigmoid"  # sigmoid ([0,1] data) | tanh ([-1,1]) | identity (logits)
    model.widths = (128, 256, 512, 1024)  # dcgan_*, pythae_mnist conv widths (decoder mirrored)
    model.hidden = (512, 256)  # mlp hidden sizes (decoder mirrored)
    model.stage_sizes = (3, 4, 6, 3)  # resnet_v2 blocks per stage
    model.resnet_width = 64  # resnet_v2 base width
    model.logvar_clamp = 10.0  # |log-variance| bound of a gaussian encoder (keeps exp finite)
    model.nonpositive_heads = False  # W2-VAE paper's min(0, .) on the gaussian heads
    model.noise_dim = latent_dim  # noise encoder: size of the injected noise
    model.noise_hidden = 256  # noise encoder: width of the layer mixing features and noise
    model.adversary_hidden = (512, 512, 512, 512)  # WAE-GAN latent adversary MLP (MNIST size)
    # auto: the CPU rewrite (populations: matmul, no conv op under vmap), XLA's conv on GPU/TPU
    model.conv_lowering = "auto"  # auto | xla | rewrite | matmul
    model.batch_norm = True  # False drops every batch norm (paper's CelebA VAE baseline)
    model.initializer = "wae"  # official code's N(0, 0.01) kernels (truncated for convs) | flax
    return model


def get_config() -> ml_collections.ConfigDict:
    """WAE-MMD on MNIST with the paper's values; experiment files override fields."""
    config = ml_collections.ConfigDict()
    # --- What to train.
    config.method = "wae_mmd"  # vae | w2vae | wae_mmd | wae_gan
    config.dataset = "mnist"  # mnist | fashion_mnist | celeb_a_64
    config.data_dir = ""  # '' = $WAE_JAX_DATA_DIR or ~/tensorflow_datasets
    config.value_range = "unit"  # pixels in [0, 1] ("unit") or [-1, 1] ("symmetric")
    config.random_flip = False  # random horizontal flips of training images
    config.train_classes = ()  # train on these labels only (e.g. (3,): one digit); () = all
    # --- Latent space: P_Z = N(0, prior_std^2 I) on latent_dim dimensions.
    config.latent_dim = 8  # paper: 8 (MNIST), 64 (CelebA)
    config.prior_std = 1.0  # paper: 1 (MNIST); the CelebA WAE files set sqrt(2)
    # --- Objective: loss = recon_scale * mean_batch c(x, x_hat) + lambda * penalty.
    config.cost = "l2sq"  # l2sq | l2 | l1 | bernoulli (decoder outputs logits)
    config.recon_scale = 0.05  # the official code's factor on the summed squared error
    config.lambda_ = 10.0  # penalty weight; paper: 10 (MNIST), 100 / 1 (CelebA MMD / GAN)
    config.lambda_growth = 0.0  # W2-VAE ramp: lambda = lambda_ + lambda_growth * epoch
    config.kernel = "imq"  # MMD kernel: imq (paper) | rbf (median bandwidth)
    config.kernel_scales = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)  # IMQ C = 2 z_dim s^2 * scale
    # --- Optimisation.
    config.batch_size = 100  # global batch, split over all devices; paper: 100
    config.num_epochs = 100  # paper: 100 (MNIST), 55 (CelebA)
    config.num_train_steps = -1  # > 0: train this many steps instead of num_epochs
    config.seed = 0  # initialisation, data order and every random draw
    config.data_seed = -1  # the data order's seed instead, when >= 0 (population members share it)
    config.learning_rate = 1e-3  # Adam; paper: 1e-3 (MNIST)
    config.optimizer = "adam"  # adam | rmsprop (Keras defaults: the augmentation paper's VAE)
    config.adam_b1 = 0.5  # paper: 0.5
    config.adam_b2 = 0.999  # Adam's default (the paper does not change it)
    config.lr_decay_epochs = (30, 50, 100)  # divide the rate at these epochs (compounding) ...
    config.lr_decay_factors = (2.0, 5.0, 10.0)  # ... by these factors; () = constant rate
    # --- WAE-GAN.
    config.adversary_learning_rate = 5e-4  # adversary's Adam; official MNIST code: 5e-4
    config.log_prior_trick = False  # add log p_z(z) to the adversary logits (paper: CelebA)
    # --- The WAE paper's heuristics.
    config.pretrain_encoder = True  # first match Q_Z's mean and covariance to the prior's
    config.pretrain_max_steps = 200  # paper: up to 200 steps ...
    config.pretrain_loss_threshold = 0.1  # ... stopping when the loss is below 0.1
    config.pretrain_batch_size = 1000  # official code: 1000 (MNIST), 256 (CelebA)
    config.input_noise_std = 0.01  # truncated Gaussian noise on encoder inputs in training; 0 = off
    # --- Bookkeeping.
    config.log_every_steps = 100  # scalars to TensorBoard and metrics.jsonl
    config.eval_every_steps = 2000  # test metrics and PNG grids (also at the last step)
    config.checkpoint_every_steps = 2000  # periodic checkpoints (also at the last step)
    config.keep_checkpoints = 3  # the newest checkpoints kept on disk
    config.num_eval_images = 64  # fixed test images for eval metrics and the figures
    config.progress_bar = True  # tqdm bar with images/s and ETA (process 0)
    config.sample_eval = sample_eval_config()
    config.population = population_config()  # K models at once; size 1 = one model
    config.model = model_config(config.get_ref("latent_dim"))
    return config


def sample_eval_config() -> ml_collections.ConfigDict:
    """Sample quality during training (wae_jax/training/sample_quality.py).

    The bigWAE protocol: FID of 10,000 prior samples, and each model kept at its
    best-FID checkpoint (workdir/checkpoints_best). The checkpoint is selected against
    a reference that is not the test split (the first 10,000 training images here,
    CelebA's official validation partition in celeba()), so that the test split, on
    which `python -m wae_jax.evaluate` reports, plays no part in choosing the model.
    Inception runs at ~3 images/s on a CPU: this is accelerator work; `:small` uses
    the CPU proxy classifier_fd instead.
    """
    sample_eval = ml_collections.ConfigDict()
    sample_eval.metrics = ("fid",)  # any of fid, kid, classifier_fd (not FID); () = none
    sample_eval.every_steps = 10_000  # evaluate every this many steps and at the last step
    sample_eval.num_samples = 10_000  # decoded prior samples per evaluation
    sample_eval.reference_split = "train"  # the selection reference: train | validation
    sample_eval.reference_n = 10_000  # its first n images (FID at 10k vs 10k); 0 = all
    sample_eval.select_on_test = False  # True allows reference_split='test' (with a warning)
    sample_eval.keep_best = "fid"  # the metric that picks checkpoints_best; '' = keep none
    sample_eval.batch_size = 500  # latents per decoder call
    sample_eval.classifier_steps = 2000  # classifier_fd: its classifier's training steps
    return sample_eval


def population_config() -> ml_collections.ConfigDict:
    """K models of one architecture trained at once (wae_jax/training/population.py).

    Members differ only in fields that keep every array's shape: each per-member
    field below is () (every member takes the config's value) or one value per
    member, e.g. --config.population.size=3 --config.population.lambda_="(1.,10.,100.)".
    Member i is the solo run of workdir/members/<i>/config.json: seed population.seed[i]
    (or seed + i). Data 'shared': one batch for all members, in the order of data_seed
    (or seed). Data 'per_member': each member its own input pipeline, as in its solo run:
    its train_classes (e.g. one class each) with its own epoch length, in the order of
    data_seed (or its own seed).
    """
    population = ml_collections.ConfigDict()
    population.size = 1  # K; 1 = one model, today's workdir layout
    population.data = "shared"  # shared (one batch for all) | per_member (one pipeline each)
    # How the one program runs the members: vmap (batched ops), loop (one after another;
    # each device over its own when they are split over devices), auto: loop on a CPU
    # (XLA:CPU runs a vmapped conv net slower than its members one by one;
    # docs/results.md), vmap on accelerators.
    population.vectorize = "auto"  # auto | vmap | loop
    population.seed = ()  # per-member seeds; () = seed + i
    population.learning_rate = ()  # per-member values of the config fields of the same name
    population.adversary_learning_rate = ()  # per-member adversary_learning_rate
    population.lambda_ = ()  # per-member lambda_
    population.lambda_growth = ()  # per-member lambda_growth
    population.prior_std = ()  # per-member prior_std
    population.kernel_scales = ()  # one tuple of scales per member, each as long as kernel_scales
    population.input_noise_std = ()  # per-member input_noise_std
    population.train_classes = ()  # per-member train_classes, e.g. ((0,), (1,)); per_member data
    return population


def celeba(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The WAE paper's CelebA 64x64 setting, shared by the three CelebA files.

    Each file sets its own learning rate and prior (they differ between methods).
    """
    config.dataset = "celeb_a_64"
    config.value_range = "symmetric"  # paper: tanh decoder on [-1, 1] pixels
    config.latent_dim = 64
    config.num_epochs = 55
    config.pretrain_batch_size = 256  # official code
    config.sample_eval.reference_split = "validation"  # the official partition's 19,867
    config.model.arch = "dcgan_celeba"  # 5x5 kernels, 3 upsamplings
    config.model.output_activation = "tanh"
    config.model.adversary_hidden = (1024, 1024, 1024, 1024)
    return config


def vae(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """A VAE baseline on the same nets: Gaussian encoder, none of the WAE heuristics."""
    config.method = "vae"
    config.model.encoder = "gaussian"
    config.lambda_ = 1.0  # the ELBO's KL weight
    config.pretrain_encoder = False
    config.input_noise_std = 0.0
    if config.value_range == "unit":  # Bernoulli likelihood on [0, 1] pixels
        config.cost = "bernoulli"
        config.recon_scale = 1.0
        config.model.output_activation = "identity"
    return config


def small(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """A few minutes on 2 CPU cores: compact nets, 1200 steps (2 MNIST epochs).

    The DCGAN widths are 1/16 of the paper's: on XLA:CPU the transposed convolutions
    of the decoder dominate the step, and at this size WAE-MMD on MNIST already
    draws recognisable digits after ~500 steps. Flax's initialisers, as before the
    official ones existed, so CPU runs and their recorded results stay as they were.
    """
    config.model.initializer = "flax"
    config.model.widths = (8, 16, 32, 64)
    config.model.hidden = (256, 128)
    config.model.stage_sizes = (1, 1, 1, 1)
    config.model.resnet_width = 16
    config.model.adversary_hidden = (128, 128, 128)
    config.num_train_steps = 1200
    config.lr_decay_epochs = ()
    config.lr_decay_factors = ()
    config.pretrain_batch_size = min(config.pretrain_batch_size, 200)
    config.log_every_steps = 50
    config.eval_every_steps = 300
    config.checkpoint_every_steps = 300
    labelled = config.dataset in ("mnist", "fashion_mnist")  # classifier_fd needs labels
    config.sample_eval.metrics = ("classifier_fd",) if labelled else ()
    config.sample_eval.keep_best = "classifier_fd" if labelled else ""
    config.sample_eval.every_steps = 300
    return config


def tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Seconds: the smallest nets that still exercise every code path (for tests)."""
    config.model.initializer = "flax"
    config.model.widths = (4, 4, 4, 4)
    config.model.hidden = (16, 8)
    config.model.stage_sizes = (1, 1, 1, 1)
    config.model.resnet_width = 4
    config.model.noise_hidden = 8
    config.model.adversary_hidden = (8, 8)
    config.batch_size = 8
    config.num_train_steps = 8
    config.lr_decay_epochs = ()
    config.lr_decay_factors = ()
    config.pretrain_max_steps = 3
    config.pretrain_batch_size = 8
    config.log_every_steps = 2
    config.eval_every_steps = 4
    config.checkpoint_every_steps = 4
    config.num_eval_images = 8
    config.progress_bar = False
    config.sample_eval.metrics = ()  # tests switch it on where they need it
    config.sample_eval.keep_best = ""
    config.sample_eval.every_steps = 4
    config.sample_eval.num_samples = 16
    config.sample_eval.reference_n = 16
    config.sample_eval.batch_size = 8
    config.sample_eval.classifier_steps = 5
    return config


SIZES = {"small": small, "tiny": tiny}


def finalize(config: ml_collections.ConfigDict, arg: Optional[str]) -> ml_collections.ConfigDict:
    """Applies the size argument of `--config=configs/<name>.py:<arg>` (none = paper size)."""
    if arg:
        if arg not in SIZES:
            raise ValueError(f"config argument {arg!r}: use one of {tuple(SIZES)} or none")
        config = SIZES[arg](config)
    return config
