import csv

from wae_jax.files import csv_file


def test_rows_are_appended_under_one_header(tmp_path):
    path = tmp_path / "t.csv"
    csv_file.append(path, ("a", "b"), [{"a": 1, "b": "x"}])
    csv_file.append(path, ("a", "b"), [{"a": 2, "b": "y", "ignored": 0}, {"a": 3}])
    assert path.read_text().splitlines() == ["a,b", "1,x", "2,y", "3,"]
    with open(path, newline="") as f:
        assert [row["a"] for row in csv.DictReader(f)] == ["1", "2", "3"]


def test_an_empty_append_to_a_new_file_writes_the_header(tmp_path):
    path = tmp_path / "t.csv"
    csv_file.append(path, ("a",), [])
    assert path.read_text().splitlines() == ["a"]
