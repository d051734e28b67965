"""Link budgets: closed forms against event-by-event simulations of the same path built from
the device components (success frequency within 5 SE, mean fidelity of the actual heralded
states within 5 SE), attempt periods, presets, bad arguments."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from hardware_models.bsm import BsmParams, BsmStation
from hardware_models.detector import Detector, DetectorParams
from hardware_models.fibre import Fibre, FibreParams, fibre_delay_ns, fibre_transmission
from hardware_models.link_budget import LinkBudget, detection_in_hub_budget, source_in_hub_budget
from hardware_models.memory import MemoryParams, QuantumMemory
from hardware_models.qpu import QpuParams
from hardware_models.spdc import BELL_INDEX, SpdcParams, SpdcSource
from hardware_models.switch import OpticalSwitch, SwitchParams, switch_transmission
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import (
    amplitude_damp,
    assign_state,
    bell_state,
    create_qubits,
    depolarise,
    discard,
    fidelity,
    lose,
)
from modenhub_net.simulation import Simulation

K = 5.0


def _check_rate(successes: int, trials: int, p: float) -> None:
    assert abs(successes - trials * p) <= K * math.sqrt(trials * p * (1 - p))


def _check_mean(values: np.ndarray, expected: float) -> None:
    se = values.std(ddof=1) / math.sqrt(len(values))
    assert abs(values.mean() - expected) <= K * se + 1e-12


# -- source in hub ---------------------------------------------------------------------------
class _StoringQpu(Component):
    """Heralded storage: absorb each arriving photon with ``write``, keep one at random
    (single-excitation memory), announce it with a herald photon on a :class:`Detector`."""

    def __init__(self, name: str, *, sim: Simulation, write: float, detector: DetectorParams):
        super().__init__(name, sim=sim, port_names=("in",))
        self.write = write
        self.detector = Detector("herald_det", sim=sim, params=detector)
        self.add_subcomponent(self.detector)
        self.results: dict[int, tuple[object, bool]] = {}
        self.ports["in"].bind_input_handler(self._on_photons)

    def _on_photons(self, message: Message) -> None:
        rng = self.rng
        absorbed = [q for q in message.items if q is not None and rng.random() < self.write]
        stored = absorbed[int(rng.integers(len(absorbed)))] if absorbed else None
        for q in message.items:
            if q is not None and q is not stored:
                discard(q)
        clicked = self.detector.detect(1 if stored is not None else 0) > 0
        self.results[message.meta["pulse"]] = (stored, clicked)


@pytest.mark.parametrize(
    ("mu", "bell", "dark_hz", "lengths", "depolar"),
    [(0.3, "Psi+", 0.0, (2.0, 5.0), 0.0), (0.5, "Phi+", 3.0e6, (1.0, 1.0), 0.0),
     (0.1, "Psi+", 0.0, (3.0, 6.0), 0.03)],
)
def test_source_in_hub_budget_matches_event_simulation(mu, bell, dark_hz, lengths, depolar,
                                                       validation_scale):
    source = SpdcParams(mu=mu, bell_state=bell, repetition_rate_hz=1e6, coupling_efficiency_a=0.9,
                        coupling_efficiency_b=0.8)
    # depolar > 0: the Fibre components depolarise the photons (polarisation noise)
    fibre_a, fibre_b = (FibreParams(length_km=length, depolar_rate_per_km=depolar) for length in lengths)
    det = DetectorParams(efficiency=0.85, dark_count_rate_hz=dark_hz, window_ns=100.0)
    # the path source -> switch -> fibre -> memory, with the switch component itself
    # (8 ports, 3 stages of 0.3 dB + 0.1 dB fixed; circuits 0-1 and 2-3, 500 ns to configure)
    switch_params = SwitchParams(architecture="multistage", loss_per_stage_db=0.3,
                                 fixed_loss_db=0.1, reconfiguration_time_ns=500.0)
    switch = switch_transmission(switch_params, 8)
    write_a, write_b = 0.9, 0.7
    budget = source_in_hub_budget(source=source, fibre_a=fibre_a, fibre_b=fibre_b,
                                  switch_transmission=switch, write_efficiency_a=write_a,
                                  write_efficiency_b=write_b, detector=det)

    sim = Simulation(seed=41)
    spdc = SpdcSource("spdc", sim=sim, params=source)
    optical_switch = OpticalSwitch("switch", sim=sim, params=switch_params, n_ports=8)
    qpus, circuits = [], []
    for i, (side, fibre_params, write) in enumerate((("a", fibre_a, write_a), ("b", fibre_b, write_b))):
        fibre = Fibre(f"fibre_{side}", sim=sim, params=fibre_params)
        qpu = _StoringQpu(f"qpu_{side}", sim=sim, write=write, detector=det)
        spdc.ports[side].connect(optical_switch.ports[f"p{2 * i}"])
        optical_switch.ports[f"p{2 * i + 1}"].connect(fibre.ports["send"])
        fibre.ports["recv"].connect(qpu.ports["in"])
        qpus.append(qpu)
        circuits.append(optical_switch.connect(2 * i, 2 * i + 1).circuit)
    pulses = int(30_000 * validation_scale)

    def start_when_configured(sim: Simulation):
        for circuit in circuits:
            yield circuit.ready_event
        assert sim.now_ns == 500.0
        yield from spdc.pulse_train(pulses)

    sim.process(start_when_configured(sim))
    sim.run()
    assert sum(optical_switch.drop_reasons.values()) == 0
    successes, fids = 0, []
    target = bell_state(BELL_INDEX[bell])
    for pulse in range(pulses):
        (qa, ha), (qb, hb) = qpus[0].results[pulse], qpus[1].results[pulse]
        if ha and hb:
            successes += 1
            fids.append(fidelity([qa, qb], target) if qa is not None and qb is not None else 0.25)
    _check_rate(successes, pulses, budget.p_success)
    _check_mean(np.array(fids), budget.fidelity)
    assert budget.target == bell and budget.scheme == "source_in_hub"
    assert budget.transmissions["arm_a"] == pytest.approx(
        0.9 * switch * write_a * fibre_transmission(fibre_a)
    )


def test_source_in_hub_attempt_period() -> None:
    source = SpdcParams(repetition_rate_hz=1e8)
    det = DetectorParams(window_ns=20.0)
    budget = source_in_hub_budget(source=source, fibre_a=FibreParams(length_km=10.0),
                                  fibre_b=FibreParams(length_km=4.0), switch_transmission=1.0,
                                  write_efficiency_a=1.0, write_efficiency_b=1.0, detector=det,
                                  classical_processing_ns=100.0)
    assert budget.attempt_period_ns == pytest.approx(3 * 50_000.0 + 20.0 + 100.0)
    local = source_in_hub_budget(source=SpdcParams(repetition_rate_hz=1e3), fibre_a=FibreParams(),
                                 fibre_b=FibreParams(), switch_transmission=1.0,
                                 write_efficiency_a=1.0, write_efficiency_b=1.0, detector=det)
    assert local.attempt_period_ns == pytest.approx(1e6)  # the source period dominates
    assert local.rate_hz == pytest.approx(local.p_success * 1e3)


# -- detection in hub --------------------------------------------------------------------------
class _Emitter(Component):
    """A QPU communication qubit emitting one photon per attempt (spin–photon state of the
    scheme, emission efficiency as photon loss, emission fidelity as spin depolarisation)."""

    def __init__(self, name, *, sim, scheme, alpha, efficiency, emission_fidelity):
        super().__init__(name, sim=sim, port_names=("out",))
        self.scheme, self.alpha = scheme, alpha
        self.efficiency, self.emission_fidelity = efficiency, emission_fidelity

    def fire(self, attempt: int) -> None:
        memory, photon = create_qubits(2)
        meta = {"memory_qubit": memory, "attempt": attempt}
        if self.scheme == "double_click":
            assign_state([memory, photon], np.array([1, 0, 0, 1]) / math.sqrt(2))
        else:
            a = self.alpha
            assign_state([memory, photon], np.array([math.sqrt(1 - a), 0, 0, math.sqrt(a)]))
            meta["encoding"] = "presence"
        depolarise(memory, 4 * (1 - self.emission_fidelity) / 3)
        if self.scheme == "double_click":
            if self.rng.random() >= self.efficiency:
                lose(photon)
                photon = None
        else:
            amplitude_damp(photon, 1 - self.efficiency)
        self.ports["out"].tx_output(Message((photon,), meta))


class _Collector(Component):
    def __init__(self, name: str, *, sim: Simulation) -> None:
        super().__init__(name, sim=sim, port_names=("in",))
        self.heralds: list[Message] = []
        self.ports["in"].bind_input_handler(self.heralds.append)


@pytest.mark.parametrize(
    ("scheme", "visibility", "dark_hz", "number_resolving", "emission", "depolar"),
    [
        ("double_click", 0.9, 0.0, False, (0.8, 0.6), 0.0),
        ("double_click", 0.85, 2.0e6, False, (0.3, 0.4), 0.0),
        ("double_click", 0.95, 0.0, False, (0.7, 0.7), 0.04),  # fibre polarisation noise
        ("single_click", 0.9, 0.0, False, (0.5, 0.5), 0.0),
        ("single_click", 0.8, 1.0e6, True, (0.6, 0.3), 0.0),
    ],
)
def test_detection_in_hub_budget_matches_event_simulation(
    scheme, visibility, dark_hz, number_resolving, emission, depolar, validation_scale
) -> None:
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=dark_hz, window_ns=100.0,
                         number_resolving=number_resolving, dead_time_ns=0.0)
    bsm = BsmParams(scheme=scheme, visibility=visibility, bright_state_alpha=0.15, detector=det,
                    coincidence_window_ns=20.0)
    fibre_a = FibreParams(length_km=3.0, depolar_rate_per_km=depolar)
    fibre_b = FibreParams(length_km=5.0, depolar_rate_per_km=depolar)
    switch, fe = 0.9, (0.97, 0.93)
    budget = detection_in_hub_budget(
        fibre_a=fibre_a, fibre_b=fibre_b, switch_transmission=switch,
        emission_efficiency_a=emission[0], emission_efficiency_b=emission[1],
        emission_fidelity_a=fe[0], emission_fidelity_b=fe[1], bsm=bsm,
    )
    sim = Simulation(seed=53)
    station = BsmStation("bsm", sim=sim, params=bsm)
    collector = _Collector("collector", sim=sim)
    station.ports["herald"].connect(collector.ports["in"])
    emitters = []
    for i, (side, fibre_params) in enumerate((("a", fibre_a), ("b", fibre_b))):
        emitter = _Emitter(f"qpu_{side}", sim=sim, scheme=scheme, alpha=0.15,
                           efficiency=emission[i], emission_fidelity=fe[i])
        fibre = Fibre(f"fibre_{side}", sim=sim, params=fibre_params, extra_transmission=switch)
        emitter.ports["out"].connect(fibre.ports["send"])
        fibre.ports["recv"].connect(station.ports[side])
        emitters.append(emitter)
    # photons from the nearer QPU are emitted later so that both arrive together
    offset = fibre_delay_ns(fibre_b) - fibre_delay_ns(fibre_a)
    trials = int(8_000 * validation_scale)

    def drive(sim: Simulation):
        for i in range(trials):
            emitters[1].fire(i)
            yield sim.timeout(offset)
            emitters[0].fire(i)
            yield sim.timeout(budget.attempt_period_ns - offset)

    sim.process(drive(sim))
    sim.run()
    assert len(collector.heralds) == trials
    good = [h for h in collector.heralds if h.meta["outcome"] != "failure"]
    fids = np.array([fidelity(list(h.meta["memory_qubits"]), bell_state(h.meta["bell_index"]))
                     for h in good])
    _check_rate(len(good), trials, budget.p_success)
    _check_mean(fids, budget.fidelity)
    assert budget.scheme == "detection_in_hub" and budget.heralding == scheme
    assert budget.target == "Psi+"
    assert budget.attempt_period_ns == pytest.approx(2 * 25_000.0 + 100.0)


@pytest.mark.parametrize(
    ("scheme", "visibility", "dark_hz", "number_resolving"),
    [("double_click", 0.9, 2.0e6, False), ("single_click", 0.85, 1.0e6, True)],
)
def test_detection_in_hub_budget_with_memory_switch_fibre_and_station_components(
    scheme, visibility, dark_hz, number_resolving, validation_scale
) -> None:
    """The whole path built from the device components: QuantumMemory.emit (emission
    fidelity and collection efficiency) -> Fibre -> OpticalSwitch circuit -> BsmStation."""
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=dark_hz, window_ns=100.0,
                         number_resolving=number_resolving, dead_time_ns=0.0)
    alpha = 0.15
    bsm = BsmParams(scheme=scheme, visibility=visibility, bright_state_alpha=alpha, detector=det,
                    coincidence_window_ns=20.0)
    fibre_a, fibre_b = FibreParams(length_km=3.0), FibreParams(length_km=5.0)
    switch_params = SwitchParams(architecture="multistage", loss_per_stage_db=0.25,
                                 fixed_loss_db=0.2, reconfiguration_time_ns=2_000.0)
    n_ports = 16
    mem_params = (MemoryParams(emission_efficiency=0.7, emission_fidelity=0.96),
                  MemoryParams(emission_efficiency=0.5, emission_fidelity=0.92))
    budget = detection_in_hub_budget(
        fibre_a=fibre_a, fibre_b=fibre_b,
        switch_transmission=switch_transmission(switch_params, n_ports),
        emission_efficiency_a=mem_params[0].emission_efficiency,
        emission_efficiency_b=mem_params[1].emission_efficiency,
        emission_fidelity_a=mem_params[0].emission_fidelity,
        emission_fidelity_b=mem_params[1].emission_fidelity, bsm=bsm,
    )
    sim = Simulation(seed=59)
    station = BsmStation("bsm", sim=sim, params=bsm)
    optical_switch = OpticalSwitch("switch", sim=sim, params=switch_params, n_ports=n_ports)
    memories, circuits = [], []
    for i, (side, fibre_params) in enumerate((("a", fibre_a), ("b", fibre_b))):
        memory = QuantumMemory(f"qpu_{side}", sim=sim, params=mem_params[i], n_slots=1)
        fibre = Fibre(f"fibre_{side}", sim=sim, params=fibre_params)
        memory.ports["qout"].connect(fibre.ports["send"])
        fibre.ports["recv"].connect(optical_switch.ports[f"p{2 * i}"])
        optical_switch.ports[f"p{2 * i + 1}"].connect(station.ports[side])
        memories.append(memory)
        circuits.append(optical_switch.connect(2 * i, 2 * i + 1).circuit)
    heralds, fids = [], []

    def on_herald(message: Message) -> None:
        heralds.append(message)
        if message.meta["outcome"] != "failure":
            fids.append(fidelity(list(message.meta["memory_qubits"]),
                                 bell_state(message.meta["bell_index"])))
        for memory in memories:  # free the communication qubits for the next attempt
            memory.discard(0)

    collector = Component("collector", sim=sim, port_names=("in",))
    collector.ports["in"].bind_input_handler(on_herald)
    station.ports["herald"].connect(collector.ports["in"])
    offset = fibre_delay_ns(fibre_b) - fibre_delay_ns(fibre_a)
    trials = int(8_000 * validation_scale)
    emit_alpha = alpha if scheme == "single_click" else None

    def drive(sim: Simulation):
        for circuit in circuits:
            yield circuit.ready_event
        for _ in range(trials):
            memories[1].emit(0, send=True, bright_state_alpha=emit_alpha)
            yield sim.timeout(offset)
            memories[0].emit(0, send=True, bright_state_alpha=emit_alpha)
            yield sim.timeout(budget.attempt_period_ns - offset)

    sim.process(drive(sim))
    sim.run()
    assert len(heralds) == trials and sum(optical_switch.drop_reasons.values()) == 0
    assert heralds[0].meta["time_ns"] == pytest.approx(2_000.0 + fibre_delay_ns(fibre_b))
    _check_rate(len(fids), trials, budget.p_success)
    _check_mean(np.array(fids), budget.fidelity)


def test_detection_in_hub_attempt_period_override_and_presets() -> None:
    presets = pytest.importorskip("hardware_models.presets")
    for name in presets.available_presets():
        preset = presets.load_preset(name)
        fa = preset.fibre.model_copy(update={"length_km": 10.0})
        fb = preset.fibre.model_copy(update={"length_km": 20.0})
        budget = detection_in_hub_budget(
            fibre_a=fa, fibre_b=fb, switch_transmission=0.7,
            emission_efficiency_a=preset.memory.emission_efficiency,
            emission_efficiency_b=preset.memory.emission_efficiency,
            emission_fidelity_a=max(preset.memory.emission_fidelity, 0.25),
            emission_fidelity_b=max(preset.memory.emission_fidelity, 0.25),
            bsm=preset.bsm, attempt_period_ns=5_000.0,
        )
        assert budget.attempt_period_ns == 5_000.0
        assert 0.0 <= budget.p_success <= 0.5
        rho = budget.heralded_state
        assert np.trace(rho).real == pytest.approx(1.0) and np.linalg.eigvalsh(rho).min() > -1e-12
        stored = source_in_hub_budget(
            source=preset.source, fibre_a=fa, fibre_b=fb, switch_transmission=0.7,
            write_efficiency_a=preset.memory.write_efficiency,
            write_efficiency_b=preset.memory.write_efficiency, detector=preset.detector,
        )
        assert 0.25 <= stored.fidelity <= 1.0 and 0.0 <= stored.p_success <= 1.0


def test_budget_is_frozen() -> None:
    budget = source_in_hub_budget(source=SpdcParams(), fibre_a=FibreParams(), fibre_b=FibreParams(),
                                  switch_transmission=1.0, write_efficiency_a=1.0,
                                  write_efficiency_b=1.0, detector=DetectorParams())
    assert isinstance(budget, LinkBudget)
    with pytest.raises(dataclasses.FrozenInstanceError):
        budget.p_success = 1.0  # type: ignore[misc]


def test_bad_arguments() -> None:
    common = {"fibre_a": FibreParams(), "fibre_b": FibreParams()}
    with pytest.raises(UserInputError, match="switch_transmission"):
        source_in_hub_budget(source=SpdcParams(), **common, switch_transmission=1.5,
                             write_efficiency_a=1.0, write_efficiency_b=1.0, detector=DetectorParams())
    with pytest.raises(UserInputError, match="write_efficiency_a"):
        source_in_hub_budget(source=SpdcParams(), **common, switch_transmission=1.0,
                             write_efficiency_a=2.0, write_efficiency_b=1.0, detector=DetectorParams())
    kw = {"switch_transmission": 1.0, "emission_efficiency_a": 0.5, "emission_efficiency_b": 0.5,
          "emission_fidelity_a": 1.0, "emission_fidelity_b": 1.0, "bsm": BsmParams()}
    with pytest.raises(UserInputError, match="attempt_period_ns"):
        detection_in_hub_budget(**common, **kw, attempt_period_ns=0.0)
    with pytest.raises(UserInputError, match="emission_efficiency_b"):
        detection_in_hub_budget(**common, **{**kw, "emission_efficiency_b": -0.1})


def test_ideal_preset_budgets_against_closed_forms() -> None:
    """The ideal preset (everything perfect) reaches the textbook limits of both schemes."""
    from hardware_models.presets import load_preset
    from hardware_models.switch import switch_transmission as sw_eta

    ideal = load_preset("ideal")
    fibre = ideal.fibre.model_copy(update={"length_km": 20.0})
    eta_switch = sw_eta(ideal.switch, 64)
    assert eta_switch == 1.0 and fibre_transmission(fibre) == 1.0
    detection = detection_in_hub_budget(
        fibre_a=fibre, fibre_b=fibre, switch_transmission=eta_switch,
        emission_efficiency_a=ideal.memory.emission_efficiency,
        emission_efficiency_b=ideal.memory.emission_efficiency,
        emission_fidelity_a=ideal.memory.emission_fidelity,
        emission_fidelity_b=ideal.memory.emission_fidelity, bsm=ideal.bsm,
    )
    # linear-optics BSM: at most 1/2 (two of the four Bell states), perfect state
    assert detection.p_success == pytest.approx(0.5, rel=1e-12)
    assert detection.fidelity == pytest.approx(1.0, abs=1e-12)
    assert detection.attempt_period_ns == pytest.approx(2 * 100_000.0 + 1.0)
    common = dict(fibre_a=fibre, fibre_b=fibre, switch_transmission=eta_switch,
                  write_efficiency_a=ideal.memory.write_efficiency,
                  write_efficiency_b=ideal.memory.write_efficiency, detector=ideal.detector)
    mu = ideal.source.mu
    # one thermal mode: a herald whenever n >= 1 pairs, P = mu/(1+mu); the two
    # single-excitation memories keep photons of the same pair with probability 1/n, so
    # q = E[1/n | n >= 1] = ln(1+mu)/mu for thermal pairs and F = (1 + 3 q)/4
    thermal = source_in_hub_budget(
        source=ideal.source.model_copy(update={"pair_statistics": "thermal"}), **common)
    assert thermal.p_success == pytest.approx(mu / (1 + mu), rel=1e-9)
    assert thermal.fidelity == pytest.approx((1 + 3 * math.log1p(mu) / mu) / 4, rel=1e-9)
    # the preset's own statistics: two squeezed modes of mean mu/2 each, no pair at all with
    # probability (1 + mu/2)^-2, so P = 1 - (1 + mu/2)^-2; multi-pair noise is O(mu)
    stored = source_in_hub_budget(source=ideal.source, **common)
    if ideal.source.pair_statistics == "two_mode_thermal":
        assert stored.p_success == pytest.approx(1 - (1 + mu / 2) ** -2, rel=1e-9)
    assert 1 - 2 * mu <= stored.fidelity <= 1.0


def test_budget_takes_the_switch_model_and_its_port_count() -> None:
    fibre = FibreParams(length_km=10.0)
    sw = SwitchParams(architecture="multistage", loss_per_stage_db=0.5)
    bsm = BsmParams(detector=DetectorParams(dark_count_rate_hz=0.0))
    emit = {"emission_efficiency_a": 0.5, "emission_efficiency_b": 0.5,
            "emission_fidelity_a": 1.0, "emission_fidelity_b": 1.0, "bsm": bsm}
    probabilities = []
    for n in (2, 8, 128):
        by_model = detection_in_hub_budget(fibre_a=fibre, fibre_b=fibre, switch=sw, n_ports=n, **emit)
        by_value = detection_in_hub_budget(fibre_a=fibre, fibre_b=fibre,
                                           switch_transmission=switch_transmission(sw, n), **emit)
        assert by_model.p_success == by_value.p_success
        # P = eta_A eta_B eta_d^2 / 2 with eta = emission * fibre * 10^(-0.05 ceil(log2 N))
        eta = 0.5 * 10**-0.2 * 10 ** (-0.05 * math.ceil(math.log2(n))) * 0.9
        assert by_model.p_success == pytest.approx(eta * eta / 2, rel=1e-12)
        probabilities.append(by_model.p_success)
    assert probabilities[0] > probabilities[1] > probabilities[2]
    stored = source_in_hub_budget(source=SpdcParams(), fibre_a=fibre, fibre_b=fibre, switch=sw,
                                  n_ports=16, write_efficiency_a=1.0, write_efficiency_b=1.0,
                                  detector=DetectorParams())
    assert stored.transmissions["switch"] == pytest.approx(10 ** (-0.2))
    with pytest.raises(UserInputError, match="not both"):
        detection_in_hub_budget(fibre_a=fibre, fibre_b=fibre, switch=sw, n_ports=4,
                                switch_transmission=0.5, **emit)
    with pytest.raises(UserInputError, match="n_ports"):
        detection_in_hub_budget(fibre_a=fibre, fibre_b=fibre, switch=sw, **emit)
    with pytest.raises(UserInputError, match="switch_transmission"):
        detection_in_hub_budget(fibre_a=fibre, fibre_b=fibre, **emit)


# -- hub memory and swapping -------------------------------------------------------------------
def _werner(f: float) -> np.ndarray:
    ket = bell_state(0)
    proj = np.outer(ket, ket.conj())
    return f * proj + (1 - f) / 3 * (np.eye(4) - proj)


def _threshold_herald(eta_h: float, dark_hz: float, window_ns: float) -> tuple[float, float]:
    """Hand calculation: a threshold detector heralds with probability (yes, no photon)."""
    p_dc = 1 - math.exp(-dark_hz * window_ns * 1e-9)
    return eta_h + (1 - eta_h) * p_dc, p_dc


@pytest.mark.parametrize(
    ("emission", "write", "eta_h", "dark_hz", "fe", "length_km", "depolar"),
    [(0.3, 0.8, 0.9, 0.0, 0.95, 5.0, 0.0), (0.05, 0.6, 0.7, 2.0e5, 0.9, 20.0, 0.01),
     (1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0)],
)
def test_leg_budget_by_hand(emission, write, eta_h, dark_hz, fe, length_km, depolar) -> None:
    from hardware_models.link_budget import leg_budget

    det = DetectorParams(efficiency=eta_h, dark_count_rate_hz=dark_hz, window_ns=50.0,
                         dead_time_ns=0.0)
    fibre = FibreParams(length_km=length_km, loss_db=0.5, depolar_rate_per_km=depolar)
    leg = leg_budget(hub_memory=MemoryParams(emission_efficiency=emission, emission_fidelity=fe),
                     qpu_memory=MemoryParams(write_efficiency=write), fibre=fibre, detector=det,
                     switch_transmission=0.8)
    s = emission * 0.8 * 10 ** (-(0.2 * length_km + 0.5) / 10) * write
    yes, no = _threshold_herald(eta_h, dark_hz, 50.0)
    p = s * yes + (1 - s) * no
    assert leg.p_success == pytest.approx(p, rel=1e-12)
    # stored leg: spin-photon Werner(fe), photon depolarised by the fibre (Werner parameter
    # times exp(-rate L)); a dark-count herald leaves I/4
    w = (4 * fe - 1) / 3 * math.exp(-depolar * length_km)
    f_true = (1 + 3 * w) / 4
    x = s * yes / p
    assert leg.fidelity == pytest.approx(x * f_true + (1 - x) / 4, rel=1e-12)
    assert np.allclose(leg.heralded_state, _werner(leg.fidelity))
    if length_km == 0.0 and emission == 1.0:  # perfect emitter, memory, detector: only the
        # switch (0.8) and the connectors (0.5 dB) lose photons; every herald is a true one
        assert leg.p_success == pytest.approx(0.8 * 10**-0.05) and leg.fidelity == pytest.approx(1.0)


def _kron_all(*ops):
    out = np.array([[1.0 + 0j]])
    for op in ops:
        out = np.kron(out, op)
    return out


def _reference_swap(rho_a, rho_b, *, p1, p2, e, kraus_a=(), kraus_b=()):
    """Independent reference by explicit 4-qubit operators (order h1, A, h2, B): storage Kraus
    maps, CNOT(h1, h2) + 16-Pauli two-qubit depolarising, H(h1) + one-qubit depolarising,
    projective Z readout flipped with e, Pauli correction on B, averaged."""
    eye, x = np.eye(2), np.array([[0, 1], [1, 0]])
    y, z = np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])
    paulis = [eye, x, y, z]
    rho = np.kron(rho_a, rho_b)
    for qubit, kraus in list(kraus_a) + [(q + 2, k) for q, k in kraus_b]:
        ops = [_kron_all(*(k if i == qubit else eye for i in range(4))) for k in kraus]
        rho = sum(op @ rho @ op.conj().T for op in ops)
    p0, p1_ = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    cnot = _kron_all(p0, eye, eye, eye) + _kron_all(p1_, eye, x, eye)
    rho = cnot @ rho @ cnot.conj().T
    depol = [(1 - 15 * p2 / 16 if (i, j) == (0, 0) else p2 / 16, _kron_all(paulis[i], eye, paulis[j], eye))
             for i in range(4) for j in range(4)]
    rho = sum(w * op @ rho @ op.conj().T for w, op in depol)
    h = _kron_all(np.array([[1, 1], [1, -1]]) / math.sqrt(2), eye, eye, eye)
    rho = h @ rho @ h.conj().T
    d1 = [(1 - 3 * p1 / 4 if i == 0 else p1 / 4, _kron_all(paulis[i], eye, eye, eye)) for i in range(4)]
    rho = sum(w * op @ rho @ op.conj().T for w, op in d1)
    out = np.zeros((4, 4), dtype=complex)
    for m1 in (0, 1):
        for m2 in (0, 1):
            proj = _kron_all(np.diag([1.0 - m1, m1]), eye, np.diag([1.0 - m2, m2]), eye)
            post = proj @ rho @ proj
            t = post.reshape([2] * 8)
            ab = np.einsum("iajbicjd->abcd", t).reshape(4, 4)  # trace out h1, h2
            for r1 in (0, 1):
                for r2 in (0, 1):
                    w = (e if r1 != m1 else 1 - e) * (e if r2 != m2 else 1 - e)
                    corr = np.kron(eye, np.linalg.matrix_power(z, r1) @ np.linalg.matrix_power(x, r2))
                    out += w * corr @ ab @ corr.conj().T
    return out


def _t1t2_kraus(elapsed_ns: float, t1_ns: float, t2_ns: float):
    """Amplitude damping then pure dephasing, coherence exp(-t/T2) overall (Nielsen & Chuang §8.3)."""
    gamma = 1 - math.exp(-elapsed_ns / t1_ns)
    ad = [np.array([[1, 0], [0, math.sqrt(1 - gamma)]]), np.array([[0, math.sqrt(gamma)], [0, 0]])]
    lam = math.exp(-elapsed_ns / t2_ns) / math.sqrt(1 - gamma)  # remaining coherence factor
    pz = (1 - lam) / 2
    dp = [math.sqrt(1 - pz) * np.eye(2), math.sqrt(pz) * np.diag([1.0, -1.0])]
    return [b @ a for a in ad for b in dp]


@pytest.mark.parametrize(
    ("fa", "fb", "p1", "p2", "e"),
    [(1.0, 1.0, 0.0, 0.0, 0.0), (0.9, 0.8, 0.0, 0.0, 0.0), (0.95, 0.85, 0.02, 0.05, 0.03),
     (0.7, 0.99, 0.1, 0.0, 0.2)],
)
def test_swap_of_werner_legs_against_reference_and_closed_form(fa, fb, p1, p2, e) -> None:
    from hardware_models.link_budget import leg_budget, swap_bell_diagonal_fidelity, swapped_state
    from hardware_models.qpu import QpuParams

    hub_qpu = QpuParams(single_qubit_gate_depolar_prob=p1, two_qubit_gate_depolar_prob=p2,
                        measure_error_prob=e)
    ideal = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=0.0)
    legs = [leg_budget(hub_memory=MemoryParams(emission_fidelity=f), qpu_memory=MemoryParams(),
                       fibre=FibreParams(), detector=ideal, switch_transmission=1.0, hub_qpu=hub_qpu)
            for f in (fa, fb)]
    rho = swapped_state(*legs)
    reference = _reference_swap(_werner(fa), _werner(fb), p1=p1, p2=p2, e=e)
    assert np.allclose(rho, reference, atol=1e-12)
    f = float(np.real(bell_state(0).conj() @ rho @ bell_state(0)))
    assert f == pytest.approx(swap_bell_diagonal_fidelity(fa, fb, hub_qpu), abs=1e-12)
    if p1 == p2 == e == 0.0:  # ARCHITECTURE.md §3: F1 F2 + (1-F1)(1-F2)/3
        assert f == pytest.approx(fa * fb + (1 - fa) * (1 - fb) / 3, abs=1e-12)


def test_swapped_state_counts_storage_from_emission() -> None:
    """Hub qubits decohere for the whole wait since emission, QPU qubits from photon arrival
    (wait - flight); checked against explicit T1/T2 Kraus maps on the right qubits."""
    from hardware_models.link_budget import leg_budget, swapped_state

    hub_mem = MemoryParams(t1_ns=4.0e5, t2_ns=2.0e5, emission_fidelity=0.97)
    qpu_mems = (MemoryParams(t1_ns=1.0e6, t2_ns=1.5e5), MemoryParams(t2_ns=3.0e5))
    ideal = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=0.0)
    fibres = (FibreParams(length_km=4.0), FibreParams(length_km=10.0))  # 20 and 50 us
    legs = [leg_budget(hub_memory=hub_mem, qpu_memory=m, fibre=f, detector=ideal,
                       switch_transmission=1.0) for m, f in zip(qpu_mems, fibres, strict=True)]
    wait_a, wait_b = 80_000.0, 150_000.0
    rho = swapped_state(legs[0], legs[1], wait_a_ns=wait_a, wait_b_ns=wait_b)
    kraus_a = [(0, _t1t2_kraus(wait_a, 4.0e5, 2.0e5)), (1, _t1t2_kraus(wait_a - 20_000.0, 1.0e6, 1.5e5))]
    kraus_b = [(0, _t1t2_kraus(wait_b, 4.0e5, 2.0e5)), (1, _t1t2_kraus(wait_b - 50_000.0, math.inf, 3.0e5))]
    reference = _reference_swap(_werner(0.97), _werner(0.97), p1=0.0, p2=0.0, e=0.0,
                                kraus_a=kraus_a, kraus_b=kraus_b)
    assert np.allclose(rho, reference, atol=1e-12)
    # the default wait: both legs attempted together, swapped when the later herald is in
    default = swapped_state(*legs)
    later = max(2 * 20_000.0, 2 * 50_000.0) + ideal.window_ns
    assert np.allclose(default, swapped_state(legs[0], legs[1], wait_a_ns=later, wait_b_ns=later))
    with pytest.raises(UserInputError, match="wait_b_ns"):
        swapped_state(legs[0], legs[1], wait_a_ns=wait_a, wait_b_ns=10_000.0)  # before arrival


class _HeraldedStorage(Component):
    """A QPU storing the hub's photon in its QuantumMemory (write efficiency) and announcing it
    on its herald Detector."""

    def __init__(self, name, *, sim, memory: MemoryParams, detector: DetectorParams) -> None:
        super().__init__(name, sim=sim, port_names=("in",))
        self.memory = QuantumMemory(f"{name}_mem", sim=sim, params=memory, n_slots=1)
        self.detector = Detector(f"{name}_det", sim=sim, params=detector)
        self.add_subcomponent(self.memory)
        self.add_subcomponent(self.detector)
        self.heralded: dict[int, bool] = {}
        self.ports["in"].bind_input_handler(self._on_photon)

    def _on_photon(self, message: Message) -> None:
        photon = message.items[0]
        stored = photon is not None and self.memory.store(0, photon)
        clicked = self.detector.detect(1 if stored else 0) > 0
        self.heralded[message.meta["attempt"]] = clicked


@pytest.mark.parametrize(
    ("dark_hz", "gate_errors", "t2_ns", "depolar"),
    [(0.0, (0.0, 0.0, 0.0), math.inf, 0.0), (3.0e5, (0.01, 0.03, 0.02), 4.0e5, 0.005)],
)
def test_hub_memory_swap_budget_matches_event_simulation(
    dark_hz, gate_errors, t2_ns, depolar, validation_scale
) -> None:
    """Hub QPU (QuantumMemory emitter, bell_measure) -> Fibre (switch as extra transmission)
    -> QuantumMemory store + Detector herald at each QPU; swap when both heralds are in."""
    from hardware_models.link_budget import hub_memory_swap_budget, swapped_state
    from hardware_models.qpu import QPU, QpuParams

    p1, p2, e = gate_errors
    hub_qpu = QpuParams(n_comm_qubits=2, n_data_qubits=0, single_qubit_gate_depolar_prob=p1,
                        two_qubit_gate_depolar_prob=p2, measure_error_prob=e)
    hub_mem = MemoryParams(emission_efficiency=0.6, emission_fidelity=0.95, t2_ns=t2_ns)
    qpu_mems = (MemoryParams(write_efficiency=0.9, t2_ns=t2_ns), MemoryParams(write_efficiency=0.7))
    det = DetectorParams(efficiency=0.8, dark_count_rate_hz=dark_hz, window_ns=100.0, dead_time_ns=0.0)
    fibres = (FibreParams(length_km=2.0, depolar_rate_per_km=depolar),
              FibreParams(length_km=6.0, depolar_rate_per_km=depolar))
    switch = 0.85
    budget = hub_memory_swap_budget(hub_memory=hub_mem, hub_qpu=hub_qpu, memory_a=qpu_mems[0],
                                    memory_b=qpu_mems[1], fibre_a=fibres[0], fibre_b=fibres[1],
                                    detector=det, switch_transmission=switch)
    leg_a, leg_b = budget.legs
    sim = Simulation(seed=67)
    hub = QPU("hub", sim=sim, params=hub_qpu, memory=hub_mem)
    router = Component("router", sim=sim, port_names=("a", "b"))
    qpus = []
    for side, fibre_params, mem in zip("ab", fibres, qpu_mems, strict=True):
        fibre = Fibre(f"fibre_{side}", sim=sim, params=fibre_params, extra_transmission=switch)
        qpu = _HeraldedStorage(f"qpu_{side}", sim=sim, memory=mem, detector=det)
        router.ports[side].connect(fibre.ports["send"])
        fibre.ports["recv"].connect(qpu.ports["in"])
        qpus.append(qpu)
    trials = int(6_000 * validation_scale)
    wait = budget.attempt_period_ns  # swap when the later herald is in: 2 t_max + window
    x = np.array([[0, 1], [1, 0]])
    z = np.diag([1.0, -1.0])
    both, fids = 0, []

    def drive(sim: Simulation):
        nonlocal both
        for attempt in range(trials):
            for slot, side in enumerate("ab"):
                _, photon = hub.comm.emit(slot)
                router.ports[side].tx_output(Message((photon,), {"attempt": attempt}))
            yield sim.timeout(wait)
            if qpus[0].heralded[attempt] and qpus[1].heralded[attempt]:
                both += 1
                m = hub.bell_measure(("comm", 0), ("comm", 1)).outcome
                m1, m2 = m % 2, m // 2
                qa = qpus[0].memory.access(0) if qpus[0].memory.is_occupied(0) else None
                qb = qpus[1].memory.access(0) if qpus[1].memory.is_occupied(0) else None
                if qa is None or qb is None:  # a dark-count herald of an empty memory: I/4
                    fids.append(0.25)
                else:
                    from modenhub_net.qubits import operate

                    operate([qb], np.linalg.matrix_power(z, m1) @ np.linalg.matrix_power(x, m2))
                    fids.append(fidelity([qa, qb], bell_state(0)))
            else:
                for slot in (0, 1):
                    hub.comm.discard(slot)
            for qpu in qpus:
                if qpu.memory.is_occupied(0):
                    qpu.memory.discard(0)

    sim.process(drive(sim))
    sim.run()
    heralds_a = sum(qpus[0].heralded.values())
    heralds_b = sum(qpus[1].heralded.values())
    _check_rate(heralds_a, trials, leg_a.p_success)
    _check_rate(heralds_b, trials, leg_b.p_success)
    _check_rate(both, trials, budget.p_success)
    _check_mean(np.array(fids), budget.fidelity)
    assert budget.scheme == "hub_memory_swap" and budget.heralding == "storage"
    assert np.allclose(budget.heralded_state, swapped_state(leg_a, leg_b, wait_a_ns=wait, wait_b_ns=wait))


# -- attempt timing ----------------------------------------------------------------------------
def test_detection_in_hub_timing_components() -> None:
    """period = max(emitter + 2 t_max + window + processing, dead time); setup apart."""
    bsm = BsmParams(detector=DetectorParams(window_ns=30.0, dead_time_ns=50.0, dark_count_rate_hz=0.0),
                    coincidence_window_ns=20.0)
    fa, fb = FibreParams(length_km=1.0), FibreParams(length_km=3.0)  # 5 and 15 us
    sw = SwitchParams(reconfiguration_time_ns=1.0e6)
    kw = dict(fibre_a=fa, fibre_b=fb, switch=sw, n_ports=8, emission_efficiency_a=0.5,
              emission_efficiency_b=0.5, emission_fidelity_a=1.0, emission_fidelity_b=1.0, bsm=bsm)
    budget = detection_in_hub_budget(**kw, emitter_period_ns_a=2_000.0, emitter_period_ns_b=5_500.0,
                                     classical_processing_ns=300.0)
    t = budget.timing
    assert (t.emitter_ns, t.flight_ns, t.window_ns, t.processing_ns) == (5_500.0, 30_000.0, 30.0, 300.0)
    assert budget.attempt_period_ns == pytest.approx(5_500.0 + 2 * 15_000.0 + 30.0 + 300.0)
    assert budget.setup_ns == 1.0e6 and t.limited_by == "sequential"  # not in the period
    assert budget.rate_hz == pytest.approx(budget.p_success / (35_830.0e-9))
    # a dead time longer than the whole attempt sets the period
    slow = bsm.model_copy(update={"detector": bsm.detector.model_copy(update={"dead_time_ns": 1.0e5})})
    budget = detection_in_hub_budget(**{**kw, "bsm": slow})
    assert budget.attempt_period_ns == 1.0e5 and budget.timing.limited_by == "dead_time"
    # emitters alone (co-located QPUs, 0 km): the emitter time is the attempt
    local = detection_in_hub_budget(**{**kw, "fibre_a": FibreParams(), "fibre_b": FibreParams()},
                                    emitter_period_ns_a=4_000.0)
    assert local.attempt_period_ns == pytest.approx(4_000.0 + 30.0)
    with pytest.raises(UserInputError, match="emitter_period_ns_b"):
        detection_in_hub_budget(**kw, emitter_period_ns_b=-1.0)


def test_source_in_hub_timing_components() -> None:
    det = DetectorParams(window_ns=20.0, dead_time_ns=40.0)
    kw = dict(fibre_a=FibreParams(length_km=2.0), fibre_b=FibreParams(length_km=1.0),
              switch_transmission=1.0, write_efficiency_a=1.0, write_efficiency_b=1.0, detector=det)
    budget = source_in_hub_budget(source=SpdcParams(repetition_rate_hz=1e8), **kw,
                                  memory_preparation_ns_a=1_000.0, memory_preparation_ns_b=3_000.0)
    # preparation + photon out, herald in, confirmation back (3 x 10 us) + window
    assert budget.attempt_period_ns == pytest.approx(3_000.0 + 30_000.0 + 20.0)
    assert budget.timing.source_period_ns == pytest.approx(10.0) and budget.setup_ns == 0.0
    slow = source_in_hub_budget(source=SpdcParams(repetition_rate_hz=1e4), **kw)
    assert slow.attempt_period_ns == pytest.approx(1e5) and slow.timing.limited_by == "source"


def test_pair_link_budget_timing_from_preset_numbers() -> None:
    """The period of each scheme from a preset's own numbers, computed by hand."""
    from hardware_models.link_budget import preset_link_budget
    from hardware_models.presets import load_preset

    p = load_preset("near_term_nv")
    la, lb = 3.0, 7.0
    t_max = lb / p.fibre.speed_km_per_s * 1e9
    emitter = p.memory.emitter_initialisation_ns + p.memory.emitter_emission_ns + p.memory.emitter_reset_ns
    preparation = p.memory.emitter_initialisation_ns + p.memory.emitter_reset_ns
    det = preset_link_budget(p, "detection_in_hub", fibre_length_a_km=la, fibre_length_b_km=lb, n_ports=16)
    window = max(p.bsm.detector.window_ns, p.bsm.coincidence_window_ns)
    assert det.attempt_period_ns == pytest.approx(
        max(emitter + 2 * t_max + window, p.bsm.detector.dead_time_ns))
    assert det.setup_ns == p.switch.reconfiguration_time_ns and det.heralding == p.bsm.scheme
    src = preset_link_budget(p, "source_in_hub", fibre_length_a_km=la, fibre_length_b_km=lb, n_ports=16)
    assert src.attempt_period_ns == pytest.approx(max(
        preparation + 3 * t_max + p.detector.window_ns, 1e9 / p.source.repetition_rate_hz,
        p.detector.dead_time_ns))
    swap = preset_link_budget(p, "hub_memory_swap", fibre_length_a_km=la, fibre_length_b_km=lb, n_ports=16)
    assert swap.attempt_period_ns == pytest.approx(
        max(max(emitter, preparation) + 2 * t_max + p.detector.window_ns, p.detector.dead_time_ns))
    assert swap.timing.swap_ns == pytest.approx(
        p.qpu.two_qubit_gate_ns + p.qpu.single_qubit_gate_ns + p.qpu.measure_ns)
    for budget in (det, src, swap):
        assert budget.rate_hz == pytest.approx(budget.p_success / budget.attempt_period_ns * 1e9)


