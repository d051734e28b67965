"""Detector: click probabilities with dark counts (threshold and PNR), dead time, ports,
bad parameters. Statistical tolerances: 5 binomial standard errors, fixed seeds."""

from __future__ import annotations

import math

import pytest

from hardware_models.detector import (
    Detector,
    DetectorParams,
    blind_windows,
    click_probability,
    dark_count_mean,
    dark_count_probability,
    one_count_probability,
    registered_click_fraction,
    zero_count_probability,
)
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import create_qubits
from modenhub_net.simulation import Simulation

K = 5.0


def _within(successes: int, trials: int, p: float) -> bool:
    return abs(successes - trials * p) <= K * math.sqrt(trials * p * (1 - p)) + 1e-9


def test_dark_count_probability_closed_form() -> None:
    p = DetectorParams(dark_count_rate_hz=1.0e6, window_ns=100.0)
    assert dark_count_mean(p) == pytest.approx(0.1)
    assert dark_count_probability(p) == pytest.approx(1 - math.exp(-0.1))


def test_click_probability_closed_form() -> None:
    p = DetectorParams(efficiency=0.6, dark_count_rate_hz=1.0e6, window_ns=100.0)
    d = 1 - math.exp(-0.1)
    for n in range(4):
        assert click_probability(n, p) == pytest.approx(1 - 0.4**n * (1 - d))
    with pytest.raises(UserInputError):
        click_probability(-1, p)


@pytest.mark.parametrize("n_photons", [0, 1, 2, 3])
@pytest.mark.parametrize("number_resolving", [False, True])
@pytest.mark.parametrize("statistics", ["poisson", "at_most_one"])
def test_simulated_click_frequency_matches_closed_form(
    n_photons: int, number_resolving: bool, statistics: str, validation_scale: float
) -> None:
    params = DetectorParams(
        efficiency=0.55,
        dark_count_rate_hz=5.0e6,
        window_ns=100.0,
        number_resolving=number_resolving,
        dead_time_ns=0.0,
        dark_count_statistics=statistics,
    )
    detector = Detector("det", sim=Simulation(seed=10 + n_photons), params=params)
    trials = int(40_000 * validation_scale)
    clicks = ones = 0
    for i in range(trials):
        counts = detector.detect(n_photons, now_ns=float(i))
        clicks += counts > 0
        ones += counts == 1
    assert _within(clicks, trials, click_probability(n_photons, params))
    if number_resolving:
        # exactly one count: O(k) averaged over Binomial(n, eta) registered photons
        eta = params.efficiency
        p_one = sum(
            math.comb(n_photons, k) * eta**k * (1 - eta) ** (n_photons - k) * one_count_probability(k, params)
            for k in range(n_photons + 1)
        )
        assert _within(ones, trials, p_one)


def test_at_most_one_dark_count_closed_forms() -> None:
    """At most one dark count per window with probability p_dc = 1 - exp(-R tau): a threshold
    detector is unchanged; a PNR detector reports "one" with p_dc (no photon), 1 - p_dc (one
    photon) and never for two; the Poisson model differs by the O(lambda^2) double dark
    counts."""
    base = {"dark_count_rate_hz": 3.0e6, "window_ns": 100.0}
    lam = 0.3
    p_dc = 1 - math.exp(-lam)
    for pnr in (False, True):
        pois = DetectorParams(number_resolving=pnr, **base)
        one = DetectorParams(number_resolving=pnr, dark_count_statistics="at_most_one", **base)
        for n in range(4):
            assert click_probability(n, one) == pytest.approx(click_probability(n, pois))
        assert zero_count_probability(0, one) == pytest.approx(1 - p_dc)
    pnr = DetectorParams(number_resolving=True, dark_count_statistics="at_most_one", **base)
    assert [one_count_probability(k, pnr) for k in range(3)] == pytest.approx([p_dc, 1 - p_dc, 0])
    pois = DetectorParams(number_resolving=True, **base)
    assert [one_count_probability(k, pois) for k in range(3)] == pytest.approx(
        [lam * math.exp(-lam), math.exp(-lam), 0])


