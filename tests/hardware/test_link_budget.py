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
    ("mu", "bell", "dark_hz", "lengths"),
    [(0.3, "Psi+", 0.0, (2.0, 5.0)), (0.5, "Phi+", 3.0e6, (1.0, 1.0))],
)
def test_source_in_hub_budget_matches_event_simulation(mu, bell, dark_hz, lengths, validation_scale):
    source = SpdcParams(mu=mu, bell_state=bell, repetition_rate_hz=1e6, coupling_efficiency_a=0.9,
                        coupling_efficiency_b=0.8)
    fibre_a, fibre_b = (FibreParams(length_km=length) for length in lengths)
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
    ("scheme", "visibility", "dark_hz", "number_resolving", "emission"),
    [
        ("double_click", 0.9, 0.0, False, (0.8, 0.6)),
        ("double_click", 0.85, 2.0e6, False, (0.3, 0.4)),
        ("single_click", 0.9, 0.0, False, (0.5, 0.5)),
        ("single_click", 0.8, 1.0e6, True, (0.6, 0.3)),
    ],
)
def test_detection_in_hub_budget_matches_event_simulation(
    scheme, visibility, dark_hz, number_resolving, emission, validation_scale
) -> None:
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=dark_hz, window_ns=100.0,
                         number_resolving=number_resolving, dead_time_ns=0.0)
    bsm = BsmParams(scheme=scheme, visibility=visibility, bright_state_alpha=0.15, detector=det,
                    coincidence_window_ns=20.0)
    fibre_a, fibre_b = FibreParams(length_km=3.0), FibreParams(length_km=5.0)
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
    stored = source_in_hub_budget(
        source=ideal.source, fibre_a=fibre, fibre_b=fibre, switch_transmission=eta_switch,
        write_efficiency_a=ideal.memory.write_efficiency,
        write_efficiency_b=ideal.memory.write_efficiency, detector=ideal.detector,
    )
    # lossless heralded storage: a herald whenever n >= 1 pairs, P = mu/(1+mu); the two
    # single-excitation memories keep photons of the same pair with probability 1/n, so
    # q = E[1/n | n >= 1] = ln(1+mu)/mu for thermal pairs and F = (1 + 3 q)/4
    mu = ideal.source.mu
    assert stored.p_success == pytest.approx(mu / (1 + mu), rel=1e-9)
    assert stored.fidelity == pytest.approx((1 + 3 * math.log1p(mu) / mu) / 4, rel=1e-9)


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
