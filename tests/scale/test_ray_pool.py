"""mpnet.scale.ray_pool: chunks handed out as workers free up, in order back, shared values stored once, dead workers
replaced by the others; classes from modules the workers cannot import travel by value."""
import os

import pytest

ray = pytest.importorskip("ray")

from mpnet.scale.ray_pool import RayPool, by_value  # noqa: E402


def test_settings_are_checked_before_ray_starts():
    class Nothing:
        pass
    with pytest.raises(ValueError, match="num_workers to be an int >= 1"):
        RayPool(Nothing, 0)
    with pytest.raises(ValueError, match="max_restarts to be an int >= 0"):
        RayPool(Nothing, 1, max_restarts=-1)


def test_workers_reserve_their_gpus_and_retry_as_asked(monkeypatch):
    seen = {}

    def remote(**options):
        seen.update(options)
        return lambda cls: Handle

    class Actor:
        def __init__(self, args):
            self.args = args
            self.__ray_ready__ = type("Method", (), {"remote": lambda: object()})

    class Handle:
        remote = staticmethod(lambda *args: Actor(args))
    monkeypatch.setattr(ray, "remote", remote)
    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    pool = RayPool(object, 3, args=(1, 2), cpus_per_worker=2, gpus_per_worker=0.5, max_restarts=4)
    assert seen == dict(num_cpus=2, num_gpus=0.5, max_restarts=4, max_task_retries=4)
    assert [w.args for w in pool.workers] == [(1, 2)] * 3 and len(pool._starting) == 3


@pytest.mark.slow
def test_by_value_ships_a_class_the_workers_cannot_import(ray_cluster, foreign_module):
    name = foreign_module.__name__

    @ray.remote
    def importable():
        import importlib.util
        return importlib.util.find_spec(name) is not None

    @ray.remote
    def loads(blob):
        from ray import cloudpickle
        task = cloudpickle.loads(blob)
        return type(task).__name__, task.name, task.bits
    assert ray.get(importable.remote()) is False                 # by reference it could not arrive
    assert ray.get(loads.remote(by_value(foreign_module.HalfXOR()))) == ("HalfXOR", "halfxor", 2)



@pytest.mark.slow
def test_map_hands_out_chunks_and_returns_them_in_order(ray_cluster, foreign_module):
    with RayPool(foreign_module.Echo, 2) as pool:
        assert pool.wait_started() == 2
        ref = pool.put(list(range(1000)))                       # stored once, resolved for every chunk
        out = pool.map("work", [(i,) for i in range(7)], shared=(ref,))
        assert [item for _, item, _ in out] == list(range(7))
        assert all(shared == list(range(1000)) for shared, _, _ in out)
        assert sorted(c for c, _ in pool.last_assignments) == list(range(7))
        assert os.getpid() not in {pid for _, _, pid in out}


@pytest.mark.slow
def test_a_worker_dead_for_good_hands_its_chunk_to_another(ray_cluster, foreign_module, tmp_path):
    with RayPool(foreign_module.Echo, 2, max_restarts=0) as pool:
        chunks = [(0,), (1,), (("die", str(tmp_path / "a")),), (3,), (4,)]
        out = pool.map("work", chunks, shared=("s",))
        assert [item for _, item, _ in out] == [c[0] for c in chunks]
        assert (tmp_path / "a").exists() and len(pool.dead) == 1
        survivor = {pid for _, _, pid in out[3:]}
        assert out[2][2] in survivor                            # the dead worker's chunk, done by the other
        with pytest.raises(RuntimeError, match="All 2 Ray workers died and their restarts are spent; 1 chunks"):
            pool.map("work", [(("die", str(tmp_path / "b")),)], shared=("s",))


@pytest.mark.slow
def test_workers_the_cluster_has_no_room_for_are_named_not_waited_for(ray_cluster, foreign_module):
    with RayPool(foreign_module.Echo, 1, cpus_per_worker=1, gpus_per_worker=64, start_timeout=2) as pool:
        with pytest.raises(RuntimeError, match="No Ray worker started within 2 s. Each asks for 1 CPU and 64 GPU"):
            pool.map("work", [(1,)], shared=("s",))
