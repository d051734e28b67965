"""Blocks of rounds (``HubNetwork.link_block``): same pairs as one round at a time, closed forms,
resources held, O(1) events, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hardware_models import (
    BsmParams,
    DetectorParams,
    FibreParams,
    MemoryParams,
    QpuParams,
    double_click_success_probability,
    fibre_transmission,
)
from hardware_models.memory import SlotEmptyError
from modenhub_net.errors import UserInputError
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.simulation import Simulation
from protocols.link_block import PairBlock, consume_rounds

PRESETS = ["future", "ideal", "near_term_nv", "near_term_trapped_ion", "superconducting_transduced"]
FLOAT_COLUMNS = ("heralded_ns", "delivered_ns", "emitted_a_ns", "emitted_b_ns", "fidelity")
INT_COLUMNS = ("pair_id", "round_index", "bell_index", "slot_a", "slot_b")


def _validation_specs(click: str) -> tuple[list[QpuSpec], HubSpec]:
    """Unequal fibres (so the QPUs emit at different times), emitter resets, lossy, noisy."""
    detector = DetectorParams(efficiency=0.85, dark_count_rate_hz=5e5, window_ns=100.0, dead_time_ns=0.0)
    node = QpuSpec(
        fibre=FibreParams(length_km=2.0),
        memory=MemoryParams(emission_efficiency=0.6, emission_fidelity=0.95, t1_ns=5e6, t2_ns=2e5,
                            emitter_initialisation_ns=200.0, emitter_emission_ns=50.0,
                            emitter_reset_ns=100.0),
        qpu=QpuParams(n_comm_qubits=8, n_data_qubits=1, single_qubit_gate_ns=300.0,
                      single_qubit_gate_depolar_prob=0.01),
        detector=detector,
    )
    hub = HubSpec(bsm=BsmParams(scheme=click, visibility=0.9, bright_state_alpha=0.2, detector=detector,
                                coincidence_window_ns=100.0), bsm_stations=8)
    return [node, node.with_fibre_length(3.0)], hub


def _case(name: str) -> tuple[list[QpuSpec], HubSpec]:
    if name.startswith("validation-"):
        return _validation_specs(name.removeprefix("validation-"))
    qpu = QpuSpec.from_preset(name, fibre_length_km=2.0, comm_qubits=6)
    return [qpu, qpu.with_fibre_length(5.0)], HubSpec.from_preset(name)


def _play(nodes: list[QpuSpec], hub: HubSpec, *, mode: str, fast: bool, rounds: int | None,
          until_ns: float | None = None, seed: int = 11, scheme: str = "detection_in_hub") -> dict:
    """One block (``fast``: ``net.link_block``; else one round at a time), then one more round."""
    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme=scheme, link_mode=mode)
    out: dict = {"net": net, "sim": sim}

    def process():
        if fast:
            out["block"] = yield from net.link_block(0, 1, rounds=rounds, until_ns=until_ns)
        else:
            lane = yield from net.hold_lane(0, 1)
            out["block"] = yield from consume_rounds(
                net, 0, 1, k=net.attempt_cap(0, 1)[0], rounds=rounds,
                until_ns=math.inf if until_ns is None else until_ns)
            net.unhold_lane(lane)
        out["end_ns"] = sim.now_ns
        out["next"] = yield from net.link_round(0, 1, 2)

    sim.process(process())
    sim.run()
    return out


def _rounds_for(nodes: list[QpuSpec], hub: HubSpec, pairs: int, scheme: str) -> int:
    """Rounds that herald about ``pairs`` pairs (at most 20,000)."""
    net = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub, scheme=scheme)
    k = net.attempt_cap(0, 1)[0]
    return min(20_000, math.ceil(pairs / (k * net.budget(0, 1).p_success)))


@pytest.mark.parametrize(("scheme", "name"), [
    *[("detection_in_hub", name) for name in
      [*PRESETS, "validation-double_click", "validation-single_click"]],
    *[("source_in_hub", name) for name in [*PRESETS, "validation-double_click"]],
])
def test_sampled_block_gives_the_same_pairs_as_one_round_at_a_time(scheme: str, name: str) -> None:
    """The one-step block draws the same uniforms in the same order as the per-round path and
    simulates each history with the same channels: identical pairs, states, counters, times,
    and the stream continues at the same place (the next round is identical too)."""
    nodes, hub = _case(name)
    rounds = _rounds_for(nodes, hub, 40, scheme)
    fast = _play(nodes, hub, mode="sampled", fast=True, rounds=rounds, scheme=scheme)
    slow = _play(nodes, hub, mode="sampled", fast=False, rounds=rounds, scheme=scheme)
    assert fast["net"].generation.can_block()
    a, b = fast["block"], slow["block"]
    assert a.rounds == b.rounds == rounds
    assert a.n_pairs == b.n_pairs > 0
    for column in INT_COLUMNS:
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)
    for column in FLOAT_COLUMNS:
        np.testing.assert_allclose(getattr(a, column), getattr(b, column), rtol=1e-12, atol=1e-9,
                                   err_msg=column)
    np.testing.assert_allclose(a.bell_coefficients(), b.bell_coefficients(), atol=1e-12)
    for i in range(a.n_pairs):
        np.testing.assert_allclose(a.states[a.state_index[i]], b.states[b.state_index[i]], atol=1e-12)
    assert a.start_ns == pytest.approx(b.start_ns) and a.end_ns == pytest.approx(b.end_ns)
    assert fast["end_ns"] == pytest.approx(slow["end_ns"])
    assert fast["net"].counters() == slow["net"].counters()
    assert [(p.bell_index, p.slot_a) for p in fast["next"].pairs] == \
        [(p.bell_index, p.slot_a) for p in slow["next"].pairs]
    assert fast["net"].held_qubits() == slow["net"].held_qubits()


@pytest.mark.parametrize("mode", ["sampled", "detailed"])
def test_block_success_and_fidelity_match_the_closed_forms(mode: str) -> None:
    """Two-node link with dephasing memories: per-attempt success ``eta^2 eta_d^2 / 2`` (Barrett
    & Kok 2005) within 5 standard errors, and every delivered state's fidelity
    ``(1 + V exp(-t_a/T2 - t_b/T2)) / 2`` for its own storage times (ARCHITECTURE.md §3)."""
    t2_ns, visibility = 1e6, 0.9
    node = QpuSpec(fibre=FibreParams(length_km=10.0),
                   memory=MemoryParams(t2_ns=t2_ns), qpu=QpuParams(n_comm_qubits=10))
    detector = DetectorParams(efficiency=0.9, dark_count_rate_hz=0.0, window_ns=10.0, dead_time_ns=0.0)
    hub = HubSpec(bsm=BsmParams(scheme="double_click", visibility=visibility, detector=detector,
                                coincidence_window_ns=10.0), bsm_stations=10)
    nodes = [node, node.with_fibre_length(4.0)]
    rounds = 20_000 if mode == "sampled" else 2_000
    block: PairBlock = _play(nodes, hub, mode=mode, fast=True, rounds=rounds)["block"]
    eta = [fibre_transmission(spec.fibre) for spec in nodes]
    p = double_click_success_probability(eta_a=eta[0], eta_b=eta[1], bsm=hub.bsm)
    se = math.sqrt(p * (1 - p) / block.attempts)
    assert abs(block.n_pairs / block.attempts - p) < 5 * se
    expected = 0.5 * (1 + visibility * np.exp(-(block.storage_a_ns + block.storage_b_ns) / t2_ns))
    np.testing.assert_allclose(block.fidelity, expected, atol=1e-12)
    assert np.all(block.storage_a_ns != block.storage_b_ns)  # the two halves really differ
    # corrected to Phi+: weight (1 + V c) / 2 on Phi+, the rest on Phi- (dephasing keeps the
    # state in the Phi+/Phi- plane), nothing on Psi+/-
    coefficients = block.bell_coefficients()
    np.testing.assert_allclose(coefficients[:, 0], expected, atol=1e-12)
    np.testing.assert_allclose(coefficients[:, 1], 1 - expected, atol=1e-12)
    np.testing.assert_allclose(coefficients[:, 2:], 0.0, atol=1e-12)
    frame = block.to_frame()
    assert len(frame) == block.n_pairs and frame["fidelity"].equals(pd.Series(block.fidelity))
    assert set(block.bell_index.tolist()) == {2, 3}  # double click heralds Psi+ and Psi-


def test_block_until_ns_plays_the_rounds_that_end_in_time() -> None:
    nodes, hub = _case("ideal")
    net = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub)
    period = net.budget(0, 1).attempt_period_ns
    until = 1e7
    fast = _play(nodes, hub, mode="sampled", fast=True, rounds=None, until_ns=until)["block"]
    slow = _play(nodes, hub, mode="sampled", fast=False, rounds=None, until_ns=until)["block"]
    assert fast.rounds == slow.rounds
    # ideal QPUs: no correction outlasts the period, so rounds start one period apart
    assert fast.rounds == math.floor((until - fast.start_ns) / period)
    assert fast.start_ns + fast.rounds * period <= until < fast.start_ns + (fast.rounds + 1) * period


def test_block_holds_its_resources_and_frees_them() -> None:
    nodes, hub = _case("ideal")
    sim = Simulation(seed=3)
    net = build_hub_network(sim, nodes=nodes, hub=hub)
    k = 4
    seen: dict = {}

    def block():
        seen["block"] = yield from net.link_block(0, 1, rounds=500, k=k)

    def observer():
        yield sim.timeout(1e6)
        comm = net.qpus[0].comm
        seen["free_slots"] = comm.n_free_slots
        seen["stations"] = net.generation.n_free_devices("bsm")
        seen["held_lanes"] = net.held_lanes()
        seen["cap"] = net.attempt_cap(0, 1)[0]
        with pytest.raises(SlotEmptyError, match="reserved"):
            comm.access(0)

    sim.process(block())
    sim.process(observer())
    sim.run()
    assert seen["free_slots"] == nodes[0].qpu.n_comm_qubits - k
    assert seen["stations"] == hub.bsm_stations - k
    assert seen["held_lanes"] == 1
    assert seen["cap"] == nodes[0].qpu.n_comm_qubits - k
    assert seen["block"].attempts_per_round == k and seen["block"].end_ns > 1e6
    assert net.held_qubits() == 0 and net.held_lanes() == 0
    assert net.generation.n_free_devices("bsm") == hub.bsm_stations
    assert net.qpus[0].comm.n_free_slots == nodes[0].qpu.n_comm_qubits


def test_sampled_block_costs_o1_events() -> None:
    """Time advances once per block: a block of 10,000 rounds executes a handful of events."""
    nodes, hub = _case("ideal")
    sim = Simulation(seed=5)
    net = build_hub_network(sim, nodes=nodes, hub=hub)
    out = {}

    def process():
        out["block"] = yield from net.link_block(0, 1, rounds=10_000)

    sim.process(process())
    first = next(sim.env._eid)  # SimPy's event-id counter: events scheduled so far
    sim.run()
    events = next(sim.env._eid) - first - 1
    assert out["block"].n_pairs > 1_000
    assert events <= 10


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"rounds": -1}, "rounds = -1"),
    ({"rounds": True}, "rounds = True"),
    ({"rounds": 2.5}, "rounds = 2.5"),
    ({"until_ns": -5.0}, "until_ns = -5.0"),
    ({"until_ns": "soon"}, "until_ns = 'soon'"),
    ({"until_ns": math.inf}, "until_ns = inf: must be finite"),
    ({"rounds": 3, "k": 0}, "k = 0"),
    ({}, "give rounds"),
])
def test_bad_block_arguments_name_the_option(kwargs: dict, field: str) -> None:
    nodes, hub = _case("ideal")
    net = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub)
    with pytest.raises(UserInputError, match=field.replace("(", r"\(")) as error:
        net.link_block(0, 1, **kwargs)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("a", "b", "text"), [(0, 0, "a = b = 0"), (0, 2, "b = 2"), (-1, 1, "a = -1")])
def test_bad_block_qpus_name_the_option(a: int, b: int, text: str) -> None:
    nodes, hub = _case("ideal")
    net = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub)
    with pytest.raises(UserInputError, match=text):
        net.link_block(a, b, rounds=1)


def test_more_attempts_than_free_resources_is_refused_when_the_block_starts() -> None:
    nodes, hub = _case("ideal")
    sim = Simulation(seed=0)
    net = build_hub_network(sim, nodes=nodes, hub=hub)
    cap = net.attempt_cap(0, 1)[0]

    def process():
        yield from net.link_block(0, 1, rounds=1, k=cap + 1)

    sim.process(process())
    with pytest.raises(UserInputError, match=f"k = {cap + 1}: outside the allowed range"):
        sim.run()
    assert net.held_lanes() == 0  # the lane hold is released on the way out


def test_a_block_of_no_rounds_is_empty_and_takes_no_time() -> None:
    nodes, hub = _case("ideal")
    out = _play(nodes, hub, mode="sampled", fast=True, rounds=0)
    block = out["block"]
    assert (block.rounds, block.n_pairs, block.attempts) == (0, 0, 0)
    assert block.states.shape == (0, 4, 4) and block.fidelity.shape == (0,)
    assert out["end_ns"] == 0.0 and out["net"].held_qubits() == 0