def test_zero_and_one_count_functions() -> None:
    thr = DetectorParams(dark_count_rate_hz=1e6, window_ns=10.0)
    d = dark_count_probability(thr)
    assert zero_count_probability(0, thr) == pytest.approx(1 - d)
    assert zero_count_probability(2, thr) == 0.0
    assert one_count_probability(0, thr) == pytest.approx(d)
    assert one_count_probability(3, thr) == 1.0
    pnr = thr.model_copy(update={"number_resolving": True})
    lam = dark_count_mean(pnr)
    assert one_count_probability(1, pnr) == pytest.approx(math.exp(-lam))
    assert one_count_probability(2, pnr) == 0.0


def test_dead_time_blocks_clicks_at_renewal_rate(validation_scale: float) -> None:
    period, dead = 10.0, 35.0  # three blind windows after each registered click
    params = DetectorParams(efficiency=0.3, dark_count_rate_hz=0.0, dead_time_ns=dead)
    detector = Detector("det", sim=Simulation(seed=21), params=params)
    trials = int(60_000 * validation_scale)
    registered = sum(detector.detect(1, now_ns=i * period) > 0 for i in range(trials))
    expected = registered_click_fraction(0.3, period, params)
    assert expected == pytest.approx(0.3 / (1 + 3 * 0.3))
    assert _within(registered, trials, expected)


def _renewal_se(trials: int, p: float, m: int) -> float:
    """Standard error of the registered-click count in ``trials`` windows: a renewal process
    with cycle ``m + Y``, ``Y ~ Geometric(p)``, so Var(count) ~ n Var(C) / E[C]^3 (Cox,
    *Renewal Theory*, 1962, §6.2) with ``E[C] = m + 1/p``, ``Var C = (1-p)/p^2``; ``m = 0``
    gives the binomial ``n p (1-p)``."""
    mean_c = m + 1 / p
    return math.sqrt(trials * (1 - p) / p**2 / mean_c**3)


@pytest.mark.parametrize(
    ("eta", "n_photons", "dark_hz", "period", "dead", "statistics"),
    [(0.3, 1, 0.0, 10.0, 35.0, "poisson"),     # m = 3
     (0.6, 2, 2.0e6, 10.0, 30.0, "poisson"),   # integer ratio: m = 2
     (0.5, 1, 5.0e6, 7.0, 40.0, "at_most_one"),  # m = 5, dark counts
     (0.8, 0, 2.0e7, 25.0, 10.0, "poisson"),   # dead time shorter than the period: m = 0
     (0.4, 3, 1.0e6, 0.1, 0.3, "poisson")],    # 0.3 / 0.1 is 2.9999999999999996 in floats
)
def test_dead_time_component_against_renewal_closed_form(
    eta, n_photons, dark_hz, period, dead, statistics, validation_scale
) -> None:
    params = DetectorParams(efficiency=eta, dark_count_rate_hz=dark_hz, window_ns=5.0,
                            dead_time_ns=dead, dark_count_statistics=statistics)
    detector = Detector("det", sim=Simulation(seed=int(dead * 10) + n_photons), params=params)
    trials = int(50_000 * validation_scale)
    registered = sum(detector.detect(n_photons, now_ns=i * period) > 0 for i in range(trials))
    p = click_probability(n_photons, params)
    m = blind_windows(period, params)
    assert m == sum(1 for k in range(1, 100) if k * period < dead)
    expected = registered_click_fraction(p, period, params)
    assert expected == pytest.approx(p / (1 + m * p))
    assert abs(registered - trials * expected) <= K * _renewal_se(trials, p, m)
    assert detector.n_clicks == registered
    assert detector.n_windows == trials
    # every window that would have clicked is either registered or missed for dead time
    would = registered + detector.n_dead_time_misses
    assert abs(would - trials * p) <= K * math.sqrt(trials * p * (1 - p))


