"""threads: the per-pass policy picks by size, restores the user's setting, and can be overridden."""
import pytest
import torch

import mpnet
from mpnet import threads
from mpnet.testing import random_topology


@pytest.fixture
def restore_policy():
    before = threads.get_threads()
    yield
    threads.set_threads(before)


def test_auto_uses_one_thread_below_the_grain(restore_policy):
    threads.set_threads("auto")
    assert threads.threads_for(threads.GRAIN - 1, available=8) == 1
    assert threads.threads_for(3 * threads.GRAIN, available=8) == 3
    assert threads.threads_for(100 * threads.GRAIN, available=8) == 8
    threads.set_threads("torch")
    assert threads.threads_for(10, available=8) == 8
    threads.set_threads(2)
    assert threads.threads_for(10, available=8) == 2


def test_bad_policy_is_a_clear_error(restore_policy):
    with pytest.raises(ValueError, match=r"Expected a thread policy 'auto', 'torch' or an int >= 1 \(got 0\)"):
        threads.set_threads(0)
    assert threads.set_threads("3") == "auto" and threads.get_threads() == 3


def test_a_pass_sets_its_threads_and_restores_the_users(restore_policy, monkeypatch):
    calls = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real(n)))
    user = torch.get_num_threads()
    net = mpnet.Network(random_topology(0, n_hidden=6))
    x = torch.randn(8, 3)
    threads.set_threads(user + 1)
    y_more = net(x)
    y_more.sum().backward()
    assert calls == [user + 1, user, user + 1, user] and torch.get_num_threads() == user   # forward, backward
    calls.clear()
    threads.set_threads(user)
    torch.testing.assert_close(net(x), y_more)
    assert calls == []                                                  # nothing to change: no call


def test_the_users_setting_comes_back_after_an_error(restore_policy):
    user = torch.get_num_threads()
    threads.set_threads(user + 1)
    with pytest.raises(RuntimeError, match="boom"):
        with threads.PassThreads(1.0):
            assert torch.get_num_threads() == user + 1
            raise RuntimeError("boom")
    assert torch.get_num_threads() == user


def test_tuner_runs_the_faster_count_and_keeps_checking_the_other():
    tuner, seconds = threads.Tuner(), {1: 2.0, 4: 1.0}
    picks = []
    for _ in range(40):
        n = tuner.choose(4)
        picks.append(n)
        tuner.record(n, seconds[n])
    assert picks[:5] == [1, 1, 1, 4, 4]                   # warm-up, then two samples of each
    assert picks[5:].count(4) > 30 and 1 in picks[16:]    # the faster runs; one thread is retried
    seconds[1] = 0.5                                      # the machine got busy: threads now lose
    for _ in range(120):
        n = tuner.choose(4)
        tuner.record(n, seconds[n])
    assert [tuner.choose(4) for _ in range(10)].count(1) >= 9


def test_big_passes_are_timed_small_ones_are_not(restore_policy, monkeypatch):
    threads.set_threads("auto")
    monkeypatch.setattr(threads, "GRAIN", 1)              # every pass is big enough for threads
    user = torch.get_num_threads()
    torch.set_num_threads(2)                              # the tests otherwise run on one thread
    tuner = threads.Tuner()
    try:
        with threads.PassThreads(10.0, tuner):
            pass
    finally:
        torch.set_num_threads(user)
    assert tuner.count == 1
    monkeypatch.setattr(threads, "GRAIN", 10**12)         # no pass is
    with threads.PassThreads(10.0, tuner) as chosen:
        assert chosen.want == 1
    assert tuner.count == 1
