"""mpnet.search.checkpoint: the checksum refuses edited files, the counters must agree with the history, and the
run lock keeps a second live run out of a directory (two processes) while a dead run's lock is taken over."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from mpnet.errors import ArgumentError, CheckpointError, RunLockedError
from mpnet.search import NEAT, checkpoint_task, resume, run, tasks
from mpnet.search.checkpoint import LOCK, RunLock, check_state, load_checkpoint, save_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    run(NEAT(2, 1, population=10, seed=0), tasks.XOR(), generations=3, checkpoint_dir=d, progress=False,
        stop_when_solved=False)
    return d


def _copy(saved, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(saved, d)
    return d


def _rewrite(d, edit):
    """Edit the state and write it back with a valid checksum (what a careful hand-editor could do)."""
    state = {k: v for k, v in load_checkpoint(d).items() if k not in ("format", "version", "checksum")}
    edit(state)
    save_checkpoint(d, state)


def test_a_run_leaves_no_lock_and_resumes(saved, tmp_path):
    d = _copy(saved, tmp_path)
    assert not (d / LOCK).exists()
    assert resume(d, 4, progress=False).generations == 4
    assert not (d / LOCK).exists()


@pytest.mark.parametrize("cap", [2, 3])
def test_a_cap_the_run_has_already_reached_is_refused_not_ignored(saved, tmp_path, cap):
    d = _copy(saved, tmp_path)
    with pytest.raises(ArgumentError, match=rf"resume\(.*, {cap}\): the run in it has already bred 3 generations, so a "
                                            rf"cap of {cap} leaves nothing to run; give generations > 3"):
        resume(d, cap, progress=False)
    assert resume(d, 4, progress=False).generations == 4      # nothing was changed by the refusal


@pytest.mark.parametrize("edit", [
    lambda raw: raw.replace(b'"generation": 0', b'"generation": 1', 1),               # a hand edit, valid JSON
    lambda raw: raw[:200] + bytes([raw[200] ^ 1]) + raw[201:],                         # one bit flipped
])
def test_an_edited_or_flipped_checkpoint_fails_its_checksum(saved, tmp_path, edit):
    d = _copy(saved, tmp_path)
    path = d / "checkpoint.json"
    path.write_bytes(edit(path.read_bytes()))
    with pytest.raises(CheckpointError, match=r"checkpoint\.json (fails its checksum: it was edited or damaged|is not "
                                              r"valid JSON|is not UTF-8)"):
        resume(d, 4, progress=False)


def test_whitespace_does_not_matter_and_version_1_reads_without_checksum(saved, tmp_path):
    d = _copy(saved, tmp_path)
    path = d / "checkpoint.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps(data, indent=3))
    assert load_checkpoint(d) == data
    del data["checksum"]
    data["version"] = 1
    path.write_text(json.dumps(data))
    assert resume(d, 4, progress=False).generations == 4   # a checkpoint of an older mpnet still resumes


@pytest.mark.parametrize("edit, match", [
    (lambda s: s["history"].pop(), r"the algorithm's generation counter is 3 but the history holds 2 generations"),
    (lambda s: s["algorithm"].update(generation=7), r"the algorithm.s generation counter is 7 but the history holds 3"),
    (lambda s: s["history"][2].update(evaluations=99), r"history\[2\] counts 99 evaluations; with 10 networks per "
                                                       r"generation it must be 30"),
    (lambda s: s["history"][1].update(generation=5), r"history\[1\] records generation 5"),
    (lambda s: s["history"][0].pop("solved"), r"history\[0\] is not a generation record"),
    (lambda s: s.pop("task"), r"the field 'task' is missing"),
    (lambda s: s.update(wall="fast"), r"the field 'wall' is a str; expected int or float"),
    (lambda s: s.update(generations=True), r"the field 'generations' is a bool; expected int"),
    (lambda s: s["algorithm"].update(population=[]), r"the algorithm's population is \[\]"),
    (lambda s: s.update(evaluations_to_solve=30), r"'solution' and 'evaluations_to_solve' must be both set"),
    (lambda s: s["algorithm"].pop("rng"), r"the saved run cannot be restored \(missing field 'rng'\)"),
    (lambda s: s["task"].update(name="chess"), r"the saved run cannot be restored"),
])
def test_counters_and_fields_that_disagree_are_refused(saved, tmp_path, edit, match):
    d = _copy(saved, tmp_path)
    _rewrite(d, edit)
    with pytest.raises(CheckpointError, match=r"checkpoint\.json: " + match):
        resume(d, 4, progress=False)


def _genome(s, i=0):
    return s["algorithm"]["population"][i]


@pytest.mark.parametrize("edit, match", [
    (lambda s: _genome(s)["conns"][0].__setitem__(0, 99), r"population\[0\]: Genome \d+: connection \(99, 2\) names "
                                                          r"a neuron the genome lacks"),
    (lambda s: _genome(s, 1)["conns"][0].__setitem__(1, 77), r"population\[1\]: Genome \d+: connection \(0, 77\)"),
    (lambda s: _genome(s)["conns"].append([2, 2, 99, 0.5, True, None]), r"population\[0\]: Genome \d+: connection "
     r"\(2, 2\) is a self-loop; the config says feed_forward=True, which allows neither"),
    (lambda s: s["algorithm"]["config"].update(population=50), r"the config's population is 50 but the checkpoint "
                                                               r"holds 10 genomes"),
    (lambda s: _genome(s).update(n_inputs=3), r"population\[0\] \(genome \d+\) has 3 inputs and 1 outputs; the "
                                              r"run's networks have 2 and 1"),
    (lambda s: _genome(s)["conns"][0].__setitem__(2, 12345),
     r"population\[0\] \(genome \d+\): connection \(0, 2\) has innovation number 12345 but the run's table gives 0"),
    (lambda s: _genome(s)["nodes"][2].__setitem__(1, "nosuch"), r"population\[0\] \(genome \d+\) makes no valid "
                                                                r"network: Node 'y0' has activation 'nosuch'"),
    (lambda s: s["algorithm"]["species"][0]["members"].append(12345), r"the species' members .* are not the "
                                                                      r"population's genome keys"),
    (lambda s: s["algorithm"]["species"][0]["representative"]["conns"][0].__setitem__(0, 99),
     r"species \d+'s representative: Genome \d+: connection \(99, 2\)"),
    (lambda s: s["algorithm"].update(n_inputs=3), r"population\[0\] \(genome \d+\) has 2 inputs"),
    (lambda s: s["task"].update(name="parity", bits=3), r"the saved run cannot be restored \(ValueError: The "
                                                        r"algorithm's networks have 2 inputs but task 'parity' has 3"),
])
def test_genomes_that_disagree_with_the_run_are_refused_on_resume(saved, tmp_path, edit, match):
    """A checkpoint that passes its checksum (written back by a careful editor, or by a buggy algorithm) but whose
    genomes disagree with its config, its innovation table, its species or its task: named before any generation
    runs, not a bare KeyError in the middle of one or a run resumed on a state no run could reach."""
    d = _copy(saved, tmp_path)
    _rewrite(d, edit)
    with pytest.raises(CheckpointError, match=r"checkpoint\.json: " + match):
        resume(d, 4, progress=False)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "checkpoint.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match=r"checkpoint\.json is not a search checkpoint \(format 'list'"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text('{"format": "mpnet.search.checkpoint", "version": 9}')
    with pytest.raises(CheckpointError, match=r"has checkpoint version 9; this mpnet reads 1 and 2"):
        checkpoint_task(tmp_path)
    (tmp_path / "checkpoint.json").write_bytes(b"\x00\x01\x02")
    with pytest.raises(CheckpointError, match=r"checkpoint\.json is a binary file"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="the field 'algorithm' is missing"):
        check_state({}, "x/checkpoint.json")


# ------------------------------------------------------------------------------------------------- lock
# The second process imports only the lock's module (pure Python): the packages above it are stubbed so that it
# starts in a fraction of a second instead of importing torch.
HOLDER = textwrap.dedent("""
    import os, sys, time, types
    for name in ("mpnet", "mpnet.search"):
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(os.getcwd(), *name.split("."))]
        sys.modules[name] = package
    from mpnet.search.checkpoint import RunLock
    lock = RunLock(sys.argv[1]).acquire()
    print("locked", flush=True)
    time.sleep(600)