def test_dead_time_through_the_port_in_simulated_time(validation_scale: float) -> None:
    """A periodic photon train arriving at port ``in`` in simulated time: the component's
    registered clicks follow the renewal closed form."""
    params = DetectorParams(efficiency=0.7, dark_count_rate_hz=1.0e6, window_ns=10.0,
                            dead_time_ns=45.0)
    sim = Simulation(seed=12)
    detector = Detector("det", sim=sim, params=params)
    sink = Sink("sink", sim=sim)
    detector.ports["click"].connect(sink.ports["in"])
    trials, period = int(30_000 * validation_scale), 20.0

    def train():
        for _ in range(trials):
            detector.ports["in"].tx_input(Message(tuple(create_qubits(1))))
            yield sim.timeout(period)

    sim.process(train())
    sim.run()
    registered = sum(bool(m.items[0]) for m in sink.received)
    dead = sum(bool(m.meta.get("dead")) for m in sink.received)
    p = click_probability(1, params)
    assert abs(registered - trials * registered_click_fraction(p, period, params)) <= (
        K * _renewal_se(trials, p, 2))
    assert dead == detector.n_dead_time_misses > 0


def test_dead_time_deterministic_case() -> None:
    params = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=25.0)
    detector = Detector("det", sim=Simulation(seed=1), params=params)
    got = [detector.detect(1, now_ns=t) > 0 for t in (0.0, 10.0, 24.9, 25.0, 30.0, 60.0)]
    assert got == [True, False, False, True, False, True]


class Sink(Component):
    def __init__(self, name: str, *, sim: Simulation) -> None:
        super().__init__(name, sim=sim, port_names=("in",))
        self.received: list[Message] = []
        self.ports["in"].bind_input_handler(self.received.append)


def test_component_ports_absorb_photons_and_report_clicks() -> None:
    sim = Simulation(seed=2)
    params = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=0.0,
                            number_resolving=True)
    detector = Detector("det", sim=sim, params=params)
    sink = Sink("sink", sim=sim)
    detector.ports["click"].connect(sink.ports["in"])
    photons = create_qubits(2)
    detector.ports["in"].tx_input(Message((photons[0], None, photons[1])))
    detector.ports["in"].tx_input(Message((None,)))
    assert [m.items[0] for m in sink.received] == [True, False]
    assert sink.received[0].meta["counts"] == 2
    assert all(q.state is None for q in photons)


@pytest.mark.parametrize(
    ("field", "value"),
    [("efficiency", 1.2), ("efficiency", -0.1), ("dark_count_rate_hz", -1.0), ("window_ns", 0.0),
     ("dead_time_ns", -5.0), ("dark_count_statistics", "geometric"), ("efficiency", True),
     ("dark_count_rate_hz", float("inf")), ("window_ns", "10")],
)
def test_bad_parameters(field: str, value: float) -> None:
    with pytest.raises(UserInputError) as info:
        DetectorParams(**{field: value})
    assert field in str(info.value) and repr(value) in str(info.value)


def test_registered_fraction_rejects_bad_period() -> None:
    for bad in (0.0, -1.0, math.inf, math.nan, True):
        with pytest.raises(UserInputError, match="period_ns"):
            registered_click_fraction(0.5, bad, DetectorParams())
    with pytest.raises(UserInputError, match="click_prob"):
        registered_click_fraction(1.5, 10.0, DetectorParams())


def test_presence_encoded_photons_are_measured(validation_scale: float) -> None:
    # photon-number qubits in sqrt(1-p)|0> + sqrt(p)|1>: the detector sees a photon with
    # probability p, so it clicks with eta p + (1 - eta p) p_dc; measuring collapses the partner
    import numpy as np

    from modenhub_net.qubits import assign_state, reduced_dm

    p, eta = 0.3, 0.8
    params = DetectorParams(efficiency=eta, dark_count_rate_hz=1.0e6, window_ns=100.0,
                            dead_time_ns=0.0)
    sim = Simulation(seed=8)
    detector = Detector("det", sim=sim, params=params)
    sink = Sink("sink", sim=sim)
    detector.ports["click"].connect(sink.ports["in"])
    trials = int(20_000 * validation_scale)
    partners_one = 0
    for _ in range(trials):
        partner, photon = create_qubits(2)
        assign_state([partner, photon], np.array([math.sqrt(1 - p), 0, 0, math.sqrt(p)]))
        detector.ports["in"].tx_input(Message((photon,), {"encoding": "presence"}))
        partners_one += reduced_dm([partner])[1, 1].real > 0.5  # collapsed to |0> or |1>
    clicks = sum(m.items[0] for m in sink.received)
    d = dark_count_probability(params)
    assert _within(clicks, trials, eta * p + (1 - eta * p) * d)
    assert _within(partners_one, trials, p)
