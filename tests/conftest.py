"""Test-wide settings."""
import torch

# The tests run thousands of tiny ops; with several threads on a small, busy machine each op pays for
# thread wake-ups (measured here: test_propagate 11 s with one thread, about 60 s with two under load).
torch.set_num_threads(1)


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray for every Ray test of the session (starting one takes ~10 s here), with 8 logical CPUs so
    that the tests' 1-CPU workers (up to 5 at once) all fit on a 2-core machine; shut down at the end."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="session")
def foreign_module(tmp_path_factory, ray_cluster):
    """A module of user classes that this process imports and Ray workers cannot (it is on this process's
    sys.path only, added after Ray started): what it defines must travel by value."""
    import importlib
    import sys
    directory = tmp_path_factory.mktemp("user_code")
    name = f"user_code_{directory.name.replace('-', '_')}"
    (directory / f"{name}.py").write_text(FOREIGN_SOURCE)
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(directory))


FOREIGN_SOURCE = '''"""User code for the Ray tests."""
import os
import signal
import time
from dataclasses import dataclass

from mpnet.search import tasks


@dataclass(frozen=True)
class HalfXOR(tasks.XOR):
    """A task of the user's own: XOR's fitness halved, so a worker that ran plain XOR would show."""
    name = "halfxor"

    def evaluate(self, net, generation=0):
        fitness, solved = super().evaluate(net, generation)
        return fitness / 2, solved


@dataclass(frozen=True)
class DieOnce(tasks.XOR):
    """XOR, but the first worker to evaluate generation ``die_at`` kills its own process (SIGKILL)."""
    marker: str = ""
    die_at: int = 1

    def evaluate(self, net, generation=0):
        if generation == self.die_at and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().evaluate(net, generation)


@dataclass(frozen=True)
class SlowOnce(tasks.XOR):
    """XOR, but the first chunk evaluated anywhere takes ``seconds`` longer."""
    marker: str = ""
    seconds: float = 3.0

    def evaluate(self, net, generation=0):
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            time.sleep(self.seconds)
        return super().evaluate(net, generation)


class Echo:
    """A bare worker class for RayPool: returns what it is given, with its pid. ``("die", path)`` kills the
    worker (SIGKILL) the first time it is seen (``path`` marks that it happened)."""

    def work(self, shared, item):
        if isinstance(item, tuple) and item[0] == "die" and not os.path.exists(item[1]):
            open(item[1], "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return shared, item, os.getpid()
'''
