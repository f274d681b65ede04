"""wae_jax.cli: the one-line error and the library INFO records dropped from the logs."""

import logging as std_logging

import pytest
from absl import logging

from wae_jax import cli


def test_exit_with_writes_one_line_and_the_status(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.exit_with("bad value\n  use  another", 2)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: bad value use another\n"


def _record(pathname: str, level: int) -> std_logging.LogRecord:
    return std_logging.LogRecord("absl", level, pathname, 1, "message", None, None)


@pytest.fixture
def absl_handler():
    """The absl handler without the filters a test adds, at the default verbosity."""
    handler, verbosity = logging.get_absl_handler(), logging.get_verbosity()
    filters = list(handler.filters)
    yield handler
    handler.filters[:] = filters
    logging.set_verbosity(verbosity)


@pytest.mark.parametrize("pathname, level, kept", [
    ("/site-packages/orbax/checkpoint/checkpoint_manager.py", std_logging.INFO, False),
    ("/site-packages/orbax/checkpoint/checkpoint_manager.py", std_logging.WARNING, True),
    ("/site-packages/tensorflow_datasets/core/dataset_info.py", std_logging.INFO, False),
    ("/site-packages/jax/_src/xla_bridge.py", std_logging.INFO, False),
    ("/site-packages/jax/_src/xla_bridge.py", std_logging.WARNING, True),
    ("/repo/wae_jax/training/trainer.py", std_logging.INFO, True),
])
def test_library_info_is_dropped_at_the_default_verbosity(absl_handler, pathname, level, kept):
    logging.set_verbosity(logging.INFO)
    cli.quiet_library_logs()
    assert bool(absl_handler.filter(_record(pathname, level))) == kept


def test_verbosity_1_keeps_everything(absl_handler):
    logging.set_verbosity(logging.DEBUG)
    cli.quiet_library_logs()
    assert absl_handler.filter(_record("/site-packages/orbax/x.py", std_logging.INFO))
