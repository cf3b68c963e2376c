"""fit(..., observed=...): recordings of hidden neurons fitted next to the outputs, each with its own noise."""
import pytest
import torch

import mpnet
from mpnet import examples
from mpnet.model.recorded import Recordings, recording_twin


def teacher_data(n=400, seed=0):
    """The question's data and its teacher's activations of b1 and a1 (float64, noise-free recordings)."""
    X, Y = examples.question_task(n, seed=seed)
    teacher = mpnet.Network(examples.question_teacher(), dtype=torch.float64)
    _, H = teacher.states(X)
    return X, Y, {v: H[teacher.rows.index((0, v))].clone() for v in ("a1", "b1")}


def activation(net, X, v):
    _, H = net.states(X)
    return H[net.rows.index((0, v))].detach()


def test_the_twin_keeps_the_function_and_shows_the_recorded_activation():
    topo = examples.question_teacher()
    twin = recording_twin(topo, ["b1"])
    X, Y, rec = teacher_data(50)
    out = mpnet.Network(twin, dtype=torch.float64)(X).detach()
    assert twin.outputs == ("b1", "y") and topo.outputs == ("y",)
    assert torch.allclose(out[:, 1:], mpnet.Network(topo, dtype=torch.float64)(X).detach())
    assert torch.allclose(out[:, 0], rec["b1"])


def test_a_recorded_neuron_follows_its_recording():
    X, Y, rec = teacher_data()
    fits = {}
    for observed in (None, {"b1": rec["b1"]}):
        net = mpnet.Network(examples.question_network(), dtype=torch.float64, seed=0)
        mpnet.fit(net, X, Y, observed=observed, epochs=300, lr=0.02, progress=False)
        fits[observed is None] = float(((activation(net, X, "b1") - rec["b1"]) ** 2).mean())
    # from the same start, the recording pulls b1 onto the teacher's b1 (measured: 0.007 vs 0.13 without)
    assert fits[False] < 0.2 * fits[True] and fits[False] < 0.1 * float(rec["b1"].var())


def loss_by_hand(net, X, Y, observed, weight):
    """The loss of fit with recordings, written out: every target value and every recorded value (NaN: not
    recorded) counted once, a recorded value's squared error times its weight."""
    with torch.no_grad():
        total, count = ((net(X) - Y) ** 2).sum(), Y.numel()
    for v, r in observed.items():
        seen = ~torch.isnan(r)
        total = total + weight[v] * ((activation(net, X, v) - r)[seen] ** 2).sum()
        count += int(seen.sum())
    return float(total / count)


def test_the_loss_counts_recorded_samples_only_each_weighed_by_its_noise():
    X, Y, rec = teacher_data(200)
    observed = {"a1": rec["a1"] + 0.3, "b1": rec["b1"].clone()}
    observed["b1"][::3] = float("nan")                 # a third of b1 not recorded
    observed["a1"][5] = float("nan")
    net = mpnet.Network(examples.question_network(), dtype=torch.float64, seed=1)
    history = mpnet.fit(net, X, Y, observed=observed, epochs=1, lr=1e-12, optimizer="sgd", progress=False)
    assert float(history[0]) == pytest.approx(loss_by_hand(net, X, Y, observed, {"a1": 1.0, "b1": 1.0}), rel=1e-6)
    # given noises: each recording weighs noise_std^2 / its variance against an output value
    history = mpnet.fit(net, X, Y, observed=observed, observed_noise={"a1": 0.2}, noise_std=0.1, epochs=1,
                        lr=1e-12, optimizer="sgd", progress=False)
    assert float(history[0]) == pytest.approx(loss_by_hand(net, X, Y, observed, {"a1": 0.25, "b1": 1.0}), rel=1e-6)


def test_gradient_of_the_loss_with_recordings_float64():
    X, Y, rec = teacher_data(30)
    observed = {"a1": rec["a1"] + 0.1, "b1": rec["b1"].clone()}
    observed["b1"][::2] = float("nan")
    net = mpnet.Network(examples.question_teacher(), dtype=torch.float64)
    recordings = Recordings(net, ["a1", "b1"], torch.stack([observed["a1"], observed["b1"]], 1), [2.0, 0.5])
    names = ("raw_weight", "bias")
    start = tuple(getattr(net, n).detach().clone().requires_grad_() for n in names)
    assert torch.autograd.gradcheck(lambda w, b: _loss_with(recordings, {"raw_weight": w, "bias": b}, X, Y), start)


def _loss_with(recordings, params, X, Y):
    """``recordings.loss`` with the network's parameters replaced by ``params`` (for gradcheck)."""
    net = recordings.run.net
    saved = {n: getattr(net, n) for n in params}
    try:
        for n, p in params.items():
            net._parameters[n] = p
        return recordings.loss(X, Y)
    finally:
        for n, p in saved.items():
            net._parameters[n] = p


