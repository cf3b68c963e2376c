"""read_columns(..., missing=...): recordings where an empty cell or NaN marks a sample not recorded; header()."""
import math

import pytest
import torch

from mpnet.errors import DataError
from mpnet.io.csvdata import header, read_columns


def test_missing_values_are_nan_in_the_columns_that_allow_them_only(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x, b1 ,y\n1,,2\n2,NaN,3\n3,0.5,nan\n")
    assert header(path) == ["x", "b1", "y"]
    got = read_columns(path, ["b1", "x"], dtype=torch.float64, missing=["b1"])
    assert math.isnan(got[0, 0]) and math.isnan(got[1, 0]) and got[2].tolist() == [0.5, 3.0]
    with pytest.raises(DataError, match=r"d\.csv: line 4, column 'y' holds 'nan'; every value must be finite"):
        read_columns(path, ["y"], missing=["b1"])
    with pytest.raises(DataError, match=r"d\.csv: line 2, column 'b1' is empty"):
        read_columns(path, ["b1"])


def test_an_infinite_recording_is_still_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,b1\n1,\n2,inf\n")
    with pytest.raises(DataError, match=r"d\.csv: line 3, column 'b1' holds 'inf'; every value must be finite"):
        read_columns(path, ["b1"], missing=["b1"])


def test_header_of_an_empty_file_is_named(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"d\.csv is empty; expected a header row"):
        header(path)
