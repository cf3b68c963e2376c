"""mpnet.checks: each boundary check names the argument, the value got and what is expected."""
import pytest
import torch

from mpnet.checks import (as_tensor, check_bool, check_choice, check_dtype, check_finite, check_float, check_fraction,
                          check_int, check_rows, check_targets, describe)
from mpnet.errors import ArgumentError, DataError, MpnetError


def test_argument_error_is_a_value_error_and_a_type_error_and_an_mpnet_error():
    with pytest.raises(ValueError):
        check_int("3", "n")
    with pytest.raises(TypeError):
        check_int("3", "n")
    assert issubclass(ArgumentError, MpnetError) and issubclass(DataError, MpnetError)


@pytest.mark.parametrize("value, match", [
    (0, r"Expected epochs to be an int >= 1 \(got 0\)"),
    (-1, r"Expected epochs to be an int >= 1 \(got -1\)"),
    (2.0, r"Expected epochs to be an int >= 1 \(got 2\.0\)"),
    (True, r"Expected epochs to be an int >= 1 \(got True\)"),
    ("10", r"Expected epochs to be an int >= 1 \(got '10' \(a str\)\)"),
    (None, r"Expected epochs to be an int >= 1 \(got None\)"),
])
def test_check_int(value, match):
    with pytest.raises(ArgumentError, match=match):
        check_int(value, "epochs", min=1)


def test_check_int_passes_and_normalises():
    assert check_int(3, "n", min=1, max=3) == 3
    assert check_int(None, "n", allow_none=True) is None
    import numpy as np
    assert type(check_int(np.int64(4), "n")) is int
    with pytest.raises(ArgumentError, match=r"an int in \[1, 3\] \(got 4\)"):
        check_int(4, "n", min=1, max=3)
    with pytest.raises(ArgumentError, match=r"an int >= 1 or None"):
        check_int(0, "n", min=1, allow_none=True)


@pytest.mark.parametrize("value, match", [
    (0, r"Expected lr to be a finite number > 0 \(got 0\)"),
    (-0.1, r"\(got -0\.1\)"),
    (float("nan"), r"\(got nan\)"),
    (float("inf"), r"\(got inf\)"),
    ("0.01", r"\(got '0\.01' \(a str\)\)"),
    (True, r"\(got True\)"),
    (10 ** 400, r"got an int of 401 digits"),
])
def test_check_float(value, match):
    with pytest.raises(ArgumentError, match=match):
        check_float(value, "lr", min=0, min_open=True)


def test_check_float_bounds():
    assert check_float(1, "x") == 1.0 and type(check_float(1, "x")) is float
    assert check_float(1.0, "x", max=1) == 1.0
    with pytest.raises(ArgumentError, match=r"a finite number < 1 \(got 1\.0\)"):
        check_float(1.0, "x", max=1, max_open=True)


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan")])
def test_check_fraction_names_the_interval(value):
    with pytest.raises(ArgumentError, match=r"Expected threshold to be a finite number in \[0, 1\]"):
        check_fraction(value, "threshold")
    assert check_fraction(0, "threshold") == 0.0 and check_fraction(1, "threshold") == 1.0


@pytest.mark.parametrize("value", ["false", 0, 1, None])
def test_check_bool_takes_booleans_only(value):
    with pytest.raises(ArgumentError, match=r"Expected fused to be True or False \(got"):
        check_bool(value, "fused")
    assert check_bool(None, "progress", allow_none=True) is None and check_bool(False, "x") is False


def test_check_choice():
    assert check_choice("mse", "loss", ["mse", "bce"]) == "mse"
    with pytest.raises(ArgumentError, match=r'Invalid loss "l7"\. Must be one of \[\'mse\', \'bce\'\]'):
        check_choice("l7", "loss", ["mse", "bce"])
    with pytest.raises(ArgumentError, match=r"Invalid loss \[1\] \(a list\)"):
        check_choice([1], "loss", {"mse": 1})


