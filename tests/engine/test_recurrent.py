"""mpnet.engine.recurrent: the fused recurrent steps (discrete and ctrnn) against neat-python, the float64 references
and the plain autograd path; gradcheck through time; batches, state continuation, shapes and errors."""
import math
import random

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.autograd import gradcheck

import mpnet
from mpnet import Network, Topology
from mpnet.errors import ArgumentError, DataError, MismatchError
from mpnet.engine.recurrent import RecurrentState, ctrnn_schedule, discrete_schedule, run_steps
from mpnet.testing import random_topology, reference_ctrnn, reference_recurrent
from mpnet.graph.topology import ACTIVATIONS, AGGREGATIONS

from recurrent_genomes import N_IN, close, make_config, neat, random_genomes, random_sequence

SMOOTH = [a for a in ACTIVATIONS if a not in ("relu", "leaky_relu", "abs", "clamped", "neat.relu", "neat.lelu",
                                               "neat.abs", "neat.clamped", "neat.hat", "neat.inv", "neat.log")]
F64 = torch.float64


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return make_config(tmp_path_factory.mktemp("neat"))


def timing(kind, advance_time=0.1, time_step=0.03):
    """The Network keywords of a ctrnn (none for a discrete network)."""
    return dict(advance_time=advance_time, time_step=time_step) if kind == "ctrnn" else {}


def state_from(net, values, previous=None, time=0.0):
    """A RecurrentState from per-topology, per-sample ``{node: value}`` dicts (rows named by net.rows)."""
    def tensor(vals):
        return torch.tensor([[vals[t][b].get(node, 0.0) for b in range(len(vals[t]))] for t, node in net.rows],
                            dtype=F64)
    return RecurrentState(tensor(values), None if previous is None else tensor(previous), time)


def node_values(net, h):
    """``[{node: value}]`` per (topology, sample) of a state tensor ``[num_nodes, batch]``."""
    out = {}
    for row, (t, node) in enumerate(net.rows):
        for b in range(h.shape[1]):
            out.setdefault((t, b), {})[node] = h[row, b].item()
    return out


def sequences(n, steps, seed, scale=2.0):
    rng = random.Random(seed)
    return [random_sequence(rng, steps, scale=scale) for _ in range(n)]


def as_input(seqs):
    """``[batch][steps][n_in]`` lists -> ``[steps, batch, n_in]``."""
    return torch.tensor(seqs, dtype=F64).transpose(0, 1)


# ----------------------------------------------------------------------------------- against neat-python
def test_batched_network_steps_like_neat_on_hundreds_of_genomes(config):
    """300 genomes in one Network, 3 samples each; every step started from neat's own state (no round-off
    carried over), every node of every network compared at 1e-9."""
    genomes = random_genomes(config, 300, seed=11)
    topos = [Topology.from_neat_genome(g, config, warn=False) for g in genomes]
    net = Network(topos, dtype=F64)
    nets = [[neat.nn.RecurrentNetwork.create(g, config) for _ in range(3)] for g in genomes]
    seqs = sequences(3, 6, seed=0)
    alive = [[True] * 3 for _ in genomes]
    compared = 0
    for step in range(6):
        before = [[dict(n.values[n.active]) for n in row] for row in nets]
        x = torch.tensor([s[step] for s in seqs], dtype=F64).unsqueeze(0)     # [1, 3, n_in]
        with torch.no_grad():
            out, after = net(x, state_from(net, before), return_state=True)
        got = node_values(net, after.h)
        for t, row in enumerate(nets):
            for b, n in enumerate(row):
                if not alive[t][b]:
                    continue
                try:
                    want = n.activate(seqs[b][step])
                except OverflowError:   # neat's z ** 3 raising where a float overflows
                    alive[t][b] = False
                    continue
                assert all(close(w, o, 1e-9) for w, o in zip(want, out[t, 0, b].tolist()))
                for node, w in n.values[n.active].items():
                    assert close(w, got[(t, b)][node], 1e-9), (genomes[t].key, node, w, got[(t, b)][node])
                    compared += 1
    assert compared > 40000


