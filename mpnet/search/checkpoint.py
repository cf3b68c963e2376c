"""Checkpoints of a search run: one JSON file, written atomically, with a checksum, and a lock on the run
directory (search stage; no pickle anywhere).

The file holds the algorithm's whole state (genomes, species, innovations, the RNG's state), the task, the
fine-tuning settings and the history. Every number in it is a Python float or int, and JSON writes floats
as their shortest exact repr, so loading gives back the very same state: a resumed run breeds the same next
generation as a run never interrupted. Weights are a few floats per connection gene, so they live in the
same file; one file means one atomic rename, and a run killed at any moment leaves the previous checkpoint
or the new one, never a mix.

Integrity: the file carries ``checksum``, the SHA-256 of its state in a canonical form (sorted keys, no
spaces), so a hand-edited or bit-flipped checkpoint is refused, and the counters are checked against the
history (generation counter = number of records, records numbered 0, 1, ..., evaluations growing by one
population per generation). A version-1 file (before checksums) is read without the checksum test.

Lock: :class:`RunLock` (taken by :func:`mpnet.search.run` and :func:`mpnet.search.resume` for the run's
directory) writes ``checkpoint.lock`` naming its process; a second run on the same directory is refused while
that process lives, and a lock left by a killed process is detected (the process is gone, a zombie, or its
pid now belongs to another process) and taken over.
"""
import hashlib
import json
import os
import socket
import time
import uuid
from typing import Any, Dict, Mapping, Optional, Union

from ..errors import CheckpointError, RunLockedError
from ..io.jsonfile import read_json
from .history import Record, atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "check_state", "RunLock", "CHECKPOINT", "LOCK", "FORMAT", "VERSION"]

CHECKPOINT = "checkpoint.json"
LOCK = "checkpoint.lock"
FORMAT = "mpnet.search.checkpoint"
VERSION = 2
_HEAD = ("format", "version", "checksum")

PathLike = Union[str, "os.PathLike[str]"]


