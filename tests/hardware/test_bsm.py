"""BSM station: closed forms (double and single click, dark counts, visibility, emission
fidelity) and the event-level station acting on real memory–photon states.
Tolerances: 5 standard errors from the trial counts, fixed seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models.bsm import (
    BsmParams,
    BsmStation,
    double_click_fidelity,
    double_click_heralded_state,
    double_click_success_probability,
    herald_success_probability,
    single_click_fidelity,
    single_click_heralded_state,
    single_click_success_probability,
)
from hardware_models.detector import DetectorParams
from hardware_models.fibre import Fibre, FibreParams, fibre_transmission
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import (
    amplitude_damp,
    assign_state,
    bell_dm,
    bell_state,
    create_qubits,
    depolarise,
    fidelity,
    lose,
    reduced_dm,
)
from modenhub_net.simulation import Simulation

K = 5.0
NO_DARK = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, window_ns=10.0)


def _emit(scheme: str, alpha: float, emission_fidelity: float):
    memory, photon = create_qubits(2)
    if scheme == "double_click":
        assign_state([memory, photon], np.array([1, 0, 0, 1]) / math.sqrt(2))
    else:
        assign_state([memory, photon], np.array([math.sqrt(1 - alpha), 0, 0, math.sqrt(alpha)]))
    if emission_fidelity < 1.0:
        depolarise(memory, 4 * (1 - emission_fidelity) / 3)
    return memory, photon


def _run(bsm: BsmParams, eta_a: float, eta_b: float, trials: int, *, seed: int,
         fe_a: float = 1.0, fe_b: float = 1.0):
    """Event-level attempts; returns (successes, fidelities to the heralded Psi state)."""
    sim = Simulation(seed=seed)
    station = BsmStation("bsm", sim=sim, params=bsm)
    loss_rng = sim.rng("test.loss")
    successes, fids = 0, []
    for _ in range(trials):
        msgs = []
        for eta, fe in ((eta_a, fe_a), (eta_b, fe_b)):
            memory, photon = _emit(bsm.scheme, bsm.bright_state_alpha, fe)
            if bsm.scheme == "double_click":
                if loss_rng.random() >= eta:
                    lose(photon)
                    photon = None
            else:
                amplitude_damp(photon, 1 - eta)
            msgs.append(Message((photon,), {"memory_qubit": memory}))
        herald = station.process_attempt(msgs[0], msgs[1])
        if herald.meta["outcome"] != "failure":
            successes += 1
            # the herald carries the post-herald state of the two remote qubits
            np.testing.assert_allclose(herald.meta["state"],
                                       reduced_dm(list(herald.meta["memory_qubits"])), atol=1e-12)
            fids.append(fidelity(list(herald.meta["memory_qubits"]),
                                 bell_state(herald.meta["bell_index"])))
        else:
            assert herald.meta["state"] is None
    return successes, np.array(fids)


def _check_rate(successes: int, trials: int, p: float) -> None:
    assert abs(successes - trials * p) <= K * math.sqrt(trials * p * (1 - p)) + 1e-9


def _check_mean(values: np.ndarray, expected: float) -> None:
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    assert abs(values.mean() - expected) <= K * se + 1e-9


# -- closed forms ----------------------------------------------------------------------------
def test_ideal_double_click_is_half_and_perfect() -> None:
    bsm = BsmParams(detector=NO_DARK)
    assert double_click_success_probability(eta_a=1, eta_b=1, bsm=bsm) == pytest.approx(0.5)
    assert double_click_fidelity(eta_a=1, eta_b=1, bsm=bsm) == pytest.approx(1.0)
    assert np.allclose(double_click_heralded_state(eta_a=1, eta_b=1, bsm=bsm), bell_dm(2))
    assert np.allclose(
        double_click_heralded_state(eta_a=1, eta_b=1, bsm=bsm, outcome="Psi-"), bell_dm(3)
    )


@pytest.mark.parametrize("eta_d", [0.9, 0.7, 0.5])
def test_double_click_detector_efficiency_squared(eta_d: float) -> None:
    bsm = BsmParams(detector=NO_DARK.model_copy(update={"efficiency": eta_d}))
    assert double_click_success_probability(eta_a=1, eta_b=1, bsm=bsm) == pytest.approx(eta_d**2 / 2)


@pytest.mark.parametrize("visibility", [1.0, 0.9, 0.6, 0.0])
def test_double_click_without_dark_counts(visibility: float) -> None:
    bsm = BsmParams(visibility=visibility, detector=NO_DARK)
    assert double_click_success_probability(eta_a=0.3, eta_b=0.7, bsm=bsm) == pytest.approx(0.105)
    assert double_click_fidelity(eta_a=0.3, eta_b=0.7, bsm=bsm) == pytest.approx((1 + visibility) / 2)


def test_double_click_dark_counts_add_false_heralds_and_lower_fidelity() -> None:
    dark = NO_DARK.model_copy(update={"dark_count_rate_hz": 1.0e6, "window_ns": 100.0})
    clean, noisy = BsmParams(visibility=0.9, detector=NO_DARK), BsmParams(visibility=0.9, detector=dark)
    args = {"eta_a": 0.05, "eta_b": 0.05}
    assert double_click_success_probability(**args, bsm=noisy) > double_click_success_probability(
        **args, bsm=clean
    )
    assert double_click_fidelity(**args, bsm=noisy) < 0.95 - 1e-3
    # fidelity from the state equals the closed-form fidelity; trace 1, Hermitian, PSD
    rho = double_click_heralded_state(**args, bsm=noisy)
    assert fidelity(rho, bell_state(2)) == pytest.approx(double_click_fidelity(**args, bsm=noisy))
    assert np.trace(rho).real == pytest.approx(1.0) and np.linalg.eigvalsh(rho).min() > -1e-12


def test_emission_fidelity_multiplies_werner_parameters() -> None:
    bsm = BsmParams(detector=NO_DARK)
    f = double_click_fidelity(eta_a=1, eta_b=1, bsm=bsm, emission_fidelity_a=0.9,
                              emission_fidelity_b=0.8)
    pa, pb = (4 * 0.9 - 1) / 3, (4 * 0.8 - 1) / 3
    assert f == pytest.approx(pa * pb + (1 - pa * pb) / 4)  # = swap of two Werner pairs


def test_single_click_small_alpha_limits() -> None:
    alpha, eta, v = 0.05, 1.0e-3, 0.81
    bsm = BsmParams(scheme="single_click", bright_state_alpha=alpha, visibility=v, detector=NO_DARK)
    p = single_click_success_probability(eta_a=eta, eta_b=eta, bsm=bsm)
    assert p == pytest.approx(2 * alpha * eta, rel=1e-3)
    f = single_click_fidelity(eta_a=eta, eta_b=eta, bsm=bsm)
    assert f == pytest.approx((1 - alpha) * (1 + math.sqrt(v)) / 2, rel=1e-3)


def test_single_click_exact_state_lossless() -> None:
    # eta = 1, V = 1, no dark counts: rho ~ 2a(1-a)/2 |Psi+><Psi+| + a^2/2 |11><11|
    alpha = 0.2
    bsm = BsmParams(scheme="single_click", bright_state_alpha=alpha, detector=NO_DARK)
    rho = single_click_heralded_state(eta_a=1, eta_b=1, bsm=bsm)
    norm = alpha * (1 - alpha) + alpha**2 / 2
    expected = alpha * (1 - alpha) / norm * bell_dm(2)
    expected[3, 3] += alpha**2 / 2 / norm
    assert np.allclose(rho, expected)
    assert single_click_success_probability(eta_a=1, eta_b=1, bsm=bsm) == pytest.approx(2 * norm)


# -- event-level station vs closed forms ----------------------------------------------------
@pytest.mark.parametrize(
    ("visibility", "eta_d", "dark_hz", "eta_a", "eta_b", "fe"),
    [
        (1.0, 1.0, 0.0, 1.0, 1.0, 1.0),  # ideal: 1/2
        (1.0, 0.7, 0.0, 1.0, 1.0, 1.0),  # eta_d^2 / 2
        (0.8, 1.0, 0.0, 0.6, 0.3, 1.0),  # eta_A eta_B / 2, F = (1+V)/2
        (0.9, 0.8, 3.0e6, 0.3, 0.2, 0.95),  # dark counts and emission noise
    ],
)
def test_double_click_station_matches_closed_form(
    visibility, eta_d, dark_hz, eta_a, eta_b, fe, validation_scale
) -> None:
    det = DetectorParams(efficiency=eta_d, dark_count_rate_hz=dark_hz, window_ns=100.0)
    bsm = BsmParams(visibility=visibility, detector=det)
    trials = int(12_000 * validation_scale)
    successes, fids = _run(bsm, eta_a, eta_b, trials, seed=7, fe_a=fe, fe_b=fe)
    _check_rate(successes, trials, double_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm))
    f = double_click_fidelity(eta_a=eta_a, eta_b=eta_b, bsm=bsm, emission_fidelity_a=fe,
                              emission_fidelity_b=fe)
    _check_mean(fids, f)
    if dark_hz == 0.0 and fe == 1.0:
        assert f == pytest.approx((1 + visibility) / 2)


@pytest.mark.parametrize(
    ("alpha", "visibility", "dark_hz", "eta_a", "eta_b", "number_resolving"),
    [
        (0.1, 1.0, 0.0, 0.5, 0.5, False),
        (0.2, 0.8, 1.0e6, 0.6, 0.3, False),
        (0.3, 0.9, 1.0e6, 0.8, 0.7, True),
    ],
)
def test_single_click_station_matches_closed_form(
    alpha, visibility, dark_hz, eta_a, eta_b, number_resolving, validation_scale
) -> None:
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=dark_hz, window_ns=100.0,
                         number_resolving=number_resolving)
    bsm = BsmParams(scheme="single_click", bright_state_alpha=alpha, visibility=visibility,
                    detector=det)
    trials = int(8_000 * validation_scale)
    successes, fids = _run(bsm, eta_a, eta_b, trials, seed=11, fe_a=0.97, fe_b=0.99)
    _check_rate(successes, trials, single_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm))
    f = single_click_fidelity(eta_a=eta_a, eta_b=eta_b, bsm=bsm, emission_fidelity_a=0.97,
                              emission_fidelity_b=0.99)
    _check_mean(fids, f)


class _Emitter(Component):
    """Test emitter: one memory–photon pair per call, photon out of port ``out``."""

    def __init__(self, name: str, *, sim: Simulation, scheme: str, alpha: float) -> None:
        super().__init__(name, sim=sim, port_names=("out",))
        self.scheme, self.alpha = scheme, alpha

    def fire(self, attempt: int) -> None:
        memory, photon = _emit(self.scheme, self.alpha, 1.0)
        meta = {"memory_qubit": memory, "attempt": attempt}
        if self.scheme == "single_click":
            meta["encoding"] = "presence"
        self.ports["out"].tx_output(Message((photon,), meta))


class _Collector(Component):
    def __init__(self, name: str, *, sim: Simulation) -> None:
        super().__init__(name, sim=sim, port_names=("in",))
        self.heralds: list[Message] = []
        self.ports["in"].bind_input_handler(self.heralds.append)


@pytest.mark.parametrize("scheme", ["double_click", "single_click"])
def test_station_through_fibres_pairs_photons_in_window(scheme: str, validation_scale: float) -> None:
    sim = Simulation(seed=99)
    bsm = BsmParams(scheme=scheme, detector=NO_DARK, coincidence_window_ns=5.0,
                    bright_state_alpha=0.2)
    fibre_params = FibreParams(length_km=5.0)
    station = BsmStation("bsm", sim=sim, params=bsm)
    collector = _Collector("col", sim=sim)
    station.ports["herald"].connect(collector.ports["in"])
    emitters = []
    for side in "ab":
        emitter = _Emitter(f"em_{side}", sim=sim, scheme=scheme, alpha=0.2)
        fibre = Fibre(f"fibre_{side}", sim=sim, params=fibre_params)
        emitter.ports["out"].connect(fibre.ports["send"])
        fibre.ports["recv"].connect(station.ports[side])
        emitters.append(emitter)
    trials = int(3_000 * validation_scale)
    period = 1_000.0

    def drive(sim: Simulation):
        for i in range(trials):
            for emitter in emitters:
                emitter.fire(i)
            yield sim.timeout(period)

    sim.process(drive(sim))
    sim.run()
    assert len(collector.heralds) == trials  # one herald message per attempt
    assert all((h.meta["time_ns"] - 25_000.0) % period == 0.0 for h in collector.heralds)
    eta = fibre_transmission(fibre_params)
    p = herald_success_probability(eta_a=eta, eta_b=eta, bsm=bsm)
    successes = [h for h in collector.heralds if h.meta["outcome"] != "failure"]
    _check_rate(len(successes), trials, p)
    for h in successes:
        assert h.meta["attempt"] is not None


def test_unpaired_photon_times_out_as_single_attempt() -> None:
    sim = Simulation(seed=3)
    station = BsmStation("bsm", sim=sim, params=BsmParams(detector=NO_DARK, coincidence_window_ns=5.0))
    collector = _Collector("col", sim=sim)
    station.ports["herald"].connect(collector.ports["in"])
    memory, photon = _emit("double_click", 0.1, 1.0)
    station.ports["a"].tx_input(Message((photon,), {"memory_qubit": memory}))
    sim.run()
    assert len(collector.heralds) == 1 and collector.heralds[0].meta["outcome"] == "failure"
    assert collector.heralds[0].meta["time_ns"] == 5.0


@pytest.mark.parametrize(
    ("field", "value"),
    [("visibility", 1.1), ("visibility", -0.1), ("bright_state_alpha", 0.0),
     ("bright_state_alpha", 1.0), ("coincidence_window_ns", 0.0), ("scheme", "triple_click")],
)
def test_bad_parameters(field: str, value) -> None:
    with pytest.raises(UserInputError) as info:
        BsmParams(**{field: value})
    assert field in str(info.value)


def test_bad_nested_detector_and_efficiency_arguments() -> None:
    with pytest.raises(UserInputError, match="efficiency"):
        BsmParams(detector={"efficiency": 1.5})
    with pytest.raises(UserInputError, match="eta_a"):
        double_click_success_probability(eta_a=1.5, eta_b=0.5, bsm=BsmParams())
    with pytest.raises(UserInputError, match="emission_fidelity"):
        double_click_fidelity(eta_a=0.5, eta_b=0.5, bsm=BsmParams(), emission_fidelity_a=0.1)


@pytest.mark.parametrize(("delay_ns", "outcomes", "times_ns"),
                         [(6.0, ["failure", "failure"], [5.0, 11.0]), (4.0, None, [4.0])])
def test_photons_outside_the_coincidence_window_are_separate_attempts(delay_ns, outcomes, times_ns):
    # b arrives 6 ns after a with a 5 ns window: two one-photon attempts (both fail, no dark
    # counts); 4 ns after a: one two-photon attempt
    sim = Simulation(seed=4)
    station = BsmStation("bsm", sim=sim, params=BsmParams(detector=NO_DARK, coincidence_window_ns=5.0))
    collector = _Collector("col", sim=sim)
    station.ports["herald"].connect(collector.ports["in"])
    (ma, pa), (mb, pb) = _emit("double_click", 0.1, 1.0), _emit("double_click", 0.1, 1.0)

    def drive(sim):
        station.ports["a"].tx_input(Message((pa,), {"memory_qubit": ma}))
        yield sim.timeout(delay_ns)
        station.ports["b"].tx_input(Message((pb,), {"memory_qubit": mb}))

    sim.process(drive(sim))
    sim.run()
    assert station.attempts == len(times_ns)
    assert [h.meta["time_ns"] for h in collector.heralds] == times_ns
    if outcomes is not None:
        assert [h.meta["outcome"] for h in collector.heralds] == outcomes