# -- limits ------------------------------------------------------------------------------------
def test_lossless_limits_of_every_scheme() -> None:
    from hardware_models.link_budget import hub_memory_swap_budget

    perfect = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=0.0)
    fibre = FibreParams(attenuation_db_per_km=0.0, length_km=10.0)
    common = dict(fibre_a=fibre, fibre_b=fibre, switch_transmission=1.0)
    emit = dict(emission_efficiency_a=1.0, emission_efficiency_b=1.0, emission_fidelity_a=1.0,
                emission_fidelity_b=1.0)
    # double click: a linear-optics BSM identifies 2 of the 4 Bell states, P = 1/2, F = 1
    dc = detection_in_hub_budget(**common, **emit, bsm=BsmParams(detector=perfect))
    assert dc.p_success == pytest.approx(0.5) and dc.fidelity == pytest.approx(1.0)
    # single click, V = 1, no loss: a herald whenever at least one emitter is bright (two
    # bright photons bunch into one detector): P = 1 - (1 - alpha)^2
    alpha = 0.2
    sc = detection_in_hub_budget(**common, **emit,
                                 bsm=BsmParams(scheme="single_click", bright_state_alpha=alpha,
                                               detector=perfect))
    assert sc.p_success == pytest.approx(1 - (1 - alpha) ** 2)
    # heralded state: |01>+|10> with weight 2 alpha(1-alpha), |11> with alpha^2 -> F = 2a(1-a)/P
    assert sc.fidelity == pytest.approx(2 * alpha * (1 - alpha) / (1 - (1 - alpha) ** 2))
    # hub memory swap: every leg heralded, perfect swap
    swap = hub_memory_swap_budget(hub_memory=MemoryParams(), hub_qpu=QpuParams(),
                                  memory_a=MemoryParams(), memory_b=MemoryParams(),
                                  detector=perfect, **common)
    assert swap.p_success == pytest.approx(1.0) and swap.fidelity == pytest.approx(1.0)
    # everything lost: no heralds without dark counts
    dark = detection_in_hub_budget(**common, **{**emit, "emission_efficiency_a": 0.0},
                                   bsm=BsmParams(detector=perfect))
    assert dark.p_success == 0.0