def _checksum(state: Mapping[str, Any]) -> str:
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def save_checkpoint(directory: PathLike, state: Mapping[str, Any]) -> str:
    """Write ``state`` to ``directory/checkpoint.json`` atomically, with its checksum; return the path.

    Args:
        directory: the run's checkpoint directory (created if missing).
        state: the run's state; JSON-serialisable, every number finite.

    Returns:
        The path of the checkpoint file.

    Raises:
        ValueError: ``state`` holds a NaN or an infinity.
        TypeError: ``state`` holds a value JSON cannot write.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(os.fspath(directory), CHECKPOINT)
    plain = json.loads(json.dumps(dict(state), allow_nan=False))   # as it will read back (str keys, lists)
    atomic_write(path, json.dumps({"format": FORMAT, "version": VERSION, "checksum": _checksum(plain), **plain},
                                  allow_nan=False))
    return path


def load_checkpoint(directory: PathLike) -> Dict[str, Any]:
    """Read the state written by :func:`save_checkpoint` (a leftover ``.tmp`` of a killed write is ignored).

    Args:
        directory: the run's checkpoint directory.

    Returns:
        The file's content: the state, with its ``format``, ``version`` and ``checksum`` keys.

    Raises:
        FileNotFoundError: no checkpoint in ``directory``.
        CheckpointError: the file is not a search checkpoint, of another version, or fails its checksum (edited
            or damaged since it was written); the message names the file. (:func:`check_state`, which
            :func:`mpnet.search.resume` calls, checks a run's fields and counters.)
    """
    path = os.path.join(os.fspath(directory), CHECKPOINT)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No checkpoint in {os.fspath(directory)!r} (expected {CHECKPOINT}); start a run "
                                f"with checkpoint_dir={os.fspath(directory)!r} first.")
    data = read_json(path, CheckpointError)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(f"{path} is not a search checkpoint (format {got!r}, expected {FORMAT!r}).")
    version = data.get("version")
    if version not in (1, VERSION) or isinstance(version, bool):
        raise CheckpointError(f"{path} has checkpoint version {version!r}; this mpnet reads 1 and {VERSION}.")
    state = {k: v for k, v in data.items() if k not in _HEAD}
    if version >= 2 or "checksum" in data:
        try:
            checksum = _checksum(state)
        except ValueError:   # NaN or a number beyond the float range: never written by save_checkpoint
            checksum = None
        if checksum is None or data.get("checksum") != checksum:
            raise CheckpointError(f"{path} fails its checksum: it was edited or damaged after it was written, so it "
                                  f"cannot be trusted to resume the run exactly. Restore it from a copy, or start "
                                  f"a new run.")
    return data


_TYPES = {"algorithm": (dict,), "task": (dict,), "finetune": (dict, type(None)), "generations": (int,),
          "stop_when_solved": (bool,), "history": (list,), "solution": (dict, type(None)),
          "evaluations_to_solve": (int, type(None)), "wall": (int, float)}


def check_state(state: Mapping[str, Any], path: str) -> None:
    """Check the fields a run's checkpoint holds (written by :func:`mpnet.search.run`) and that its counters
    agree with its history.

    Args:
        state: the state :func:`load_checkpoint` read.
        path: the file it came from, named in every message.

    Raises:
        CheckpointError: naming ``path`` and the field.
    """
    for key, kinds in _TYPES.items():
        if key not in state:
            raise CheckpointError(f"{path}: the field {key!r} is missing.")
        value = state[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise CheckpointError(f"{path}: the field {key!r} is a {type(value).__name__}; expected "
                                  f"{' or '.join(k.__name__ for k in kinds)}.")
    fields = {f for f in Record.__dataclass_fields__}
    history = state["history"]
    for i, row in enumerate(history):
        if not isinstance(row, dict) or set(row) != fields:
            raise CheckpointError(f"{path}: history[{i}] is not a generation record (expected the keys "
                                  f"{sorted(fields)}).")
        if row["generation"] != i:
            raise CheckpointError(f"{path}: history[{i}] records generation {row['generation']!r}; the history must "
                                  f"list generations 0, 1, 2, ... in order.")
    algorithm = state["algorithm"]
    counter = algorithm.get("generation")
    if counter != len(history):
        raise CheckpointError(f"{path}: the algorithm's generation counter is {counter!r} but the history holds "
                              f"{len(history)} generations; they must agree.")
    population = algorithm.get("population")
    if algorithm.get("algorithm") == "NEAT-arrays":           # bred on arrays: the genome keys of its columns
        population = algorithm.get("pool", {}).get("key") if isinstance(algorithm.get("pool"), dict) else None
    if not isinstance(population, list) or not population:
        raise CheckpointError(f"{path}: the algorithm's population is {population!r:.40}; expected a non-empty list "
                              f"of genomes.")
    evaluations = [row["evaluations"] for row in history]
    if history:
        step = evaluations[0]
        for i in range(len(history)):
            want = step * (i + 1)
            if not isinstance(evaluations[i], int) or evaluations[i] != want or step < 1:
                raise CheckpointError(f"{path}: history[{i}] counts {evaluations[i]!r} evaluations; with "
                                      f"{step} networks per generation it must be {want}.")
    solved = [i for i, row in enumerate(history) if row["solved"]]
    to_solve = state["evaluations_to_solve"]
    if (state["solution"] is None) != (to_solve is None):
        raise CheckpointError(f"{path}: 'solution' and 'evaluations_to_solve' must be both set or both null.")
    if to_solve is not None and (not solved or to_solve != evaluations[solved[0]]):
        raise CheckpointError(f"{path}: evaluations_to_solve is {to_solve} but the history's first solving "
                              f"generation counts {evaluations[solved[0]] if solved else 'none'}.")
    if not (state["wall"] >= 0 and state["wall"] < float("inf")):
        raise CheckpointError(f"{path}: the field 'wall' is {state['wall']!r}; expected seconds >= 0.")
    if state["generations"] < 1:
        raise CheckpointError(f"{path}: the field 'generations' is {state['generations']}; expected >= 1.")


# --------------------------------------------------------------------------------------------- lock
def _start_time(pid: int) -> Optional[str]:
    """The process's start time in clock ticks since boot (Linux), to tell it from a later process that
    reuses its pid; None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]   # field 22; the command name may hold spaces and ')'


