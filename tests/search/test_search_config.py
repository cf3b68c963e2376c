"""NEATConfig: every field's type and range is checked by name; --set key=value is read as the field's type."""
import importlib.util
import os

import pytest

from mpnet.errors import ArgumentError
from mpnet.search import NEAT, NEATConfig, run, tasks

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("field, value, match", [
    ("population", 1.5, r"Expected population to be an int >= 2 \(got 1\.5\)"),
    ("population", True, r"Expected population to be an int >= 2 \(got True\)"),
    ("seed", "0", r"Expected seed to be an int \(got '0' \(a str\)\)"),
    ("weight_max", "8", r"Expected weight_max to be a finite number > 0 \(got '8' \(a str\)\)"),
    ("weight_max", float("inf"), r"Expected weight_max to be a finite number > 0 \(got inf\)"),
    ("add_node_rate", float("nan"), r"Expected add_node_rate to be a finite number in \[0, 1\] \(got nan\)"),
    ("survival_threshold", 2, r"Expected survival_threshold to be a finite number in \[0, 1\] \(got 2\)"),
    ("structural_exclusive", "no", r"Expected structural_exclusive to be True or False \(got 'no' \(a str\)\)"),
    ("stagnation", 1.5, r"Expected stagnation to be an int >= 1 \(got 1\.5\)"),
    ("add_connection_tries", 0, r"Expected add_connection_tries to be an int >= 1 \(got 0\)"),
    ("elitism_min_size", -1, r"Expected elitism_min_size to be an int >= 0 \(got -1\)"),
    ("normalize_min_genes", 0, r"Expected normalize_min_genes to be an int >= 1 or None \(got 0\)"),
    ("target_species", 0, r"Expected target_species to be an int >= 1 or None \(got 0\)"),
    ("weight_coefficient", -0.1, r"Expected weight_coefficient to be a finite number >= 0 \(got -0\.1\)"),
    ("activation_options", "sin", r"Expected activation_options to be a list or tuple of activation names \(got "
                                  r"'sin', a str\)"),
    ("activation_options", ("sin", 5), r'Invalid activation "5" in activation_options'),
    ("activation_gain", {"sigmoid": -1}, r"Expected activation_gain\['sigmoid'\] to be a finite number > 0"),
    ("activation_gain", [1], r"Expected activation_gain to be a mapping"),
])
def test_every_field_is_checked_by_name(field, value, match):
    with pytest.raises(ArgumentError, match=match):
        NEATConfig(**{field: value})


def test_from_dict_refuses_unknown_fields():
    assert NEATConfig.from_dict(NEATConfig().to_dict()) == NEATConfig()
    with pytest.raises(ArgumentError, match=r"Unknown NEATConfig fields \['populaton'\]"):
        NEATConfig.from_dict({"populaton": 3})


@pytest.mark.parametrize("item, want", [
    ("add_node_rate=0.2", ("add_node_rate", 0.2)),
    ("population = 40", ("population", 40)),
    ("hidden_activation=sin", ("hidden_activation", "sin")),
    ("structural_exclusive=False", ("structural_exclusive", False)),
    ("target_species=none", ("target_species", None)),
    ("normalize_min_genes=20", ("normalize_min_genes", 20)),
    ("activation_options=sin,tanh", ("activation_options", ("sin", "tanh"))),
    ("activation_gain=sigmoid:4.9,sin:1", ("activation_gain", {"sigmoid": 4.9, "sin": 1.0})),
])
def test_parse_override_reads_the_field_type(item, want):
    assert NEATConfig.parse_override(item) == want


@pytest.mark.parametrize("item, match", [
    ("add_node_rate=abc", r"--set add_node_rate: expected a number \(got 'abc'\)"),
    ("population=2.5", r"--set population: expected an int \(got '2\.5'\)"),
    ("structural_exclusive=maybe", r"--set structural_exclusive: expected true or false \(got 'maybe'\)"),
    ("target_species=x", r"--set target_species: expected an int or none \(got 'x'\)"),
    ("activation_gain=sigmoid", r"--set activation_gain: expected activation:gain pairs"),
    ("bogus=1", r"Unknown NEATConfig field 'bogus' in 'bogus=1'"),
    ("add_node_rate", r"Expected KEY=VALUE, a NEATConfig field and its value \(got 'add_node_rate'\)"),
])
def test_parse_override_names_the_field_and_the_text(item, match):
    with pytest.raises(ArgumentError, match=match):
        NEATConfig.parse_override(item)


@pytest.mark.parametrize("value", [0, -1, 2.5, None])
def test_run_checks_generations(value):
    with pytest.raises(ArgumentError, match=rf"Expected generations to be an int >= 1 \(got {value}\)"):
        run(NEAT(2, 1, population=4), tasks.XOR(), generations=value, progress=False)


def _script():
    spec = importlib.util.spec_from_file_location("search_script", os.path.join(ROOT, "scripts", "search.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("item, match", [("add_node_rate=abc", "--set add_node_rate: expected a number"),
                                         ("population=0", "Expected population to be an int >= 2 \\(got 0\\)"),
                                         ("weight_max=nan", "Expected weight_max to be a finite number > 0")])
def test_the_script_refuses_bad_settings_before_running(capsys, item, match):
    with pytest.raises(SystemExit) as info:
        _script().main(["xor", "--generations", "1", "--no-progress", "--set", item])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    import re
    assert re.search(match, err), err