@pytest.mark.parametrize(("v", "fe_a", "fe_b", "depolar"), [(0.9, 0.95, 0.9, 0.0), (0.8, 1.0, 0.97, 0.02)])
def test_double_click_without_dark_counts_by_hand(v, fe_a, fe_b, depolar) -> None:
    """P = eta_A eta_B eta_d^2 / 2; F = w_A w_B (1+V)/2 + (1 - w_A w_B)/4 with w = (4F_e-1)/3
    times the fibre's exp(-rate L) (local depolarising scales the Bell-diagonal peak)."""
    det = DetectorParams(efficiency=0.85, dark_count_rate_hz=0.0)
    fa = FibreParams(length_km=4.0, depolar_rate_per_km=depolar)
    fb = FibreParams(length_km=9.0, depolar_rate_per_km=depolar)
    budget = detection_in_hub_budget(
        fibre_a=fa, fibre_b=fb, switch_transmission=0.7, emission_efficiency_a=0.4,
        emission_efficiency_b=0.3, emission_fidelity_a=fe_a, emission_fidelity_b=fe_b,
        bsm=BsmParams(visibility=v, detector=det))
    eta_a = 0.4 * 10 ** (-0.08) * 0.7 * 0.85
    eta_b = 0.3 * 10 ** (-0.18) * 0.7 * 0.85
    assert budget.p_success == pytest.approx(eta_a * eta_b / 2, rel=1e-12)
    w = (4 * fe_a - 1) / 3 * (4 * fe_b - 1) / 3 * math.exp(-depolar * 13.0)
    assert budget.fidelity == pytest.approx(w * (1 + v) / 2 + (1 - w) / 4, rel=1e-12)


