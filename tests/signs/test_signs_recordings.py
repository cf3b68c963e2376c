"""Recorded hidden neurons in sign inference (observed=): every fit's loss holds them, each weighed by its noise,
and they decide signs that input-output data leave open."""
import pytest
import torch

import mpnet
from mpnet.graph.topology import Topology
from mpnet.signs import Effort, multistart
from mpnet.signs.fitting import Workspace
from mpnet.signs.inputs import as_recordings
from mpnet.signs.population import Population

TINY = Effort(starts=16, keep=4, islands=2, pool=2, redraws=1, rounds=2, hop_iters=60, polish_iters=300,
              explore_iters=60, smooth=(3.0, 10.0))
SMALL = Effort(starts=8, keep=2, islands=1, pool=2, redraws=1, rounds=1, hop_iters=40, polish_iters=200,
               explore_iters=40, smooth=(3.0,))


def chain():
    """x -> a -> b -> y, ReLU neurons: flat at both ends, so input-output data cannot tell it from its mirror."""
    return Topology.from_edges([("x", "a"), ("a", "b"), ("b", "y")], inputs=["x"], outputs=["y"], activation="relu",
                               output_activation="identity")


TEACHER = {("x", "a"): 1.0, ("a", "b"): -1.0, ("b", "y"): 1.0}, {"a": 0.5, "b": 1.5, "y": 0.0}
# the same function with x -> a and b -> y reversed: a = relu(1 - x), b = relu(1.5 - a), y = 1.5 - b
MIRROR = {("x", "a"): -1.0, ("a", "b"): -1.0, ("b", "y"): -1.0}, {"a": 1.0, "b": 1.5, "y": 1.5}


