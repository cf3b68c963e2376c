"""read_columns: the data-CSV reader names the file, the line and the column of every bad cell."""
import pytest
import torch

from mpnet.io.csvdata import read_columns
from mpnet.errors import DataError


def _write(tmp_path, text, name="d.csv", mode="w"):
    path = tmp_path / name
    path.write_bytes(text) if mode == "wb" else path.write_text(text)
    return path


def test_reads_the_named_columns_in_order_and_ignores_the_others(tmp_path):
    path = _write(tmp_path, "note,x2,x1,y\nfirst,0.5,1,2.5\nsecond,-1e-3,2,3\n\n\n")   # blank lines at the end: fine
    X = read_columns(path, ["x1", "x2"])
    assert X.dtype == torch.float32 and X.tolist() == [[1.0, 0.5], [2.0, pytest.approx(-1e-3)]]
    assert read_columns(path, ["y"], dtype=torch.float64).tolist() == [[2.5], [3.0]]


def test_a_utf8_byte_order_mark_is_read(tmp_path):
    path = _write(tmp_path, "\ufeffa,b\n1,2\n".encode("utf-8"), mode="wb")
    assert read_columns(path, ["a", "b"]).tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize("text, match", [
    ("a,b\n1,2\n3,\n", r"d\.csv: line 3, column 'b' is empty; give a number"),
    ("a,b\n1,2\n3, \n", r"d\.csv: line 3, column 'b' is empty"),
    ("a,b\n1,abc\n", r"d\.csv: line 2, column 'b' holds 'abc', which is not a number"),
    ("a,b\n1_000,2\n", r"d\.csv: line 2, column 'a' holds '1_000', which is not a number"),   # float() reads 1000
    ("a,b\n1,\uff11\uff12\n", r"d\.csv: line 2, column 'b' holds '\uff11\uff12', which is not a number"),  # 12
    ("a,b\n1,nan\n", r"d\.csv: line 2, column 'b' holds 'nan'; every value must be finite"),
    ("a,b\n-inf,1\n", r"d\.csv: line 2, column 'a' holds '-inf'; every value must be finite"),
    ("a,b\n1e400,1\n", r"d\.csv: line 2, column 'a' holds '1e400'; every value must be finite"),
    ("a,b\n1e39,1\n", r"d\.csv: line 2, column 'a' holds 1e\+39, beyond the range of torch.float32"),
    ("a,b\n1,2\n3\n", r"d\.csv: line 3 has 1 cells but the header has 2 columns"),
    ("a,b\n1,2,3\n", r"d\.csv: line 2 has 3 cells but the header has 2 columns"),
    ("a,b\n1,2\n\n3,4\n", r"d\.csv: line 3 is blank, between data rows"),
    ("a,b\n", r"d\.csv has a header but no data rows"),
    ("", r"d\.csv is empty; expected a header row"),
    ("a,c\n1,2\n", r"d\.csv has no column \['b'\] \(its columns: \['a', 'c'\]\)"),
    ("a,b,b\n1,2,3\n", r"d\.csv: the header \(line 1\) names column 'b' twice"),
    ('a,b\n1,"2\n', r"d\.csv: line \d+ "),
])
def test_bad_cells_are_named_by_line_and_column(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        read_columns(_write(tmp_path, text), ["a", "b"])


@pytest.mark.parametrize("raw, match", [
    ("a,b\n1,2\n".encode("utf-16"), r"d\.csv is UTF-16 text; save it as UTF-8"),
    (b"a,b\n1,2\n\x00\x01", r"d\.csv holds a NUL byte on line 3: it is a binary file"),
    (b"a,b\n1,\xff\n", r"d\.csv: line 2 is not UTF-8 text \(byte 0xff\)"),
])
def test_files_that_are_not_utf8_text_are_named(tmp_path, raw, match):
    with pytest.raises(DataError, match=match):
        read_columns(_write(tmp_path, raw, mode="wb"), ["a", "b"])


def test_a_directory_or_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="is a directory, not a CSV file"):
        read_columns(tmp_path, ["a"])
    with pytest.raises(FileNotFoundError):
        read_columns(tmp_path / "missing.csv", ["a"])