def test_check_dtype():
    assert check_dtype(torch.float64) is torch.float64
    with pytest.raises(ArgumentError, match=r"got torch.float16\): the sparse products have no half-precision"):
        check_dtype(torch.float16)
    with pytest.raises(ArgumentError, match=r"got torch.int32\): weights must be real floating point"):
        check_dtype(torch.int32)
    with pytest.raises(ArgumentError, match=r"got 'float32' \(a str\)\); use torch.float32"):
        check_dtype("float32")


def test_as_tensor():
    assert as_tensor([[1, 2]], "X").dtype == torch.int64
    assert as_tensor([[1, 2]], "X", dtype=torch.float64).dtype == torch.float64
    with pytest.raises(DataError, match=r"Expected X to be a tensor or an array of numbers \(got \[\['a'\]\]"):
        as_tensor([["a"]], "X")
    with pytest.raises(DataError, match=r"X is torch.float16, which mpnet does not compute in"):
        as_tensor(torch.ones(2, dtype=torch.float16), "X")
    with pytest.raises(DataError, match="Expected Y to hold real numbers"):
        as_tensor(torch.ones(2, dtype=torch.complex64), "Y")


def test_check_finite_names_row_column_topology_file():
    X = torch.zeros(5, 3)
    X[3, 1] = float("nan")
    X[4, 2] = float("inf")
    with pytest.raises(DataError, match=r"^X holds nan at row 3, column 1 \(2 non-finite values in all\)"):
        check_finite(X, "X")
    with pytest.raises(DataError, match=r"^d\.csv: X holds nan at line 9, column 1 \('b'\)"):
        check_finite(X, "X", file="d.csv", columns=["a", "b", "c"], rows=[2, 3, 5, 9, 10])
    B = torch.zeros(2, 4, 3)
    B[1, 2, 0] = float("-inf")
    with pytest.raises(DataError, match=r"X holds -inf at topology 1, row 2, column 0; every value must be finite"):
        check_finite(B, "X")
    with pytest.raises(DataError, match=r"Y holds nan at row 1;"):
        check_finite(torch.tensor([0.0, float("nan")]), "Y")
    assert check_finite(torch.ones(2, 2), "X").shape == (2, 2)
    assert check_finite(torch.ones(2, dtype=torch.long), "Y").dtype == torch.long


def test_check_rows_shapes():
    X = torch.zeros(4, 2)
    n, Y = check_rows(X, torch.zeros(4), n_in=2, n_out=1)
    assert n == 4 and Y.shape == (4, 1)
    n, Y = check_rows(torch.zeros(3, 4, 2), torch.zeros(3, 4), n_in=2, n_out=1, num_graphs=3)
    assert Y.shape == (3, 4, 1)
    assert check_rows(X, torch.zeros(4, dtype=torch.long), n_in=2, n_out=3, class_ids=True)[0] == 4
    with pytest.raises(DataError, match=r"Expected X with 2 column\(s\), one per network input \(got shape \[4, 3\]\)"):
        check_rows(torch.zeros(4, 3), torch.zeros(4, 1), n_in=2, n_out=1)
    with pytest.raises(DataError, match=r"Expected X of shape \[n, 2\] \(got shape \[4\]\)"):
        check_rows(torch.zeros(4), torch.zeros(4, 1), n_in=2, n_out=1)
    with pytest.raises(DataError, match=r"X has no rows \(shape \[0, 2\]\)"):
        check_rows(torch.zeros(0, 2), torch.zeros(0, 1), n_in=2, n_out=1)
    with pytest.raises(DataError, match=r"X has 4 samples but Y has shape \[3, 1\]"):
        check_rows(X, torch.zeros(3, 1), n_in=2, n_out=1)
    with pytest.raises(DataError, match=r"Expected Y with 2 column\(s\), one per network output \(got shape "
                                        r"\[4, 1\]\)"):
        check_rows(X, torch.zeros(4, 1), n_in=2, n_out=2)
    with pytest.raises(DataError, match=r"Expected Y of shape \[4\] \(one class id per sample\) \(got shape "
                                        r"\[4, 1\]\)"):
        check_rows(X, torch.zeros(4, 1, dtype=torch.long), n_in=2, n_out=2, class_ids=True)