def chain_data(n=200, noise=0.01, seed=0):
    """``X``, ``Y`` and the recording of ``a`` (each with ``noise`` times its std in noise), float64."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 1, generator=g, dtype=torch.float64) * 4 - 2
    net = mpnet.Network(chain().with_weights(*TEACHER), dtype=torch.float64)
    _, H = net.states(X)
    Y = net(X).detach()
    Y = Y + noise * Y.std() * torch.randn(Y.shape, generator=g, dtype=torch.float64)
    a = H[net.rows.index((0, "a"))]
    return X, Y, a + noise * a.std() * torch.randn(a.shape, generator=g, dtype=torch.float64)


def test_a_recording_tells_the_chain_from_its_mirror():
    X, Y, a = chain_data()
    plain = Workspace(chain(), X, Y)
    recorded = Workspace(chain(), X, Y, observed=as_recordings({"a": a}, None, chain(), X, Y, None))
    fits = torch.stack([plain.pop(1).theta_of(chain().with_weights(*w)) for w in (TEACHER, MIRROR)])
    passive, seen = plain.loss(fits), recorded.loss(fits)
    assert float(passive[1]) == pytest.approx(float(passive[0]), rel=1e-9)      # the same function
    assert float(seen[0]) == pytest.approx(float(passive[0]), rel=0.5)            # at the floor either way
    assert float(seen[1]) > 100 * float(seen[0])                                    # the mirror misses a


def test_the_population_loss_with_recordings_written_out():
    X, Y, a = chain_data(50)
    a = a.clone()
    a[::4] = float("nan")
    pop = Population(chain(), 2, observed=["a"])
    theta = torch.stack([pop.theta_of(chain().with_weights(*w)) for w in (TEACHER, MIRROR)])
    targets, weight = torch.cat([Y, a[:, None]], 1), torch.tensor([1.0, 3.0], dtype=torch.float64)
    got = pop.loss(theta, X, targets, weight)
    for m, w in enumerate((TEACHER, MIRROR)):
        net = mpnet.Network(chain().with_weights(*w), dtype=torch.float64)
        _, H = net.states(X)
        seen = ~torch.isnan(a)
        total = ((net(X).detach() - Y) ** 2).sum() + 3.0 * ((H[net.rows.index((0, "a"))] - a)[seen] ** 2).sum()
        assert float(got[m]) == pytest.approx(float(total / (Y.numel() + int(seen.sum()))), rel=1e-12)
    # the outputs alone are unchanged by the recording twin
    assert torch.allclose(pop.forward(theta, X), Population(chain(), 2).forward(theta, X), rtol=0, atol=1e-14)


def test_gradient_of_the_population_loss_with_recordings_float64():
    X, Y, a = chain_data(40)
    a = a.clone()
    a[1::3] = float("nan")
    pop = Population(chain(), 3, observed=["a"])
    targets = torch.cat([Y, a[:, None]], 1)
    weight, scale = torch.tensor([1.0, 2.5], dtype=torch.float64), torch.tensor([1.0, 0.5], dtype=torch.float64)
    theta = pop.theta_of(chain().with_weights(*TEACHER)).expand(3, -1).clone()
    theta += 0.1 * torch.randn(theta.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    loss, grad = pop.loss_and_grad(theta, X, targets, weight, scale)
    assert torch.autograd.gradcheck(lambda t: pop._loss(t, X, targets, weight, scale), theta.requires_grad_())
    assert torch.equal(loss, pop.loss(theta.detach(), X, targets, weight, scale)) and grad.shape == theta.shape


def test_multistart_fits_the_recorded_neuron_and_ignores_unrecorded_rows():
    X, Y, a = chain_data(120)
    a = a.clone()
    a[::2] = float("nan")
    result = multistart(chain(), X, Y, effort=SMALL, observed={"a": a})
    net = result.network(dtype=torch.float64)
    _, H = net.states(X)
    seen = ~torch.isnan(a)
    err = float(((H[net.rows.index((0, "a"))] - a)[seen] ** 2).mean())
    assert err < 4 * (0.01 * float(a[seen].std())) ** 2       # a follows its recording down to the noise
    assert result.quality == "at the noise floor"
    assert float(result.weights()[("x", "a")]) > 0            # the teacher's sign, not the mirror's


@pytest.mark.slow
def test_infer_signs_calls_with_a_recording_what_it_cannot_call_without():
    X, Y, a = chain_data()
    passive = {(e.src, e.dst): e for e in mpnet.infer_signs(chain(), X, Y, effort=TINY).edges}
    recorded = {(e.src, e.dst): e for e in mpnet.infer_signs(chain(), X, Y, effort=TINY, observed={"a": a}).edges}
    # measured: passive x->a ? and b->y ? (ratio 0.00, the mirror), a->b -; recorded: + - +, all 0.968
    assert passive[("x", "a")].sign == "?" and passive[("b", "y")].sign == "?"
    assert [recorded[k].sign for k in TEACHER[0]] == ["+", "-", "+"]


@pytest.mark.parametrize("kw, match", [
    (dict(observed={"q": [0.0] * 20}), r"observed names 'q', which is not a neuron of the wiring; record hidden "
                                       r"neurons only \(the hidden ones: \['a', 'b'\]\)"),
    (dict(observed={"x": [0.0] * 20}), r"observed names 'x', which is an input"),
    (dict(observed={"y": [0.0] * 20}), r"observed names 'y', which is an output"),
    (dict(observed={"a": [0.0] * 21}), r"Expected observed\['a'\] of shape \[20\]"),
    (dict(observed={"a": [float("nan")] * 20}), r"observed\['a'\] is NaN on every row"),
    (dict(observed={"a": [0.0] * 3 + [float("-inf")] + [0.0] * 16}), r"observed\['a'\] holds -inf at row 3"),
    (dict(observed={"a": [0.0] * 5 + [float("nan")] * 15}), r"observed\['a'\] has 5 recorded samples, too few to "
                                                            r"estimate its noise from .*observed_noise=\{'a': std\}"),
    (dict(observed={"a": [0.0] * 20}, observed_noise={"b": 0.1}), r"observed_noise names 'b', which observed does "
                                                                   r"not record"),
    (dict(observed_noise={"a": 0.1}), r"observed_noise gives the noise of recordings, but observed= records no "
                                      r"neuron"),
    (dict(observed={"a": [0.0] * 20}, method="ensemble"), r"observed= .* is used by method='refit' only"),
])
def test_bad_recordings_are_named(kw, match):
    X, Y, _ = chain_data(20)
    with pytest.raises(ValueError, match=match):
        mpnet.infer_signs(chain(), X, Y, effort=TINY, **kw)


def test_a_recording_with_few_samples_and_a_given_noise_is_used():
    X, Y, a = chain_data(60)
    few = torch.full_like(a, float("nan"))
    few[:5] = a[:5]
    recorded = as_recordings({"a": few}, {"a": 0.05}, chain(), X, Y, 0.01)
    assert recorded.noise[0].method == "given" and recorded.weight == [pytest.approx((0.01 / 0.05) ** 2)]


def test_a_constant_recording_is_weighed_as_an_output_and_every_loss_stays_finite():
    # a silent neuron recorded without noise: its noise estimate is 0 and it has no spread to floor that by; the
    # weight was 1 / 1e-300 and every fit's loss inf (a benchmark teacher's dead neuron, recorded)
    X, Y, _ = chain_data(120)
    silent = torch.zeros(120, dtype=torch.float64)
    recorded = as_recordings({"a": silent}, None, chain(), X, Y, None)
    assert recorded.weight == [1.0] and "constant recording" in recorded.noise[0].method
    result = multistart(chain(), X, Y, effort=SMALL, observed={"a": silent})
    assert torch.isfinite(result.loss).all()


def test_a_loss_that_overflows_is_an_error_not_a_report():
    X, Y, _ = chain_data(40)
    with pytest.raises(ValueError, match=r"Every fit's loss is (inf|nan): the data overflow float64; scale them to "
                                         r"units near 1"):
        multistart(chain(), X, Y * 1e200, effort=SMALL)