# -- one entry point for the hub network -------------------------------------------------------
def test_pair_link_budget_is_the_scheme_functions() -> None:
    from hardware_models.link_budget import hub_memory_swap_budget, pair_link_budget

    mem_a = MemoryParams(emission_efficiency=0.3, emission_fidelity=0.9, write_efficiency=0.8,
                         emitter_initialisation_ns=2_000.0, emitter_emission_ns=100.0,
                         emitter_reset_ns=500.0)
    mem_b = MemoryParams(emission_efficiency=0.2, emission_fidelity=0.95, write_efficiency=0.6)
    fa, fb = FibreParams(length_km=2.0), FibreParams(length_km=5.0)
    sw = SwitchParams(architecture="multistage", loss_per_stage_db=0.4, reconfiguration_time_ns=5e4)
    det, bsm = DetectorParams(), BsmParams(scheme="single_click", bright_state_alpha=0.05)
    hub_mem, hub_qpu = MemoryParams(emission_efficiency=0.5), QpuParams(two_qubit_gate_depolar_prob=0.01)
    kw = dict(memory_a=mem_a, memory_b=mem_b, fibre_a=fa, fibre_b=fb, switch=sw, n_ports=32, bsm=bsm,
              source=SpdcParams(mu=0.05), detector=det, hub_memory=hub_mem, hub_qpu=hub_qpu,
              transduction_efficiency_a=0.5)
    det_budget = pair_link_budget("detection_in_hub", **kw)
    direct = detection_in_hub_budget(
        fibre_a=fa, fibre_b=fb, switch=sw, n_ports=32, bsm=bsm, emission_efficiency_a=0.15,
        emission_efficiency_b=0.2, emission_fidelity_a=0.9, emission_fidelity_b=0.95,
        emitter_period_ns_a=2_600.0)
    assert det_budget.p_success == direct.p_success and det_budget.fidelity == direct.fidelity
    assert det_budget.attempt_period_ns == direct.attempt_period_ns and det_budget.heralding == "single_click"
    dc = pair_link_budget("detection_in_hub", **kw, heralding="double_click")
    assert dc.heralding == "double_click" and dc.p_success < det_budget.p_success
    src = pair_link_budget("source_in_hub", **kw)
    assert src.p_success == source_in_hub_budget(
        source=SpdcParams(mu=0.05), fibre_a=fa, fibre_b=fb, switch=sw, n_ports=32,
        write_efficiency_a=0.4, write_efficiency_b=0.6, detector=det).p_success
    assert src.attempt_period_ns == pytest.approx(2_500.0 + 3 * 25_000.0 + det.window_ns)
    swap = pair_link_budget("hub_memory_swap", **kw)
    same = hub_memory_swap_budget(hub_memory=hub_mem, hub_qpu=hub_qpu, memory_a=mem_a, memory_b=mem_b,
                                  fibre_a=fa, fibre_b=fb, detector=det, switch=sw, n_ports=32,
                                  transduction_efficiency_a=0.5)
    assert swap.p_success == same.p_success and swap.fidelity == same.fidelity
    for budget in (det_budget, src, swap):
        assert budget.setup_ns == 5e4 and budget.transmissions
    with pytest.raises(UserInputError, match="scheme"):
        pair_link_budget("teleport", **kw)
    with pytest.raises(UserInputError, match="needs bsm"):
        pair_link_budget("detection_in_hub", **{**kw, "bsm": None})
    with pytest.raises(UserInputError, match="needs hub_memory"):
        pair_link_budget("hub_memory_swap", **{**kw, "hub_memory": None})
    with pytest.raises(UserInputError, match="heralding"):
        pair_link_budget("source_in_hub", **kw, heralding="single_click")
    with pytest.raises(UserInputError, match="transduction_efficiency_b"):
        pair_link_budget("source_in_hub", **{**kw, "transduction_efficiency_b": 0.0})


@pytest.mark.parametrize("scheme", ["source_in_hub", "detection_in_hub", "hub_memory_swap"])
def test_every_preset_gives_a_valid_budget_for_every_scheme(scheme) -> None:
    from hardware_models.link_budget import preset_link_budget
    from hardware_models.presets import available_presets

    for name in available_presets():
        budget = preset_link_budget(name, scheme, fibre_length_a_km=2.0, fibre_length_b_km=5.0,
                                    n_ports=16)
        rho = budget.heralded_state
        assert 0.0 <= budget.p_success <= 1.0 and budget.attempt_period_ns > 0.0
        assert np.trace(rho).real == pytest.approx(1.0) and np.linalg.eigvalsh(rho).min() > -1e-12
        assert budget.scheme == scheme and 0.0 <= budget.fidelity <= 1.0
