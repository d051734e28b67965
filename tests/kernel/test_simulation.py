"""Clock and random-stream behaviour of :class:`modenhub_net.Simulation`."""

import numpy as np
import pytest

from modenhub_net import Simulation, UserInputError
from modenhub_net.components import Component


def test_time_is_float_nanoseconds_and_run_until():
    sim = Simulation(seed=0)
    fired = []

    def proc():
        yield sim.timeout(1.5)
        fired.append(sim.now_ns)
        yield sim.timeout(1e9)
        fired.append(sim.now_ns)

    sim.process(proc())
    sim.run(until_ns=100.0)
    assert fired == [1.5]
    assert sim.now_ns == 100.0
    sim.run()
    assert fired == [1.5, 1.5 + 1e9]


def test_run_until_in_the_past_is_a_clear_error():
    sim = Simulation()
    sim.run(until_ns=10.0)
    with pytest.raises(UserInputError, match="until_ns"):
        sim.run(until_ns=5.0)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seed_rejected(seed):
    with pytest.raises(UserInputError, match="seed"):
        Simulation(seed=seed)


def test_named_streams_do_not_depend_on_creation_order():
    a = Simulation(seed=11)
    b = Simulation(seed=11)
    x1 = a.rng("x").random(5)
    y1 = a.rng("y").random(5)
    y2 = b.rng("y").random(5)
    x2 = b.rng("x").random(5)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert not np.array_equal(x1, y1)


def test_component_streams_do_not_depend_on_construction_order():
    def draws(order):
        sim = Simulation(seed=5)
        comps = {name: Component(name, sim=sim) for name in order}
        return {name: comps[name].rng.integers(0, 2**32, 4).tolist() for name in sorted(order)}

    assert draws(["a", "b", "c"]) == draws(["c", "a", "b"])


def test_different_seeds_differ_and_same_seed_repeats():
    assert Simulation(seed=1).rng("s").random() != Simulation(seed=2).rng("s").random()
    assert Simulation(seed=1).rng("s").random() == Simulation(seed=1).rng("s").random()


def test_two_simulations_in_one_process_do_not_interfere():
    a = Simulation(seed=3)
    reference = Simulation(seed=3).rng("n").random(3)
    b = Simulation(seed=3)
    b.rng("n").random(100)  # heavy use of b's stream
    assert np.array_equal(a.rng("n").random(3), reference)