""")


def _holder(directory):
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT)
    assert child.stdout.readline().strip() == "locked"
    return child


def test_a_second_process_is_refused_while_the_first_lives_and_takes_over_once_it_is_killed(tmp_path):
    child = _holder(tmp_path)
    try:
        with pytest.raises(RunLockedError, match=rf"is in use: process {child.pid} on this machine holds its lock "
                                                 rf"since .*Wait for that run to finish or stop it\."):
            RunLock(tmp_path).acquire()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    with RunLock(tmp_path) as lock:          # the killed run's lock is stale: taken over
        holder = json.loads((tmp_path / LOCK).read_text())
        assert holder["pid"] == os.getpid() and holder["token"] == lock.token
    assert not (tmp_path / LOCK).exists()     # released on exit
    assert [p.name for p in tmp_path.iterdir()] == []   # no temporary or stale file left behind


def test_a_killed_but_unreaped_process_counts_as_dead(tmp_path):
    child = _holder(tmp_path)
    child.send_signal(signal.SIGKILL)
    time.sleep(0.5)                            # a zombie until wait(): os.kill(pid, 0) still succeeds
    try:
        with RunLock(tmp_path):
            pass
    finally:
        child.wait()


def test_resume_is_refused_while_another_process_runs_in_the_directory(saved, tmp_path):
    d = _copy(saved, tmp_path)
    child = _holder(d)
    try:
        with pytest.raises(RunLockedError, match=rf"process {child.pid}"):
            resume(d, 4, progress=False)
        with pytest.raises(RunLockedError, match=rf"process {child.pid}"):
            run(NEAT(2, 1, population=10), tasks.XOR(), 2, checkpoint_dir=d, progress=False)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert resume(d, 4, progress=False).generations == 4


def test_a_lock_from_another_host_or_unreadable(tmp_path):
    (tmp_path / LOCK).write_text(json.dumps({"pid": 1, "host": "elsewhere", "since": "then", "token": "t"}))
    with pytest.raises(RunLockedError, match=rf"process 1 on host 'elsewhere'.*if it is no longer running, delete "
                                             rf".*{LOCK}"):
        RunLock(tmp_path).acquire()
    (tmp_path / LOCK).write_text("garbage")   # not written by a RunLock: stale
    with RunLock(tmp_path):
        pass
    (tmp_path / LOCK).write_text(json.dumps({"pid": 2 ** 22 + 12345, "host": socket.gethostname()}))   # no such pid
    with RunLock(tmp_path):
        pass


def test_a_number_beyond_the_float_range_fails_the_checksum_too(saved, tmp_path):
    d = _copy(saved, tmp_path)
    path = d / "checkpoint.json"
    path.write_text(path.read_text().replace('"wall": ', '"wall": 1e999, "x": ', 1))
    with pytest.raises(CheckpointError, match=r"checkpoint\.json fails its checksum"):
        load_checkpoint(d)