def test_a_batch_fits_each_topology_to_its_own_recording():
    X, Y, rec = teacher_data(200)
    net = mpnet.Network([examples.question_network()] * 2, dtype=torch.float64, seed=0)
    values = torch.stack([rec["b1"], 2 * rec["b1"]])
    history = mpnet.fit(net, X, Y, observed={"b1": values}, epochs=1, lr=1e-12, optimizer="sgd", progress=False)
    for t in range(2):
        one = mpnet.Network(net.topology(t), dtype=torch.float64)
        assert float(history[0, t]) == pytest.approx(loss_by_hand(one, X, Y, {"b1": values[t]}, {"b1": 1.0}),
                                                     rel=1e-6)


@pytest.mark.parametrize("observed, match", [
    ({"q": [0.0] * 20}, r"observed names 'q', which is not a neuron of the wiring; record hidden neurons only "
                        r"\(the hidden ones: \['a1', 'a2', 'b1', 'b2', 'c1', 'c2'\]\)"),
    ({"x1": [0.0] * 20}, r"observed names 'x1', which is an input: its values are a column of X"),
    ({"y": [0.0] * 20}, r"observed names 'y', which is an output: its values are a column of Y"),
    ({"b1": [0.0] * 19}, r"Expected observed\['b1'\] of shape \[20\], one value per row of X .*got \[19\]"),
    ({"b1": [float("nan")] * 20}, r"observed\['b1'\] is NaN on every row: nothing of 'b1' was recorded"),
    ({"b1": [0.0] * 7 + [float("inf")] + [0.0] * 12}, r"observed\['b1'\] holds inf at row 7; a recorded value "
                                                        r"must be finite \(NaN marks a sample that was not recorded"),
    ({"b1": ["a"] * 20}, r"Expected observed\['b1'\] to be a tensor or an array of numbers"),
    ([0.0] * 20, r"Expected observed to be a dict \{hidden neuron id: \[n\] values\} \(got \[0.0"),
])
def test_bad_recordings_are_named(observed, match):
    X, Y, _ = teacher_data(20)
    net = mpnet.Network(examples.question_network(), dtype=torch.float64)
    with pytest.raises(ValueError, match=match):
        mpnet.fit(net, X, Y, observed=observed, epochs=1, progress=False)


@pytest.mark.parametrize("kw, match", [
    (dict(loss="bce"), r"observed= adds the recordings' squared errors to the outputs'; it needs loss='mse' "
                       r"\(got 'bce'\)"),
    (dict(observed_noise={"b1": 0.1}), r"observed_noise gives the recordings' noise std; .* give noise_std"),
    (dict(observed_noise={"a1": 0.1}, noise_std=0.1), r"observed_noise names 'a1', which observed does not record "
                                                      r"\(recorded: \['b1'\]\)"),
    (dict(observed_noise={"b1": -1.0}, noise_std=0.1), r"Expected observed_noise\['b1'\] to be a finite number > 0 "
                                                       r"\(got -1.0\)"),
    (dict(noise_std=0.0), r"Expected noise_std to be a finite number > 0 or None \(got 0.0\)"),
])
def test_bad_recording_options_are_named(kw, match):
    X, Y, rec = teacher_data(20)
    net = mpnet.Network(examples.question_network(), dtype=torch.float64)
    with pytest.raises(ValueError, match=match):
        mpnet.fit(net, X, Y if kw.get("loss") != "bce" else Y.clamp(0, 1), observed={"b1": rec["b1"]}, epochs=1,
                  progress=False, **kw)


def test_noise_without_recordings_and_recordings_of_a_recurrent_network_are_refused():
    X, Y, _ = teacher_data(20)
    net = mpnet.Network(examples.question_network(), dtype=torch.float64)
    with pytest.raises(ValueError, match=r"without observed= they would change nothing: drop them"):
        mpnet.fit(net, X, Y, noise_std=0.1, epochs=1, progress=False)
    rnn = mpnet.Network(mpnet.Topology.from_edges([("x", "h"), ("h", "h"), ("h", "y")], inputs=["x"], outputs=["y"],
                                                  recurrent=True))
    with pytest.raises(ValueError, match=r"observed= \(recordings of hidden neurons\) is for feed-forward networks"):
        mpnet.fit(rnn, torch.zeros(4, 3, 1), torch.zeros(4, 1), observed={"h": [0.0] * 4}, epochs=1, progress=False)


def test_noise_of_recordings_without_recordings_is_refused():
    X, Y, _ = teacher_data(20)
    net = mpnet.Network(examples.question_network(), dtype=torch.float64)
    with pytest.raises(ValueError, match=r"observed_noise and noise_std weigh recordings .* drop them"):
        mpnet.fit(net, X, Y, observed_noise={"b1": 0.1}, noise_std=0.1, epochs=1, progress=False)
