"""mpnet.engine.steps: a ctrnn's schedule bounded and its clock checked; a state's fields checked against the
network that reads them; the stepper's input refused with a sentence when it does not fit."""
import math

import pytest
import torch

from mpnet import Network, Topology
from mpnet.engine.steps import MAX_STEPS_PER_INPUT, RecurrentState, check_times, ctrnn_schedule
from mpnet.errors import ArgumentError

EDGES = [("x", "h", 0.5), ("h", "h", 0.3), ("h", "y", 1.0)]


def net(kind, **kw):
    return Network(Topology.from_edges(EDGES, inputs=["x"], outputs=["y"], recurrent=kind), seed=0, **kw)


@pytest.mark.parametrize("advance_time, time_step, steps", [(1.0, 1e-9, r"1e\+09"), (1e300, 1.0, r"1e\+300"),
                                                            (1.0, 5e-324, r"inf")])
def test_more_integration_steps_per_input_than_the_bound_are_refused_at_once(advance_time, time_step, steps):
    with pytest.raises(ArgumentError, match=rf"is {steps} integration steps per input; a ctrnn takes at most "
                                            rf"100,000 .* Check the units, or raise time_step"):
        check_times(advance_time, time_step)
    with pytest.raises(ArgumentError, match=r"integration steps per input"):
        net("ctrnn", advance_time=advance_time, time_step=time_step)
    with pytest.raises(ArgumentError, match=r"integration steps per input"):
        net("ctrnn")(torch.ones(1, 2, 1), advance_time=advance_time, time_step=time_step)


def test_the_bound_itself_is_allowed():
    assert ctrnn_schedule(1, MAX_STEPS_PER_INPUT * 0.5, 0.5).num_steps == MAX_STEPS_PER_INPUT


@pytest.mark.parametrize("time", [math.nan, math.inf, -1.0, "0", True])
def test_a_ctrnn_clock_must_be_a_finite_time_from_zero(time):
    c = net("ctrnn", advance_time=1.0, time_step=0.1)
    with pytest.raises(ArgumentError, match=r"Expected state.time to be a finite number >= 0, a ctrnn's clock"):
        c(torch.ones(1, 2, 1), RecurrentState(torch.zeros(3, 2), time=time))


def test_a_clock_too_far_out_to_advance_is_refused_not_run_for_ever():
    c = net("ctrnn", advance_time=1.0, time_step=0.1)
    with pytest.raises(ArgumentError, match=r"clock at time 1e\+17 cannot advance in steps of time_step=0.1: "
                                            r"float64 numbers near 1e\+17 are 16 apart"):
        c(torch.ones(1, 2, 1), RecurrentState(torch.zeros(3, 2), time=1e17))
    with pytest.raises(ArgumentError, match=r"cannot advance"):
        ctrnn_schedule(1, 1000.0, 1.0, time=1e17)          # end past time, but each step rounds back


def test_a_discrete_network_refuses_a_ctrnns_state_fields():
    r, x = net(True), torch.ones(1, 2, 1)
    with pytest.raises(ArgumentError, match=r"state.previous and state.time are a ctrnn's .* \(got previous=a tensor"):
        r(x, RecurrentState(torch.zeros(3, 2), previous=torch.zeros(3, 2)))
    with pytest.raises(ArgumentError, match=r"time=5.0\)"):
        r(x, RecurrentState(torch.zeros(3, 2), time=5.0))
    out, state = r(x, return_state=True)
    torch.testing.assert_close(r(x, state), r(torch.ones(2, 2, 1))[1:])   # its own state still continues


def test_a_time_step_past_twice_a_time_constant_is_refused_naming_the_neuron():
    slow = Topology.from_edges(EDGES, inputs=["x"], outputs=["y"], recurrent="ctrnn", time_constants={"h": 0.01})
    with pytest.raises(ArgumentError, match=r"time_step=0.1 is more than twice the time constant 0.01 of node 'h': "
                                            r".* 1 - dt / tau = -9.*Use time_step <= 0.02"):
        Network(slow, advance_time=1.0, time_step=0.1)(torch.ones(1, 2, 1))
    ok = Network(slow, advance_time=0.1, time_step=0.02)(torch.ones(1, 2, 1))   # dt = 2 tau: bounded
    assert bool(torch.isfinite(ok).all())
    # a neuron no edge reaches is never integrated: its time constant does not count
    idle = Topology.from_edges(EDGES, inputs=["x"], outputs=["y"], hidden=["z"], recurrent="ctrnn",
                               time_constants={"z": 1e-6}, warn=False)
    assert bool(torch.isfinite(Network(idle, advance_time=1.0, time_step=0.1)(torch.ones(1, 2, 1))).all())


def test_return_state_must_be_a_bool():
    with pytest.raises(ArgumentError, match=r"Expected return_state to be True or False \(got 'no' \(a str\)\)"):
        net(True)(torch.ones(1, 2, 1), return_state="no")


def test_the_stepper_names_an_input_that_does_not_fit_and_a_batch_past_memory():
    stepper = net(True).stepper(2)
    with pytest.raises(ArgumentError, match=r"Expected the stepper's input x as rows \[1, 2\] \(T \* n_inputs, batch\)"
                                            r", a tensor of torch.float32 \(got \[2, 5\] torch.float32\)"):
        stepper.step(torch.ones(2, 5))
    with pytest.raises(ArgumentError, match=r"\(got list\)"):
        stepper.step([[1.0, 1.0]])
    assert stepper.step(torch.ones(1, 2)).shape == (1, 2)
    with pytest.raises(ArgumentError, match=r"stepper\(batch=1000000000000\) needs about .* GB of memory"):
        net(True).stepper(10 ** 12)