@pytest.mark.parametrize("advance_time, time_step", [(0.1, 0.03), (0.2, 0.07)])
def test_batched_ctrnn_advances_like_neat(config, advance_time, time_step):
    genomes = random_genomes(config, 120, seed=12)
    topos = [Topology.from_neat_genome(g, config, warn=False, network_type="ctrnn") for g in genomes]
    net = Network(topos, dtype=F64, advance_time=advance_time, time_step=time_step)
    nets = [neat.ctrnn.CTRNN.create(g, config) for g in genomes]
    seq = sequences(1, 4, seed=1)[0]
    alive = [True] * len(nets)
    compared = 0
    for x in seq:
        now = [[dict(n.values[n.active])] for n in nets]
        older = [[dict(n.values[1 - n.active])] for n in nets]
        with torch.no_grad():
            out, after = net(torch.tensor([[x]], dtype=F64), state_from(net, now, older, nets[0].time_seconds),
                             return_state=True)
        got, got_older = node_values(net, after.h), node_values(net, after.previous)
        for t, n in enumerate(nets):
            if not alive[t]:
                continue
            try:
                want = n.advance(x, advance_time, time_step)
            except OverflowError:
                alive[t] = False
                continue
            assert all(close(w, o, 1e-9) for w, o in zip(want, out[t, 0, 0].tolist()))
            for node, w in n.values[n.active].items():
                assert close(w, got[(t, 0)][node], 1e-9)
                assert close(n.values[1 - n.active][node], got_older[(t, 0)][node], 1e-9)
                compared += 2
        assert after.time == nets[0].time_seconds
    assert compared > 4000


# ------------------------------------------------------------------------------- against the references
def assert_matches_reference(topos, seqs, kind, fused=True, advance_time=0.1, time_step=0.03, tol=1e-10):
    net = Network(topos, dtype=F64, fused=fused, **timing(kind, advance_time, time_step))
    with torch.no_grad():
        got = net(as_input(seqs))                                  # [T, steps, batch, n_out]
    for t, topo in enumerate(topos):
        for b, seq in enumerate(seqs):
            if kind == "ctrnn":
                want, _ = reference_ctrnn(topo, seq, advance_time, time_step)
            else:
                want, _ = reference_recurrent(topo, seq)
            want = torch.tensor(want, dtype=F64)
            torch.testing.assert_close(got[t, :, b], want, rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("kind", [True, "ctrnn"])
@pytest.mark.parametrize("fused", [True, False])
def test_random_recurrent_topologies_match_the_reference(kind, fused):
    topos = [random_topology(s, n_hidden=s % 6 + 1, p_edge=0.3, p_response=0.3, recurrent=kind, max_weight=0.6)
             for s in range(40)]
    assert_matches_reference(topos, sequences(3, 5, seed=2, scale=1.0), kind, fused)


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_every_aggregation_and_activation_through_time(aggregation):
    topos = [random_topology(3, n_hidden=5, p_edge=0.4, activations=[a], aggregations=[aggregation],
                             p_response=0.4, recurrent=True, max_weight=0.6) for a in ACTIVATIONS]
    assert_matches_reference(topos, sequences(2, 4, seed=3, scale=1.0), True)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n_hidden=st.integers(0, 10), p_edge=st.floats(0.05, 0.6),
       batch=st.integers(1, 4), steps=st.integers(0, 5), kind=st.sampled_from([True, "ctrnn"]))
def test_property_random_recurrent_graphs_match_the_reference(seed, n_hidden, p_edge, batch, steps, kind):
    topo = random_topology(seed, n_hidden=n_hidden, p_edge=p_edge, p_response=0.3, recurrent=kind, max_weight=0.6)
    rng = random.Random(seed)
    seqs = [random_sequence(rng, steps, scale=1.0) for _ in range(batch)]
    net = Network(topo, dtype=F64, **timing(kind, 0.05, 0.02))
    with torch.no_grad():
        got = net(torch.tensor(seqs, dtype=F64).reshape(batch, steps, N_IN).transpose(0, 1))
    assert got.shape == (steps, batch, 2)
    for b, seq in enumerate(seqs):
        want = (reference_ctrnn(topo, seq, 0.05, 0.02)[0] if kind == "ctrnn" else reference_recurrent(topo, seq)[0])
        torch.testing.assert_close(got[:, b], torch.tensor(want, dtype=F64).reshape(steps, 2), rtol=1e-10,
                                   atol=1e-10, equal_nan=True)


