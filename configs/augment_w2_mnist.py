r"""The W2-VAE paper's protocol (Chen & Liu) on MNIST: KL-VAE vs W2-VAE, then augmentation.

30 runs per objective (one population each), the paper's MLP setting (15 epochs, batch
100, configs/mnist_mlp_vae.py) with a constant lambda ~ U(0, 20) per run for both
objectives; the best lambda chosen on training data, every run scored on test; 10,000
images of each objective's best run merged into 10k / 20k / 60k real training images for
a fixed small CNN, accuracy on 3,000 held-out test images.

  python -m wae_jax.augment --config=configs/augment_w2_mnist.py --workdir=/tmp/wae/w2_mnist
  python -m wae_jax.augment --config=configs/augment_w2_mnist.py:tiny --workdir=/tmp/w2_tiny

On a CPU the test FID of 10,000 samples for 60 runs is out of reach (the Inception runs at
~10 images/s on 2 cores: 10,000 samples take ~16 minutes per run): each run is scored by
classifier_fd of eval_samples=2000 samples and by FID and KID of inception_samples=200
against the first 2,000 test images (41 minutes for the 60 runs on a shared CPU). FID of
200 samples is biased upwards (it compares runs, it is not the paper's figure); on an
accelerator set
--config.inception_samples=10000 --config.inception_reference_n=0 (the whole test split).
"""

import ml_collections

from configs import common, mnist_mlp_vae


def training_config(dataset: str) -> ml_collections.ConfigDict:
    """Each run: the paper's MLP VAE; lambda is per run (population.lambda_), constant."""
    config = mnist_mlp_vae.mlp_setting(common.get_config())
    config.dataset = dataset
    config.lambda_growth = 0.0  # the sweep's lambda ~ U(0, 20), not the 0.5 + 0.05 * epoch ramp
    config.progress_bar = False
    config.sample_eval.metrics = ("classifier_fd",)  # the selection metric (CPU: not FID)
    config.sample_eval.every_steps = 10 ** 9  # so: at the last step only (the paper's model)
    config.sample_eval.num_samples = 2000
    config.sample_eval.reference_split = "train"  # the selection never sees test images
    config.sample_eval.reference_n = 10_000
    config.sample_eval.keep_best = "classifier_fd"
    return config


def classifier_config() -> ml_collections.ConfigDict:
    """The fixed small CNN of the augmentation step. The paper's "3-layer CNN" is not
    specified further: this is the augmentation paper's CNN layout narrowed to
    (16, 32, 32, 32) channels and FC 64, dropout 0.5, Adam 1e-3, batch 100, 5 epochs,
    no early stopping (no selection: the same recipe for every training set)."""
    classifier = ml_collections.ConfigDict()
    classifier.num_classes = 10
    classifier.widths = (16, 32, 32, 32)
    classifier.hidden = 64
    classifier.dropout_rate = 0.5
    classifier.learning_rate = 1e-3
    classifier.padding = "VALID"
    classifier.batch_size = 100
    classifier.min_steps_per_epoch = 1  # plain epochs: ceil(n / batch) steps
    classifier.generated_per_epoch = 0  # generated images are part of the training set
    classifier.max_epochs = 5
    classifier.patience = 5  # = max_epochs: never stops early, the last epoch is used
    classifier.max_rotation_degrees = 0.0
    classifier.max_shift_fraction = 0.0
    classifier.data_seed = 0
    return classifier


def w2_config(dataset: str, arg=None) -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.study = "w2_protocol"
    config.dataset = dataset
    config.data_dir = ""
    config.objectives = ("vae", "w2vae")
    config.num_runs = 30  # paper: 30 seeds per objective
    # Trained as populations of 10 runs (0-9, 10-19, 20-29), each saved to runs_w2.csv when
    # it ends: ~1 h per population on one CPU core, so the study runs in pieces that fit a
    # session (a population is no faster than its runs one by one on this CPU; on a GPU
    # set it to num_runs).
    config.runs_per_population = 10
    config.groups = ()  # indices of the groups this process trains (--groups=1,2); (): all
    config.lambda_max = 20.0  # paper: lambda ~ U(0, 20) for both objectives
    config.lambda_seed = 0  # draws the runs' lambdas
    config.eval_samples = 2000  # samples per run for the test metrics (10,000 on a GPU)
    config.test_metrics = ("classifier_fd",)
    config.inception_metrics = ("fid", "kid")  # scored on inception_samples samples per run
    config.inception_samples = 200  # 10,000 on an accelerator
    config.inception_reference_n = 2000  # first test images of the reference; 0: all
    config.generated_images = 10_000  # paper
    config.train_sizes = (10_000, 20_000, 60_000)  # paper
    config.seeds = (0, 1, 2)  # CNN seeds (and the real subsets' draws)
    config.holdout = 3000  # paper: "a separate 3,000 images", from the test split
    config.training = training_config(dataset)
    config.classifier = classifier_config()
    if arg == "tiny":
        config.num_runs = config.runs_per_population = 2
        config.training = common.tiny(config.training)
        config.training.sample_eval.metrics = ("classifier_fd",)
        config.training.sample_eval.keep_best = "classifier_fd"
        config.training.sample_eval.every_steps = 10 ** 9
        config.eval_samples = 16
        config.inception_metrics = ()  # the Inception's weights are not a test dependency
        config.generated_images = 20
        config.train_sizes = (20, 40)
        config.seeds = (0,)
        config.holdout = 10
        config.classifier.widths = (4, 4, 4, 4)
        config.classifier.hidden = 8
        config.classifier.batch_size = 8
        config.classifier.max_epochs = config.classifier.patience = 1
    elif arg:
        raise ValueError(f"config argument {arg!r}: use tiny or none")
    return config


def get_config(arg=None) -> ml_collections.ConfigDict:
    return w2_config("mnist", arg)
