import os

import pytest

from wae_jax.files import json_file


def test_a_value_round_trips_and_a_missing_file_reads_as_none(tmp_path):
    path = tmp_path / "v.json"
    assert json_file.read(path) is None
    json_file.write(path, {"b": [1, 2.5], "a": None}, sort_keys=True)
    assert json_file.read(path) == {"a": None, "b": [1, 2.5]}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')


def test_an_unserializable_value_leaves_the_old_file(tmp_path):
    path = tmp_path / "v.json"
    json_file.write(path, {"step": 3})
    with pytest.raises(TypeError):
        json_file.write(path, {"step": object()})
    assert json_file.read(path) == {"step": 3}
    assert os.listdir(tmp_path) == ["v.json"]
