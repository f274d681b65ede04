"""Compilation settings for tests: XLA's backend optimisations and its new CPU fusion
emitters off. The same arithmetic up to round-off; the small programs of tests compile
several times faster (the emitters alone: 2.4x on tests/models/test_conv.py's cases), and
far faster than op-by-op dispatch, which compiles every primitive on its own."""

import functools
import os

import jax

# tests/conftest.py adds it to XLA_FLAGS for the whole session.
NEW_EMITTERS_OFF = "--xla_cpu_use_fusion_emitters=false"

jit = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0,
                                                  "xla_cpu_use_fusion_emitters": False})

# The same for a subprocess through its environment, every program kept in the
# persistent compilation cache (runs of one test repeat them).
ENV = {"XLA_FLAGS": f"--xla_backend_optimization_level=0 {NEW_EMITTERS_OFF}",
       "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
       "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}


def xla_flags_with_devices(count: int, flags: str | None = None) -> str:
    """XLA_FLAGS for a subprocess on `count` forced CPU devices, `flags` kept (default:
    this session's)."""
    flags = os.environ.get("XLA_FLAGS", "") if flags is None else flags
    return f"{flags} --xla_force_host_platform_device_count={count}".strip()
