"""config.population: which fields may vary, one-line errors, the members' solo configs."""

import jax
import pytest

from wae_jax.training import population, validation
from tests.training.tiny import run_main, tiny_config


def _error(config) -> str:
    with pytest.raises(validation.ConfigError) as info:
        validation.validate_config(config, 1)
    assert "\n" not in str(info.value)
    return str(info.value)


def _population(members, **values):
    config = tiny_config("wae_mmd", "")
    config.population.size = members
    for field, value in values.items():
        config.population[field] = value
    return config


def test_members_are_solo_configs_with_seed_plus_i_and_shared_data_order():
    config = _population(3, lambda_=(1.0, 2.0, 3.0), kernel_scales=((1.0,) * 7,) * 3)
    config.seed = 5
    members = population.member_configs(config)
    assert [m.seed for m in members] == [5, 6, 7]
    assert [m.lambda_ for m in members] == [1.0, 2.0, 3.0]
    assert all(m.data_seed == 5 and m.population.size == 1 for m in members)
    assert all(tuple(m.population.lambda_) == () for m in members)
    assert members[1].learning_rate == config.learning_rate  # not varied: the config's
    for member in members:
        validation.validate_config(member, 1)
    assert population.varied_values(config)[2] == {
        "seed": 7, "lambda_": 3.0, "kernel_scales": (1.0,) * 7}


def test_given_seeds_replace_seed_plus_i():
    config = _population(2, seed=(10, 3))
    assert [m.seed for m in population.member_configs(config)] == [10, 3]


@pytest.mark.parametrize("values, words", [
    ({"lambda_": (1.0, 2.0)}, "config.population.lambda_=(1.0, 2.0): give one value per member"),
    ({"learning_rate": (1e-3, 0.0, 1e-3)}, "config.population.learning_rate=(0.001, 0.0, "
     "0.001): entry 0.0: use a number > 0.0"),
    ({"seed": (0, -1, 2)}, "config.population.seed=(0, -1, 2): entry -1"),
    ({"kernel_scales": ((1.0,),) * 3}, "entry (1.0,): give 7 scales"),
])
def test_bad_member_values_name_the_field(values, words):
    assert words in _error(_population(3, **values))


def test_size_must_be_positive():
    assert "config.population.size=0: use an integer >= 1" in _error(_population(0))


@pytest.mark.parametrize("field, value", [("latent_dim", (8, 16)), ("batch_size", (8, 16)),
                                          ("method", ("vae", "wae_mmd")),
                                          ("model", (1, 2))])
def test_shape_changing_fields_cannot_vary(field, value):
    config = _population(2)
    config.population.unlock()
    config.population[field] = value
    message = _error(config)
    assert message.startswith(f"config.population.{field}: only seed, learning_rate")
    assert "changes array shapes or structure" in message


def test_command_line_sets_population_fields(tmp_path):
    """--config.population.* parses on any config; a bad one exits 2 with one line."""
    result = run_main(tmp_path / "w", "mnist_gan.py:tiny", "--config.population.size=2",
                      "--config.population.lambda_=(1.0,2.0,3.0)", "--config.data_dir=/none")
    assert result.returncode == 2, result.stderr
    assert "config.population.lambda_=(1.0, 2.0, 3.0): give one value per member" in (
        result.stderr)


def test_populations_on_a_cpu_lower_convolutions_to_matmuls():
    config = tiny_config("wae_mmd", "")
    assert population.model_config(config).conv_lowering == "auto"  # a solo run: as set
    config.population.size = 2
    expected = "matmul" if jax.default_backend() == "cpu" else "auto"
    assert population.model_config(config).conv_lowering == expected
    assert config.model.conv_lowering == "auto"  # the members' solo configs keep theirs
    config.model.conv_lowering = "xla"  # an explicit choice is kept
    assert population.model_config(config).conv_lowering == "xla"


def test_vectorize_auto_runs_members_one_after_another_only_on_a_cpu():
    config = _population(2)
    on_cpu = jax.default_backend() == "cpu"
    assert population.vectorize(config) == ("loop" if on_cpu else "vmap")
    config.population.vectorize = "vmap"  # an explicit choice is kept
    assert population.vectorize(config) == "vmap"
    config.population.vectorize = "pmap"
    assert "config.population.vectorize='pmap'" in _error(config)
