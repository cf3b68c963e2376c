"""mpnet.search.runner and checkpoint: the parts are checked before a run; results, files, and kill-and-resume."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from mpnet import Topology
from mpnet.search import (NEAT, Finetune, History, Reporter, check_fit, checkpoint_task, resume, run, tasks)
from mpnet.search.checkpoint import load_checkpoint, save_checkpoint
from mpnet.search.history import Record

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "search.py")


def small_neat(seed=0, n_inputs=2, **settings):
    return NEAT(n_inputs, 1, population=30, seed=seed, add_node_rate=0.2, add_connection_rate=0.3, **settings)


def test_the_runner_checks_the_parts_fit():
    with pytest.raises(ValueError, match="networks have 3 inputs but task 'xor' has 2; build it with n_inputs=2"):
        run(small_neat(n_inputs=3), tasks.XOR(), 1, progress=False)
    with pytest.raises(ValueError, match="have 1 outputs but task 'xor' has 2"):
        check_fit(NEAT(2, 1, population=4), type("T", (tasks.XOR,), {"n_outputs": 2})())
    with pytest.raises(ValueError, match="Task 'pole' has no data to fit, so it cannot be fine-tuned"):
        run(NEAT(4, 1, population=4), tasks.PoleBalancing(), 1, finetune=Finetune(), progress=False)
    with pytest.raises(TypeError, match="not a search algorithm"):
        check_fit(object(), tasks.XOR())
    with pytest.raises(TypeError, match="Expected a search task"):
        check_fit(small_neat(), "xor")


def test_run_returns_result_history_and_csv(tmp_path):
    class Count(Reporter):
        def __init__(self):
            self.calls = []

        def start(self, **kw):
            self.calls.append(("start", kw["first"], kw["generations"]))

        def generation(self, record, history):
            self.calls.append(record.generation)

        def end(self, result):
            self.calls.append("end")

    counter = Count()
    result = run(small_neat(), tasks.XOR(), 4, progress=False, stop_when_solved=False, reporters=[counter])
    assert counter.calls == [("start", 0, 4), 0, 1, 2, 3, "end"]
    h = result.history
    assert len(h) == 4 and result.generations == 4 and result.evaluations == 120
    assert h.column("evaluations") == [30, 60, 90, 120]
    assert h[-1].best_ever == max(h.column("best_fitness")) == result.best.fitness
    assert all(r.t_compile > 0 and r.t_generation >= r.t_compile for r in h)
    path = tmp_path / "xor.csv"
    result.history.to_csv(path)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("generation,evaluations,best_fitness,mean_fitness,best_ever,solved,species")
    assert len(lines) == 5
    result.best.topology.save(tmp_path / "best.json")
    assert Topology.load(tmp_path / "best.json") == result.best.topology


def test_lamarckian_run_solves_xor_and_its_solution_reproduces():
    import mpnet
    result = run(small_neat(seed=1), tasks.XOR(), 60, finetune=Finetune(steps=20, lr=0.05), progress=False)
    assert result.solved and result.evaluations_to_solve == result.evaluations
    assert result.history[-1].solved and result.history[-1].t_finetune > 0
    sol = result.solution
    fitness, solved = tasks.XOR().evaluate(mpnet.Network([sol.topology]))
    assert solved.item() and fitness.item() == pytest.approx(sol.fitness, abs=1e-4)


def test_checkpoint_files_and_refusal_to_overwrite(tmp_path):
    out = tmp_path / "run"
    result = run(small_neat(), tasks.XOR(), 3, checkpoint_dir=out, progress=False, stop_when_solved=False)
    for name in ("checkpoint.json", "history.csv", "best.json", "fitness.png", "best.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "fitness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = json.loads((out / "checkpoint.json").read_text())
    assert state["format"] == "mpnet.search.checkpoint" and state["algorithm"]["generation"] == 3
    assert checkpoint_task(out) == tasks.XOR()
    assert Topology.load(out / "best.json") == result.best.topology
    with pytest.raises(FileExistsError, match="already holds a checkpoint; continue it with search.resume"):
        run(small_neat(), tasks.XOR(), 3, checkpoint_dir=out, progress=False)


def _same_run(a: History, b: History) -> None:
    assert a.to_dicts(timings=False) == b.to_dicts(timings=False)


# with finetune: test_kill_and_resume_from_the_command_line resumes a finetuned run in the default set too
@pytest.mark.parametrize("finetune", [None, pytest.param(Finetune(steps=5, lr=0.05), marks=pytest.mark.slow)])
def test_resume_breeds_the_same_generations_as_an_uninterrupted_run(tmp_path, finetune):
    task = tasks.Parity(bits=3)
    whole = run(small_neat(seed=2, n_inputs=3), task, 6, finetune=finetune, progress=False, stop_when_solved=False)
    out = tmp_path / "run"
    run(small_neat(seed=2, n_inputs=3), task, 3, finetune=finetune, checkpoint_dir=out, progress=False,
        stop_when_solved=False)
    resumed = resume(out, 6, progress=False)
    _same_run(whole.history, resumed.history)
    assert resumed.algorithm.state_dict() == whole.algorithm.state_dict()
    assert resumed.generations == 6 and resumed.evaluations == whole.evaluations


def test_a_write_killed_before_its_rename_leaves_the_last_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, {"generation": 1})
    real_replace = os.replace

    def crash(src, dst):
        raise KeyboardInterrupt("killed between the write and the rename")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, {"generation": 2})
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(list(tmp_path.glob(f"checkpoint.json.{os.getpid()}.*.tmp"))) == 1   # this process's temporary file
    assert load_checkpoint(tmp_path)["generation"] == 1
    (tmp_path / "checkpoint.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="is not a search checkpoint"):
        load_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError, match="No checkpoint in"):
        load_checkpoint(tmp_path / "nowhere")


def _script():
    spec = importlib.util.spec_from_file_location("search_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_kill_and_resume_from_the_command_line(tmp_path, capsys):
    """SIGKILL the script mid-run, resume it from the command line, compare with a run never interrupted."""
    args = ["parity", "--population", "30", "--generations", "10", "--seed", "3", "--finetune", "5",
            "--set", "add_node_rate=0.2", "--no-progress"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, SCRIPT] + args + ["--checkpoint-dir", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            if json.loads((killed / "checkpoint.json").read_text())["algorithm"]["generation"] >= 3:
                break
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.01)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read().decode()[-500:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 3 <= load_checkpoint(killed)["algorithm"]["generation"] < 10
    script, threads = _script(), torch.get_num_threads()
    try:
        assert script.main(["parity", "--resume", str(killed), "--no-progress"]) == 0
        assert "parity-3" in capsys.readouterr().out
        whole = tmp_path / "whole"
        assert script.main(args + ["--checkpoint-dir", str(whole)]) == 0
        assert script.main(["xor", "--resume", str(killed)]) == 2
        assert "holds a 'parity' run, not 'xor'" in capsys.readouterr().err
    finally:
        torch.set_num_threads(threads)
    a, b = load_checkpoint(killed), load_checkpoint(whole)
    _same_run(History.from_dicts(a["history"]), History.from_dicts(b["history"]))
    assert a["algorithm"] == b["algorithm"]


def test_history_round_trip():
    rec = Record(**{name: 0 for name in Record.__dataclass_fields__})
    h = History([rec])
    assert History.from_dicts(h.to_dicts()).to_dicts() == h.to_dicts()
    assert "t_compile" not in h.to_dicts(timings=False)[0]
    assert repr(History()) == "History(generations=0)"
