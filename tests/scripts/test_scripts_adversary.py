"""scripts/adversary.py: every case of the catalogue of bad inputs gets a clear error (slow: about a minute)."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NOT_YET: dict = {}   # groups (or case names) whose fix is still pending: none


@pytest.mark.slow
def test_every_bad_input_of_the_catalogue_gets_a_clear_error():
    spec = importlib.util.spec_from_file_location("adversary", os.path.join(ROOT, "scripts", "adversary.py"))
    adversary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(adversary)
    unclear = []
    try:
        for case in adversary.CASES:
            skip = NOT_YET.get(case.group, set())
            if skip is None or case.name in skip:
                continue
            outcome, kind, message = adversary.judge(case)
            if outcome != adversary.CLEAR:
                unclear.append(f"{outcome}: {case.group} | {case.name} | {kind}: {message[:200]}")
    finally:
        import shutil
        shutil.rmtree(adversary.TMP, ignore_errors=True)
    assert not unclear, "\n".join(unclear)