def test_hand_computed_accumulator_and_delay():
    topo = Topology.from_edges([("x", "h", 1.0), ("h", "h", 1.0), ("h", "y", 1.0), ("x", "y", 10.0)],
                               inputs=["x"], outputs=["y"], activation="identity", recurrent=True)
    net = Network(topo, dtype=F64)
    x = torch.arange(1.0, 5.0, dtype=F64).view(4, 1, 1)
    assert net(x).flatten().tolist() == [10.0, 21.0, 33.0, 46.0]


# ------------------------------------------------------------------------- batches, state, fused vs plain
@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_a_batch_of_topologies_equals_each_alone(kind):
    topos = [random_topology(s, n_hidden=s % 5 + 2, p_edge=0.35, p_response=0.3, recurrent=kind, max_weight=0.6)
             for s in range(12)]
    x = torch.randn(len(topos), 6, 4, N_IN, dtype=F64, generator=torch.Generator().manual_seed(0))
    batched = Network(topos, dtype=F64, seed=3, **timing(kind, 0.1, 0.04))
    with torch.no_grad():
        together = batched(x)                                   # per-topology inputs [T, steps, batch, n_in]
        shared = batched(x[0])                                  # one input for every topology
    for t in range(len(topos)):
        net = Network(batched.topology(t), dtype=F64, **timing(kind, 0.1, 0.04))   # its weights, alone
        with torch.no_grad():
            torch.testing.assert_close(together[t], net(x[t]), rtol=0, atol=1e-13)
            torch.testing.assert_close(shared[t], net(x[0]), rtol=0, atol=1e-13)