def _alive(pid: int, started: Optional[str]) -> bool:
    """Whether the process that wrote the lock still runs (not gone, not a zombie, not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # it exists, under another user
        pass
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":   # killed, not yet reaped
                return False
    except OSError:
        pass
    now = _start_time(pid)
    return started is None or now is None or now == started


class RunLock:
    """A lock on a run directory, held by one live process (a context manager).

    Args:
        directory: the run's checkpoint directory (created if missing).

    Raises:
        RunLockedError: on entering, while another live process holds the directory; the message names the
            process, its host and when it took the lock, and the lock file to delete if that process is
            known to be dead on another host.
    """

    def __init__(self, directory: PathLike) -> None:
        self.directory = os.fspath(directory)
        self.path = os.path.join(self.directory, LOCK)
        self.token = uuid.uuid4().hex
        self.held = False

    def _content(self) -> Dict[str, Any]:
        return {"pid": os.getpid(), "host": socket.gethostname(), "started": _start_time(os.getpid()),
                "since": time.strftime("%Y-%m-%d %H:%M:%S"), "token": self.token}

    def acquire(self) -> "RunLock":
        """Take the lock (taking over a stale one left by a dead process).

        Returns:
            This lock, now held.

        Raises:
            RunLockedError: another live process holds it; the message names that process.
        """
        os.makedirs(self.directory, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.{self.token}"
        with open(tmp, "w") as f:
            json.dump(self._content(), f)
        try:
            for _ in range(20):
                try:
                    os.link(tmp, self.path)   # atomic: creates the lock, complete, only if there is none
                    self.held = True
                    return self
                except FileExistsError:
                    pass
                holder = self._holder()
                if holder is not None and holder.get("token") != self.token and self._holder_lives(holder):
                    raise RunLockedError(self._refusal(holder))
                self._take_over()
            raise RunLockedError(f"Could not take the lock {self.path}: other processes keep racing for it.")
        finally:
            os.remove(tmp)

    def _holder(self) -> Optional[Dict[str, Any]]:
        try:
            with open(self.path) as f:
                holder = json.load(f)
            return holder if isinstance(holder, dict) else None
        except FileNotFoundError:
            return {}          # released meanwhile: try again
        except (OSError, ValueError):
            return None        # unreadable: not written by a RunLock (os.link writes it whole): stale

    @staticmethod
    def _holder_lives(holder: Dict[str, Any]) -> bool:
        if not holder:
            return False
        pid = holder.get("pid")
        if not isinstance(pid, int) or isinstance(pid, bool):
            return False
        if holder.get("host") != socket.gethostname():
            return True        # another machine: we cannot tell, so we do not take it
        return _alive(pid, holder.get("started"))

    def _refusal(self, holder: Dict[str, Any]) -> str:
        pid, host, since = holder.get("pid"), holder.get("host"), holder.get("since")
        here = holder.get("host") == socket.gethostname()
        return (f"{self.directory} is in use: process {pid} on {'this machine' if here else f'host {host!r}'} holds "
                f"its lock since {since}. Wait for that run to finish or stop it"
                + ("." if here else f"; if it is no longer running, delete {self.path}."))

    def _take_over(self) -> None:
        """Move a stale lock aside (atomically: of several processes racing, one moves it) and drop it."""
        aside = f"{self.path}.stale.{os.getpid()}.{self.token}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            with open(aside) as f:
                holder = json.load(f)
        except (OSError, ValueError):
            holder = None
        if isinstance(holder, dict) and holder and self._holder_lives(holder):   # it came back to life: a race
            os.rename(aside, self.path)
            raise RunLockedError(self._refusal(holder))
        os.remove(aside)

    def release(self) -> None:
        """Give the lock up (removing the lock file if it is still this lock's); nothing if not held."""
        if not self.held:
            return
        self.held = False
        holder = self._holder()
        if holder and holder.get("token") == self.token:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