def test_check_targets():
    with pytest.raises(DataError, match=r"bce loss takes targets in \[0, 1\].*holds 2\.0 at row 1"):
        check_targets(torch.tensor([[0.0], [2.0]]), "bce", 1)
    with pytest.raises(DataError, match=r"cross_entropy loss needs one output per class, at least 2"):
        check_targets(torch.tensor([0, 1]), "cross_entropy", 1)
    with pytest.raises(DataError, match=r"integer class ids, but Y holds 0\.5 at row 2"):
        check_targets(torch.tensor([0.0, 1.0, 0.5]), "cross_entropy", 2)
    with pytest.raises(DataError, match=r"class ids in \[0, 1\].*holds 5 at row 0"):
        check_targets(torch.tensor([5, 1]), "cross_entropy", 2)
    with pytest.raises(DataError, match=r"holds -1 at row 1"):
        check_targets(torch.tensor([0, -1]), "cross_entropy", 2)
    Y = torch.tensor([0.0, 1.0])
    assert check_targets(Y, "cross_entropy", 2) is Y and check_targets(Y, "mse", 1) is Y


def test_describe_shortens_and_names_types():
    assert describe(3) == "3" and describe("a") == "'a' (a str)"
    assert describe("x" * 100).endswith("... (a str)")


def test_check_int_shortens_a_huge_int_in_its_message():
    with pytest.raises(ArgumentError, match=r"Expected n to be an int <= 3 \(got an int of 401 digits\)"):
        check_int(10 ** 400, "n", max=3)


def test_check_seed_takes_what_torch_generators_take():
    from mpnet.checks import SEED_RANGE, check_seed
    assert check_seed(-1) == -1 and check_seed(2 ** 63 - 1) == 2 ** 63 - 1
    torch.Generator().manual_seed(SEED_RANGE[0]).manual_seed(SEED_RANGE[1])
    for bad in (2 ** 63, 2 ** 70, True, 1.5, "1"):
        with pytest.raises(ArgumentError, match=r"Expected seed to be an int in \[-9223372036854775808, "
                                                r"9223372036854775807\]"):
            check_seed(bad)


def test_check_device_names_a_device_this_torch_lacks():
    from mpnet.checks import check_device
    assert check_device(None) is None and check_device("cpu") == torch.device("cpu")
    with pytest.raises(ArgumentError, match=r"Invalid device 'gpu': Expected one of cpu, cuda"):
        check_device("gpu")
    with pytest.raises(ArgumentError, match=r"Expected device to be a torch.device, a string .* \(got True\)"):
        check_device(True)
    if not torch.cuda.is_available():
        with pytest.raises(ArgumentError, match=r"device='cuda' asks for CUDA, but this torch sees no CUDA device"):
            check_device("cuda")
    else:
        n = torch.cuda.device_count()
        with pytest.raises(ArgumentError, match=rf"asks for CUDA device {n}, but this machine has {n}"):
            check_device(f"cuda:{n}")


def test_check_memory_refuses_more_than_the_machine_has(monkeypatch):
    import mpnet.checks.arguments as arguments
    from mpnet.checks import check_memory
    monkeypatch.setattr(arguments, "physical_memory", lambda: 2 * 10 ** 9)
    check_memory(10 ** 9, "x", "fix")
    with pytest.raises(ArgumentError, match=r"n=5 needs about 3 GB of memory, more than this machine's 2 GB; do less"):
        check_memory(3 * 10 ** 9, "n=5", "do less.")
    monkeypatch.setattr(arguments, "physical_memory", lambda: None)   # unknown: never refused
    check_memory(10 ** 30, "x", "fix")