@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_continuing_from_the_returned_state_equals_one_long_run(kind):
    topos = [random_topology(s, n_hidden=4, p_edge=0.4, recurrent=kind, max_weight=0.6) for s in range(5)]
    net = Network(topos, dtype=F64, **timing(kind, 0.1, 0.03))   # 0.1 / 0.03: the clock does not divide
    x = torch.randn(9, 3, N_IN, dtype=F64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole, end = net(x, return_state=True)
        parts, state = [], None
        for a, b in ((0, 2), (2, 3), (3, 3), (3, 9)):
            out, state = net(x[a:b], state, return_state=True)
            parts.append(out)
    assert torch.equal(torch.cat(parts, dim=1), whole)
    assert torch.equal(state.h, end.h) and state.time == end.time
    if kind == "ctrnn":
        assert torch.equal(state.previous, end.previous) and end.time == pytest.approx(0.9)
    # reset: no state is neat's reset(); every neuron starts at 0 again
    with torch.no_grad():
        assert torch.equal(net(x[:2]), whole[:, :2])


def test_a_bare_tensor_state_and_a_ctrnn_state_without_previous():
    topo = random_topology(1, n_hidden=4, p_edge=0.4, recurrent="ctrnn", max_weight=0.6)
    net = Network(topo, dtype=F64, advance_time=0.1, time_step=0.05)
    x = torch.randn(3, 2, N_IN, dtype=F64)
    h = torch.randn(net.plan.num_nodes, 2, dtype=F64)
    with torch.no_grad():   # neat's set_node_value: both buffers take the value
        assert torch.equal(net(x, h), net(x, RecurrentState(h, h.clone(), 0.0)))
    rnn = Network(random_topology(1, n_hidden=4, p_edge=0.4, recurrent=True), dtype=F64)
    with torch.no_grad():
        assert torch.equal(rnn(x, h), rnn(x, RecurrentState(h)))


def test_the_pass_without_gradient_equals_the_one_with():
    for kind in (True, "ctrnn"):
        topo = random_topology(5, n_hidden=6, p_edge=0.4, recurrent=kind, max_weight=0.6, p_response=0.3)
        net = Network(topo, dtype=F64)
        sched = discrete_schedule(7) if kind is True else ctrnn_schedule(7, 0.1, 0.03)
        x = torch.randn(7, net.plan.num_inputs, 3, dtype=F64)
        init = [torch.randn(net.plan.num_nodes - net.plan.num_inputs, 3, dtype=F64) for _ in range(sched.lag)]
        from mpnet.engine.recurrent_sweep import _coefficients, _Steps
        coef = _coefficients(sched, net._tau, _Steps.get(net.plan, net.weight), F64) if kind == "ctrnn" else None
        with torch.no_grad():
            H, _, _, kept = run_steps(net.conv, net.plan, sched, x, net.weight, net.bias, init, coef, keep=True)
            R, _, _, ring = run_steps(net.conv, net.plan, sched, x, net.weight, net.bias, init, coef, keep=False)
        assert torch.equal(kept, ring)
        S, L = sched.num_steps, sched.lag
        for i in range(L):
            assert torch.equal(H[S + i], R[(S + i) % (L + 1)])


@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_fused_and_plain_paths_agree_on_values_and_gradients(kind):
    for seed in range(6):
        topo = random_topology(seed, n_hidden=5, p_edge=0.35, activations=SMOOTH, p_response=0.3, recurrent=kind,
                               max_weight=0.6)
        nets = [Network(topo, dtype=F64, seed=0, fused=f, **timing(kind, 0.3, 0.1)) for f in (True, False)]
        x = torch.randn(5, 3, N_IN, dtype=F64, requires_grad=True, generator=torch.Generator().manual_seed(seed))
        h0 = torch.randn(nets[0].plan.num_nodes, 3, dtype=F64, requires_grad=True)
        grads = []
        for net in nets:
            out, state = net(x, h0, return_state=True)
            loss = (out * torch.linspace(-1, 1, out.numel(), dtype=F64).view_as(out)).sum() + state.h.square().sum()
            grads.append((out.detach(), *torch.autograd.grad(loss, [x, h0, net.raw_weight,
                                                                    net.bias])))
        for a, b in zip(*grads):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("kind", [True, "ctrnn"])
@pytest.mark.parametrize("seed", [0, 1, *(pytest.param(s, marks=pytest.mark.slow) for s in (2, 3))])
def test_gradcheck_through_time(kind, seed):
    """The fused backward through time (CSR transpose, SDDMM, per-aggregation local graphs, the ctrnn blend)
    against finite differences: inputs, weights, biases and the initial state slots."""
    topo = random_topology(seed, n_hidden=5, p_edge=0.35, activations=SMOOTH, p_response=0.3, recurrent=kind,
                           max_weight=0.6)
    net = Network(topo, dtype=F64, seed=0)
    sched = discrete_schedule(4) if kind is True else ctrnn_schedule(3, 0.2, 0.1)
    plan = net.plan
    x = torch.randn(len(sched.out_slots), plan.num_inputs, 2, dtype=F64, requires_grad=True)
    w = net.weight.detach().clone().requires_grad_()
    b = net.bias.detach().clone().requires_grad_()
    init = [torch.randn(plan.num_nodes - plan.num_inputs, 2, dtype=F64, requires_grad=True)
            for _ in range(sched.lag)]

    def f(x, w, b, *init):
        out, final = net.conv.forward(x, plan, w, b, sched, init, net._tau)
        return (out, *final)
    assert gradcheck(f, (x, w, b, *init), fast_mode=seed > 0)   # fast mode: random projections of the Jacobian


def test_weight_gradient_groups_of_steps_give_the_same_sum():
    from mpnet.engine.recurrent_grad import _weight_grad
    from mpnet.engine.recurrent_sweep import _Steps
    topo = random_topology(2, n_hidden=8, p_edge=0.4, aggregations=["sum", "mean"], recurrent=True)
    net = Network(topo, dtype=F64)
    steps = _Steps.get(net.plan, net.weight)
    dZ = torch.randn(7, net.plan.num_nodes - net.plan.num_inputs, 3, dtype=F64)
    H = torch.randn(8, net.plan.num_nodes, 3, dtype=F64)
    want = sum(torch.sparse.sampled_addmm(steps.pattern, dZ[s], H[s].t(), beta=0.0).values() for s in range(7))
    for chunk in (1, 3, 6, 512):
        torch.testing.assert_close(_weight_grad(steps, dZ, H, 1, chunk=chunk), want)


# -------------------------------------------------------------------------------- Network face and errors
def test_shapes_states_and_repr():
    topos = [random_topology(s, n_hidden=3, p_edge=0.4, recurrent=True) for s in range(3)]
    net = Network(topos)
    assert net(torch.randn(5, 2, N_IN)).shape == (3, 5, 2, 2)
    assert net(torch.randn(3, 5, 2, N_IN)).shape == (3, 5, 2, 2)
    single = Network(topos[0], dtype=F64)
    assert single(torch.randn(5, 2, N_IN, dtype=F64)).shape == (5, 2, 2)
    assert repr(single) == (f"Network(graphs=1, nodes={topos[0].num_nodes}, edges={topos[0].num_edges}, "
                            f"recurrent, fused=True)")
    x = torch.randn(4, 2, N_IN, dtype=F64)
    z, h = single.states(x)
    assert z.shape == h.shape == (4, single.plan.num_nodes, 2)
    out_rows = single.plan.out_rows.view(-1)
    torch.testing.assert_close(h[:, out_rows].transpose(1, 2), single(x))
    torch.testing.assert_close(h[:, :N_IN], x.transpose(1, 2))
    ref = [reference_recurrent(topos[0], x[:, b].tolist())[1] for b in range(2)]
    for row, (_, node) in enumerate(single.rows):
        if node not in topos[0].inputs:
            assert [h[-1, row, b].item() for b in range(2)] == pytest.approx([r[node] for r in ref], abs=1e-12)


def test_sequence_training_lowers_the_loss():
    # learn to output the running sum of the input: y(t) = h(t - 1) + x(t) with h the self-looped sum
    topo = Topology.from_edges([("x", "h"), ("h", "h"), ("h", "y"), ("x", "y")], inputs=["x"], outputs=["y"],
                               activation="identity", recurrent=True)
    X = torch.randn(64, 6, 1, generator=torch.Generator().manual_seed(0))
    Y = X.cumsum(1)
    net = Network(topo, seed=0)
    history = mpnet.fit(net, X, Y, epochs=300, lr=0.05)
    assert history[-1] < 1e-3 * history[0]
    assert net.topology().edges[("h", "h")].weight == pytest.approx(1.0, abs=0.05)


def test_errors_name_the_problem():
    rec = random_topology(0, n_hidden=3, recurrent=True)
    dag = random_topology(0, n_hidden=3)
    with pytest.raises(MismatchError, match=r"mix network types \['feedforward', 'recurrent'\]"):
        Network([rec, dag])
    net = Network(rec)
    with pytest.raises(DataError, match=r"shape \[steps, batch, 3\] \(got \[4, 3\]\).*add a steps axis"):
        net(torch.randn(4, 3))
    with pytest.raises(DataError, match=r"shape \[steps, batch, 3\] \(got \[2, 4, 5\]\)"):
        net(torch.randn(2, 4, 5))
    with pytest.raises(ArgumentError, match=r"input x to be a torch.Tensor of shape \[steps, batch, 3\] \(got a list\)"):
        net([[[0.0, 0.0, 0.0]]])
    with pytest.raises(ArgumentError, match=r"Expected input of dtype torch.float32 \(got torch.float64\)"):
        net(torch.randn(2, 4, 3, dtype=torch.float64))
    with pytest.raises(ArgumentError, match="are for recurrent networks; this one is feed-forward"):
        Network(dag)(torch.randn(4, 3), return_state=True)
    with pytest.raises(ArgumentError, match="advance_time and time_step are for ctrnn networks"):
        net(torch.randn(2, 4, 3), advance_time=0.1)
    with pytest.raises(ArgumentError, match=r"Expected state.h of shape \[\d+, 4\]"):
        net(torch.randn(2, 4, 3), torch.zeros(3, 4))
    with pytest.raises(ArgumentError, match="Expected state to be a RecurrentState"):
        net(torch.randn(2, 4, 3), [1.0])
    with pytest.raises(ArgumentError, match="advance_time and time_step are for ctrnn topologies.*these are recurrent"):
        Network(rec, advance_time=0.1, time_step=0.01)
    with pytest.raises(ArgumentError, match=r"Expected batch to be an int >= 1 \(got 0\)"):
        net.stepper(0)
    ctrnn_topo = random_topology(0, n_hidden=3, recurrent="ctrnn")
    ctrnn = Network(ctrnn_topo)
    with pytest.raises(ArgumentError, match="stepper\\(\\) steps a discrete-time recurrent network; this one is ctrnn"):
        ctrnn.stepper()
    with pytest.raises(ArgumentError, match="needs advance_time and time_step"):
        ctrnn(torch.randn(2, 4, 3))
    with pytest.raises(ArgumentError, match=r"Expected time_step to be a finite number > 0.0 \(got 0.0\)"):
        ctrnn(torch.randn(2, 4, 3), advance_time=0.1, time_step=0.0)
    with pytest.raises(ArgumentError, match=r"Expected advance_time to be a finite number >= 0.0 \(got nan\)"):
        ctrnn(torch.randn(2, 4, 3), advance_time=math.nan, time_step=0.1)
    # checked at construction too, before any input comes
    with pytest.raises(ArgumentError, match=r"Expected time_step to be a finite number > 0.0 \(got -0.1\)"):
        Network(ctrnn_topo, advance_time=1.0, time_step=-0.1)
    with pytest.raises(ArgumentError, match=r"Expected advance_time to be a finite number >= 0.0 \(got '1' \(a str\)\)"):
        Network(ctrnn_topo, advance_time="1", time_step=0.1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_in_place_activation_forms_equal_the_plain_ones(dtype):
    """The fused paths' in-place forms (functional.ACTIVATE_INTO / BACKWARD_INTO) against the plain
    function and its closed-form derivative, far outside the clamps too."""
    from mpnet.engine.functional import ACTIVATE_INTO, ACTIVATION_FNS, BACKWARD_INTO
    z = torch.cat([torch.linspace(-30, 30, 2001, dtype=dtype), torch.tensor([-1e4, -100.0, 100.0, 1e4], dtype=dtype)])
    g = torch.randn_like(z)
    for name, into in ACTIVATE_INTO.items():
        out = torch.empty_like(z)
        into(z, out)
        assert torch.equal(out, ACTIVATION_FNS[name].fn(z)), name
    for name, into in BACKWARD_INTO.items():
        h = ACTIVATION_FNS[name].fn(z)
        out = torch.empty_like(z)
        into(g, z, h, out)
        torch.testing.assert_close(out, g * ACTIVATION_FNS[name].grad(z, h), msg=name)
        in_place = g.clone()                 # the fused feed-forward backward writes into g itself
        into(in_place, z, h, in_place)
        torch.testing.assert_close(in_place, out, msg=f"{name} with out=g")


def test_stepper_equals_the_network_step_by_step():
    topos = [random_topology(s, n_hidden=4, p_edge=0.4, p_response=0.3, recurrent=True, max_weight=0.6)
             for s in range(8)]
    net = Network(topos, dtype=F64)
    x = torch.randn(len(topos), 6, 3, N_IN, dtype=F64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        want = net(x)                                                     # [T, steps, batch, n_out]
    stepper = net.stepper(3)
    for s in range(6):
        rows = x[:, s].permute(0, 2, 1).reshape(-1, 3)                    # [T * n_in, batch]
        got = stepper.step(rows).view(len(topos), 2, 3).transpose(1, 2)   # [T, batch, n_out]
        torch.testing.assert_close(got, want[:, s], rtol=1e-12, atol=1e-12)
    stepper.reset()
    assert not stepper.h.any()
    with pytest.raises(TypeError, match="stepper\\(\\) steps a discrete-time recurrent network; this one is ctrnn"):
        Network(random_topology(0, recurrent="ctrnn")).stepper()


# ------------------------------------------------------------------------------------- save and load
@pytest.mark.parametrize("kind", [True, "ctrnn"])
@pytest.mark.parametrize("batched", [False, True])
def test_save_load_and_pickle_keep_type_time_constants_and_clock(kind, batched, tmp_path):
    import copy
    import pickle
    topos = [random_topology(s, n_hidden=4, p_edge=0.4, recurrent=kind, p_response=0.3) for s in range(3)]
    times = {"advance_time": 0.3, "time_step": 0.07} if kind == "ctrnn" else {}
    net = Network(topos if batched else topos[0], seed=1, dtype=torch.float64, **times)
    with torch.no_grad():
        net.raw_weight.add_(0.01)
    net.save(tmp_path / "rec.mpnet")
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    for back in (Network.load(tmp_path / "rec.mpnet"), pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert back.network_type == net.network_type and (back.advance_time, back.time_step) == \
            (net.advance_time, net.time_step)
        assert [n.time_constant for t in back.topologies for n in t.nodes.values()] == \
            [n.time_constant for t in net.topologies for n in t.nodes.values()]
        assert torch.equal(back.raw_weight, net.raw_weight) and torch.equal(back.bias, net.bias)
        assert torch.equal(back(x), net(x))   # the clock came back: no advance_time needed per call
    assert back.to_topology() == net.to_topology()


def test_load_refuses_a_bad_ctrnn_clock(tmp_path):
    from mpnet.errors import FormatError
    from mpnet.model.persist import network_from_payload, network_payload
    net = Network(random_topology(0, n_hidden=3, recurrent="ctrnn"), advance_time=0.2, time_step=0.05)
    payload = network_payload(net, cpu=True)
    assert (payload["advance_time"], payload["time_step"]) == (0.2, 0.05)
    with pytest.raises(FormatError, match=r"saved.mpnet: the field 'time_step' is '0.05'; expected a number or null"):
        network_from_payload({**payload, "time_step": "0.05"}, where="saved.mpnet")
    with pytest.raises(FormatError, match=r"saved.mpnet: Expected time_step to be a finite number > 0.0 \(got -1.0\)"):
        network_from_payload({**payload, "time_step": -1.0}, where="saved.mpnet")
    with pytest.raises(FormatError, match=r"saved.mpnet: advance_time and time_step are for ctrnn topologies"):
        network_from_payload({**network_payload(Network(random_topology(0, n_hidden=3, recurrent=True)), cpu=True),
                              "time_step": 0.1}, where="saved.mpnet")


# ------------------------------------------------------------------ arrays, read-back and thread policy
@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_read_back_rebuilds_the_same_recurrent_network(kind):
    # Network builds through ArrayTopology (depth 1 for every non-input row, cycles kept); reading the numbers
    # back per topology must give topologies that compute what the network does
    topos = [random_topology(s, n_hidden=5, p_edge=0.4, recurrent=kind, p_response=0.3) for s in range(3)]
    net = Network(topos, seed=2, dtype=F64, **timing(kind))
    assert net.arrays.network_type == net.network_type == ("ctrnn" if kind == "ctrnn" else "recurrent")
    with torch.no_grad():
        net.raw_weight.mul_(1.5)
        net.bias.add_(0.25)
    w, b = net.numbers()                     # declaration order: topology after topology
    assert w.numel() == sum(t.num_edges for t in topos) and b.numel() == sum(t.num_nodes for t in topos)
    back = net.to_topology()
    assert [t.network_type for t in back] == [t.network_type for t in topos]
    assert back[1] == net.topology(1)
    keys = [(s, d) for t in topos for s, d in t.edges]
    assert dict(zip(keys[topos[0].num_edges:topos[0].num_edges + topos[1].num_edges],
                    w[topos[0].num_edges:topos[0].num_edges + topos[1].num_edges].tolist())) == \
        {k: e.weight for k, e in back[1].edges.items()}
    x = torch.randn(6, 4, N_IN, dtype=F64)
    again = Network(back, dtype=F64, **timing(kind))
    torch.testing.assert_close(again(x), net(x), rtol=0, atol=1e-12)
    with pytest.raises(MismatchError, match="mix network types"):
        Network([topos[0], random_topology(0, n_hidden=2)])


def test_recurrent_passes_follow_the_thread_policy_and_restore_the_setting():
    from mpnet import threads
    topo = random_topology(3, n_hidden=6, p_edge=0.4, recurrent=True)
    net = Network(topo)
    user = torch.get_num_threads()
    previous = threads.set_threads(user + 1)   # a count unlike the user's, so the test sees the policy act
    try:
        seen = []
        net.conv.forward = (lambda f: lambda *a: (seen.append(torch.get_num_threads()), f(*a))[1])(net.conv.forward)
        x = torch.randn(7, 3, N_IN, requires_grad=True)
        net(x).sum().backward()              # the backward runs under the size rule too
        assert seen == [user + 1] and torch.get_num_threads() == user
        assert ("steps", 3, 7) in net._tuners and x.grad is not None
    finally:
        threads.set_threads(previous)
