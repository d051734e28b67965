"""Closed-form link budgets of the hub's three link schemes: success, heralded state, timing.

The single law of whole links (DESIGN.md §1, §4): each function follows one link path
through the device closed forms of :mod:`hardware_models` and returns a :class:`LinkBudget`;
the hub network's ``sampled`` link mode draws from these, and :func:`pair_link_budget` is the
one entry point that builds the budget of a QPU pair from the component parameters.

* :func:`source_in_hub_budget` — hub SPDC source -> switch -> fibre -> QPU memory
  (heralded storage, :func:`hardware_models.spdc.spdc_stored_state`).
* :func:`detection_in_hub_budget` — QPU emitter -> fibre -> switch -> hub BSM station
  (:mod:`hardware_models.bsm`, double or single click).
* :func:`hub_memory_swap_budget` — hub memory emitter -> switch -> fibre -> QPU memory
  (heralded storage of one leg per QPU), then a Bell measurement on the hub memory swaps the
  two legs (:func:`leg_budget`, :func:`swapped_state`).

Switch
------
The switch loss enters as a transmission per photon pass, given directly
(``switch_transmission``) or as the switch model itself (``switch=SwitchParams(...)``,
``n_ports=N``: ``hardware_models.switch.switch_transmission(switch, N)``, which grows with
``ceil(log2 N)`` for a multistage fabric); each photon passes the switch once. The switch's
reconfiguration time is a per-circuit set-up cost, paid once when a circuit is made, not per
attempt: it is reported as :attr:`AttemptTiming.setup_ns`, never added to the period.

Attempt timing
--------------
:class:`AttemptTiming` lists every contribution to one attempt (all in ns):

* ``emitter_ns`` — emitter initialisation + emission + reset
  (:func:`hardware_models.memory.emitter_attempt_period_ns`) of the slowest emitter, or the
  preparation (initialisation + reset, no emission) of a storing memory;
* ``flight_ns`` — fibre flight of the photon out and of the herald message back
  (:func:`hardware_models.fibre.fibre_delay_ns` of the longer fibre; DESIGN.md §3);
* ``window_ns`` — the detection window;
* ``processing_ns`` — classical processing of the herald;
* ``source_period_ns`` — the SPDC repetition period (a source cannot pulse faster);
* ``dead_time_ns`` — the longest dead time of the detectors used (a detector that clicked
  is blind that long, so an attempt cannot be shorter; Hadfield, Nat. Photon. 3, 696 (2009)).

An attempt is sequential (the emitter or memory is re-armed only once the herald has told
it that the attempt failed, as in the heralded links of Humphreys et al., Nature 558, 268
(2018), Methods, and Krutyanskiy et al., PRL 130, 213601 (2023)), so

``period = max(emitter_ns + flight_ns + window_ns + processing_ns, source_period_ns,
dead_time_ns)``

and ``rate_hz = p_success / period``. Parallel attempts (multiplexed modes, several
sources/stations/slots) are counted by the caller, not here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from hardware_models.bsm import BsmParams, herald_success_probability, heralded_state
from hardware_models.detector import DetectorParams, one_count_probability
from hardware_models.fibre import (
    FibreParams,
    fibre_delay_ns,
    fibre_depolar_probability,
    fibre_transmission,
)
from hardware_models.memory import MemoryParams, emitter_attempt_period_ns, memory_channel_params
from hardware_models.qpu import QpuParams
from hardware_models.spdc import (
    BELL_INDEX,
    SpdcParams,
    spdc_attempt_period_ns,
    spdc_stored_herald_probability,
    spdc_stored_state,
    werner_state,
)
from hardware_models.switch import SwitchParams
from hardware_models.switch import switch_transmission as switch_pass_transmission
from modenhub_net.errors import UserInputError, check_range

if TYPE_CHECKING:  # pragma: no cover - typing only
    from hardware_models.presets import HardwarePreset

__all__ = [
    "AttemptTiming",
    "LegBudget",
    "LinkBudget",
    "LINK_SCHEMES",
    "detection_in_hub_budget",
    "hub_memory_swap_budget",
    "leg_budget",
    "pair_link_budget",
    "preset_link_budget",
    "source_in_hub_budget",
    "swap_bell_diagonal_fidelity",
    "swapped_state",
]

#: The hub's link schemes (DESIGN.md §4).
LINK_SCHEMES: tuple[str, ...] = ("source_in_hub", "detection_in_hub", "hub_memory_swap")

LinkScheme = Literal["source_in_hub", "detection_in_hub", "hub_memory_swap"]
Heralding = Literal["double_click", "single_click"]


@dataclass(frozen=True)
class AttemptTiming:
    """What one attempt's duration is made of (all in ns, each >= 0; module docstring).

    Attributes
    ----------
    emitter_ns : float
        Emitter initialisation + emission + reset of the slowest emitter (or a storing
        memory's preparation, initialisation + reset).
    flight_ns : float
        Fibre flight of the photon out and the herald message(s) back.
    window_ns : float
        Detection window.
    processing_ns : float
        Classical processing of the herald.
    source_period_ns : float
        Repetition period of the SPDC source (0 if none).
    dead_time_ns : float
        Longest dead time of the detectors used.
    setup_ns : float
        Per-circuit set-up cost (switch reconfiguration), paid once per circuit and **not**
        part of :attr:`period_ns`.
    swap_ns : float
        Duration of the hub memory's Bell measurement (``hub_memory_swap``: two-qubit gate
        + one-qubit gate + measurement), paid once per swap and not part of
        :attr:`period_ns`; 0 for the other schemes.
    """

    emitter_ns: float
    flight_ns: float
    window_ns: float
    processing_ns: float = 0.0
    source_period_ns: float = 0.0
    dead_time_ns: float = 0.0
    setup_ns: float = 0.0
    swap_ns: float = 0.0

    @property
    def sequential_ns(self) -> float:
        """``emitter_ns + flight_ns + window_ns + processing_ns``: one attempt end to end."""
        return self.emitter_ns + self.flight_ns + self.window_ns + self.processing_ns

    @property
    def period_ns(self) -> float:
        """``max(sequential_ns, source_period_ns, dead_time_ns)``: the attempt period."""
        return max(self.sequential_ns, self.source_period_ns, self.dead_time_ns)

    @property
    def limited_by(self) -> str:
        """``"sequential"``, ``"source"`` or ``"dead_time"``: which term sets the period."""
        terms = {"sequential": self.sequential_ns, "source": self.source_period_ns,
                 "dead_time": self.dead_time_ns}
        return max(terms, key=terms.__getitem__)


@dataclass(frozen=True)
class LegBudget:
    """One leg of ``hub_memory_swap``: a hub memory qubit and a QPU memory qubit, heralded.

    Attributes
    ----------
    p_success : float
        Probability per attempt that the QPU heralds storage (dark-count heralds included).
    heralded_state : numpy.ndarray
        4x4 density matrix of (hub qubit, QPU qubit) right after storage (no memory noise
        yet), a Werner state about |Phi+>.
    fidelity : float
        Fidelity of :attr:`heralded_state` with |Phi+>.
    timing : AttemptTiming
        Timing of one leg attempt.
    flight_ns : float
        One-way photon flight hub -> QPU in ns (the QPU qubit is stored that long after the
        hub qubit was entangled, so it decoheres that much less).
    transmissions : dict of str to float
        Every factor of the leg's path.
    hub_memory, qpu_memory : MemoryParams
        Memory physics of the two qubits (storage noise in :func:`swapped_state`).
    hub_qpu : QpuParams
        Gates and readout of the hub memory's Bell measurement.
    """

    p_success: float
    heralded_state: np.ndarray = field(repr=False)
    fidelity: float
    timing: AttemptTiming
    flight_ns: float
    transmissions: dict[str, float]
    hub_memory: MemoryParams = field(repr=False)
    qpu_memory: MemoryParams = field(repr=False)
    hub_qpu: QpuParams = field(repr=False)

    @property
    def attempt_period_ns(self) -> float:
        """Attempt period of the leg in ns (:attr:`AttemptTiming.period_ns`)."""
        return self.timing.period_ns


@dataclass(frozen=True)
class LinkBudget:
    """Closed-form budget of one elementary link attempt between QPUs A and B.

    Attributes
    ----------
    p_success : float
        Probability that one attempt heralds a pair (false heralds from dark counts
        included), in [0, 1]. ``hub_memory_swap``: both legs heralded in the same attempt.
    attempt_period_ns : float
        Time per attempt in ns (:attr:`timing`; what it includes: module docstring).
    fidelity : float
        Fidelity of :attr:`heralded_state` to :attr:`target`.
    heralded_state : numpy.ndarray
        4x4 density matrix of the two remote qubits (order A, B) after a herald.
    transmissions : dict of str to float
        Every factor of the path (each in [0, 1]) and the per-arm totals.
    target : str
        Bell state the heralded state is compared with ("Psi+", "Phi+", ...). For the
        detection-in-hub schemes it is the state heralded by outcome "Psi+"; outcome
        "Psi-" gives the Z-conjugate state with the same fidelity.
    scheme : str
        Link scheme: "source_in_hub", "detection_in_hub" or "hub_memory_swap".
    heralding : str
        How an attempt is heralded: "double_click" or "single_click" (a BSM station in
        the hub) or "storage" (each QPU heralds the storage of its photon).
    timing : AttemptTiming or None
        The parts of the attempt period and the per-circuit set-up cost.
    legs : tuple of LegBudget, or None
        ``hub_memory_swap``: the two legs (A, B); None otherwise.
    """

    p_success: float
    attempt_period_ns: float
    fidelity: float
    heralded_state: np.ndarray = field(repr=False)
    transmissions: dict[str, float]
    target: str
    scheme: str
    heralding: str = "storage"
    timing: AttemptTiming | None = None
    legs: tuple[LegBudget, LegBudget] | None = None

    @property
    def rate_hz(self) -> float:
        """Heralded pairs per second of one attempt stream, ``p_success / attempt_period``."""
        return self.p_success / self.attempt_period_ns * 1e9

    @property
    def setup_ns(self) -> float:
        """Per-circuit set-up cost in ns (switch reconfiguration), 0 if unknown."""
        return self.timing.setup_ns if self.timing is not None else 0.0

    @property
    def bell_index(self) -> int:
        """Index of :attr:`target` (0 Phi+, 1 Phi-, 2 Psi+, 3 Psi-)."""
        return BELL_INDEX[self.target]


def _fidelity(rho: np.ndarray, bell_index: int) -> float:
    from modenhub_net.qubits import bell_state

    ket = bell_state(bell_index)
    return float(np.real(np.conj(ket) @ rho @ ket))


def _switch_pass(
    switch_transmission: float | None, switch: SwitchParams | None, n_ports: int | None
) -> tuple[float, float]:
    """``(transmission of one switch pass, reconfiguration time in ns)`` from either form."""
    if switch is None:
        if n_ports is not None:
            raise UserInputError("n_ports is given without switch; pass both or neither")
        if switch_transmission is None:
            raise UserInputError("give switch_transmission, or switch and n_ports")
        return check_range("switch_transmission", switch_transmission, low=0.0, high=1.0), 0.0
    if switch_transmission is not None:
        raise UserInputError("give either switch_transmission or switch (with n_ports), not both")
    if n_ports is None:
        raise UserInputError("switch is given without n_ports")
    return switch_pass_transmission(switch, n_ports), switch.reconfiguration_time_ns


def _check_time(name: str, value: float) -> float:
    return check_range(name, value, low=0.0, high=1e15)


def _depolarised_werner_fidelity(fidelity: float, *depolar_probabilities: float) -> float:
    """Werner fidelity after depolarising ``rho -> (1-p) rho + p I/2`` of its qubits.

    Local depolarising multiplies the Werner parameter ``w = (4F - 1)/3`` by ``1 - p``
    per qubit (Werner, PRA 40, 4277 (1989); the fibre's polarisation noise,
    :func:`hardware_models.fibre.fibre_depolar_probability`), so
    ``F' = (1 + 3 w prod(1 - p_i)) / 4``.
    """
    w = (4.0 * fidelity - 1.0) / 3.0
    for p in depolar_probabilities:
        w *= 1.0 - p
    return (1.0 + 3.0 * w) / 4.0


# -- source in hub -----------------------------------------------------------------------------
def source_in_hub_budget(
    *,
    source: SpdcParams,
    fibre_a: FibreParams,
    fibre_b: FibreParams,
    switch_transmission: float | None = None,
    write_efficiency_a: float,
    write_efficiency_b: float,
    detector: DetectorParams,
    classical_processing_ns: float = 0.0,
    memory_preparation_ns_a: float = 0.0,
    memory_preparation_ns_b: float = 0.0,
    switch: SwitchParams | None = None,
    n_ports: int | None = None,
) -> LinkBudget:
    """Budget of the source-in-hub link: SPDC in the hub, heralded storage at QPUs A and B.

    Physics: :func:`hardware_models.spdc.spdc_stored_state` (multi-pair emission, per-photon
    loss, single-excitation memories, herald detector with dark counts; Kalb et al., PRL 114,
    220501 (2015) for heralded storage), with per-arm transmission
    ``switch_transmission * fibre_transmission(fibre_x)`` after the source's coupling
    efficiency. Polarisation noise of the fibres (``depolar_rate_per_km``) multiplies the
    stored Werner state's parameter by ``1 - p`` per photon (:func:`_depolarised_werner_fidelity`).

    Attempt period (:class:`AttemptTiming`): ``emitter_ns`` = the longer memory preparation
    (``memory_preparation_ns_x``: the storing memory is initialised before and reset after
    an attempt), ``flight_ns = 3 t_max`` with ``t_max`` the longer fibre delay (the photon
    flies to the further QPU, its herald travels to the hub (orchestrator) and the hub's
    confirmation back to the further QPU: a memory cannot be re-armed before its attempt
    is resolved), the herald detector's window, ``classical_processing_ns``; at least the
    source's repetition period (:func:`hardware_models.spdc.spdc_attempt_period_ns`) and
    the herald detector's dead time.

    Parameters
    ----------
    source : SpdcParams
        Hub pair source (target state ``source.bell_state``).
    fibre_a, fibre_b : FibreParams
        Hub-to-QPU fibres.
    switch_transmission : float, optional
        Transmission of one switch pass, in [0, 1]; or give ``switch`` and ``n_ports``.
    write_efficiency_a, write_efficiency_b : float
        Per-photon absorption probability of the QPU memories, in [0, 1].
    detector : DetectorParams
        Each QPU's herald detector.
    classical_processing_ns : float, optional
        Fixed classical processing time per attempt in ns, >= 0 (default 0).
    memory_preparation_ns_a, memory_preparation_ns_b : float, optional
        Time in ns (>= 0, default 0) to prepare QPU A's (B's) storing memory for an attempt
        and reset it after a failure: ``emitter_initialisation_ns + emitter_reset_ns`` of
        its :class:`~hardware_models.memory.MemoryParams` (:func:`pair_link_budget` does
        this).
    switch, n_ports : SwitchParams and int, optional
        The hub switch and its port count, instead of ``switch_transmission``: the pass
        transmission is then :func:`hardware_models.switch.switch_transmission` and its
        reconfiguration time is :attr:`AttemptTiming.setup_ns`.
    """
    switch_eta, setup_ns = _switch_pass(switch_transmission, switch, n_ports)
    _check_time("classical_processing_ns", classical_processing_ns)
    _check_time("memory_preparation_ns_a", memory_preparation_ns_a)
    _check_time("memory_preparation_ns_b", memory_preparation_ns_b)
    ta, tb = fibre_transmission(fibre_a), fibre_transmission(fibre_b)
    eta_a, eta_b = switch_eta * ta, switch_eta * tb
    kwargs = dict(
        eta_a=eta_a,
        eta_b=eta_b,
        write_efficiency_a=write_efficiency_a,
        write_efficiency_b=write_efficiency_b,
        herald_detector=detector,
    )
    p = spdc_stored_herald_probability(source, **kwargs)
    rho = spdc_stored_state(source, **kwargs)
    dep_a, dep_b = fibre_depolar_probability(fibre_a), fibre_depolar_probability(fibre_b)
    if dep_a > 0.0 or dep_b > 0.0:
        f = _depolarised_werner_fidelity(_fidelity(rho, BELL_INDEX[source.bell_state]), dep_a, dep_b)
        rho = werner_state(f, BELL_INDEX[source.bell_state])
    t_max = max(fibre_delay_ns(fibre_a), fibre_delay_ns(fibre_b))
    timing = AttemptTiming(
        emitter_ns=max(memory_preparation_ns_a, memory_preparation_ns_b),
        flight_ns=3.0 * t_max,
        window_ns=detector.window_ns,
        processing_ns=classical_processing_ns,
        source_period_ns=spdc_attempt_period_ns(source),
        dead_time_ns=detector.dead_time_ns,
        setup_ns=setup_ns,
    )
    transmissions = {
        "coupling_a": source.coupling_efficiency_a,
        "coupling_b": source.coupling_efficiency_b,
        "switch": switch_eta,
        "fibre_a": ta,
        "fibre_b": tb,
        "write_a": write_efficiency_a,
        "write_b": write_efficiency_b,
        "herald_detector": detector.efficiency,
        "arm_a": source.coupling_efficiency_a * eta_a * write_efficiency_a,
        "arm_b": source.coupling_efficiency_b * eta_b * write_efficiency_b,
    }
    index = BELL_INDEX[source.bell_state]
    return LinkBudget(
        p_success=p,
        attempt_period_ns=timing.period_ns,
        fidelity=_fidelity(rho, index),
        heralded_state=rho,
        transmissions=transmissions,
        target=source.bell_state,
        scheme="source_in_hub",
        heralding="storage",
        timing=timing,
    )


# -- detection in hub --------------------------------------------------------------------------
def detection_in_hub_budget(
    *,
    fibre_a: FibreParams,
    fibre_b: FibreParams,
    switch_transmission: float | None = None,
    emission_efficiency_a: float,
    emission_efficiency_b: float,
    emission_fidelity_a: float,
    emission_fidelity_b: float,
    bsm: BsmParams,
    emitter_period_ns_a: float = 0.0,
    emitter_period_ns_b: float = 0.0,
    classical_processing_ns: float = 0.0,
    attempt_period_ns: float | None = None,
    switch: SwitchParams | None = None,
    n_ports: int | None = None,
) -> LinkBudget:
    """Budget of the detection-in-hub link: QPU emitters, BSM station in the hub.

    Physics: :mod:`hardware_models.bsm` (``bsm.scheme`` double click, Barrett & Kok, PRA 71,
    060310(R) (2005), or single click, Cabrillo et al., PRA 59, 1025 (1999)) with
    ``eta_x = emission_efficiency_x * fibre_transmission(fibre_x) * switch_transmission``
    and the station's detector efficiency and dark counts. Double click: the fibres'
    polarisation noise (``depolar_rate_per_km``) depolarises each photon, which acts on the
    heralded spins like a lower emission fidelity (a Werner spin–photon state is symmetric,
    :func:`_depolarised_werner_fidelity`); single click encodes in photon number, which
    polarisation noise does not change (the :class:`~hardware_models.Fibre` component only
    amplitude-damps a photon-number qubit; a polarisation mismatch of the two photons is part
    of ``bsm.visibility``).

    Attempt period (:class:`AttemptTiming`): ``emitter_ns`` = the slower emitter's
    initialisation + emission + reset (``emitter_period_ns_x``), ``flight_ns = 2 t_max``
    (photon flight from the further QPU to the hub and the herald back to it; the nearer
    QPU emits later so that the photons meet), the longer of the detector and coincidence
    windows, ``classical_processing_ns``; at least the station detectors' dead time.
    ``attempt_period_ns`` overrides the total.

    Parameters
    ----------
    fibre_a, fibre_b : FibreParams
        QPU-to-hub fibres.
    switch_transmission : float, optional
        Transmission of one switch pass, in [0, 1]; or give ``switch`` and ``n_ports``.
    emission_efficiency_a, emission_efficiency_b : float
        Probability in [0, 1] that an emitted photon enters the fibre (collection,
        frequency conversion, transduction).
    emission_fidelity_a, emission_fidelity_b : float
        Fidelity in [0.25, 1] of the spin–photon state (depolarising model, see
        :mod:`hardware_models.bsm`).
    bsm : BsmParams
        Hub BSM station.
    emitter_period_ns_a, emitter_period_ns_b : float, optional
        Emitter initialisation + emission + reset of QPU A (B) in ns, >= 0 (default 0;
        :func:`hardware_models.memory.emitter_attempt_period_ns`).
    classical_processing_ns : float, optional
        Classical processing of the herald in ns, >= 0 (default 0).
    attempt_period_ns : float, optional
        Override of the attempt period in ns (> 0).
    switch, n_ports : SwitchParams and int, optional
        The hub switch and its port count, instead of ``switch_transmission`` (see
        :func:`source_in_hub_budget`).
    """
    switch_eta, setup_ns = _switch_pass(switch_transmission, switch, n_ports)
    check_range("emission_efficiency_a", emission_efficiency_a, low=0.0, high=1.0)
    check_range("emission_efficiency_b", emission_efficiency_b, low=0.0, high=1.0)
    _check_time("emitter_period_ns_a", emitter_period_ns_a)
    _check_time("emitter_period_ns_b", emitter_period_ns_b)
    _check_time("classical_processing_ns", classical_processing_ns)
    ta, tb = fibre_transmission(fibre_a), fibre_transmission(fibre_b)
    eta_a = emission_efficiency_a * ta * switch_eta
    eta_b = emission_efficiency_b * tb * switch_eta
    p = herald_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
    if bsm.scheme == "double_click":  # polarisation / time-bin photons: fibre noise as emission noise
        emission_fidelity_a = _depolarised_werner_fidelity(
            emission_fidelity_a, fibre_depolar_probability(fibre_a))
        emission_fidelity_b = _depolarised_werner_fidelity(
            emission_fidelity_b, fibre_depolar_probability(fibre_b))
    rho = heralded_state(
        eta_a=eta_a,
        eta_b=eta_b,
        bsm=bsm,
        emission_fidelity_a=emission_fidelity_a,
        emission_fidelity_b=emission_fidelity_b,
        outcome="Psi+",
    )
    t_max = max(fibre_delay_ns(fibre_a), fibre_delay_ns(fibre_b))
    timing = AttemptTiming(
        emitter_ns=max(emitter_period_ns_a, emitter_period_ns_b),
        flight_ns=2.0 * t_max,
        window_ns=max(bsm.detector.window_ns, bsm.coincidence_window_ns),
        processing_ns=classical_processing_ns,
        dead_time_ns=bsm.detector.dead_time_ns,
        setup_ns=setup_ns,
    )
    if attempt_period_ns is None:
        period = timing.period_ns
    else:
        period = check_range("attempt_period_ns", attempt_period_ns, low=0.0, low_inclusive=False)
    transmissions = {
        "emission_a": emission_efficiency_a,
        "emission_b": emission_efficiency_b,
        "fibre_a": ta,
        "fibre_b": tb,
        "switch": switch_eta,
        "detector": bsm.detector.efficiency,
        "arm_a": eta_a * bsm.detector.efficiency,
        "arm_b": eta_b * bsm.detector.efficiency,
    }
    return LinkBudget(
        p_success=p,
        attempt_period_ns=period,
        fidelity=_fidelity(rho, 2),
        heralded_state=rho,
        transmissions=transmissions,
        target="Psi+",
        scheme="detection_in_hub",
        heralding=bsm.scheme,
        timing=timing,
    )


# -- hub memory and swapping -------------------------------------------------------------------
def _storage_herald(detector: DetectorParams) -> tuple[float, float]:
    """``(h_yes, h_no)``: herald probability with / without a stored excitation.

    The stored excitation's herald photon is registered with the detector efficiency
    ``eta_h``; the detector reports "one" with ``O1`` given the photon and ``O0`` from dark
    counts alone (:func:`hardware_models.detector.one_count_probability`), so
    ``h_yes = eta_h O1 + (1 - eta_h) O0`` and ``h_no = O0`` — the same herald model as the
    heralded storage of :mod:`hardware_models.spdc` (Kalb et al., PRL 114, 220501 (2015)).
    """
    o0 = one_count_probability(0, detector)
    o1 = one_count_probability(1, detector)
    eta_h = detector.efficiency
    return eta_h * o1 + (1.0 - eta_h) * o0, o0


def leg_budget(
    *,
    hub_memory: MemoryParams,
    qpu_memory: MemoryParams,
    fibre: FibreParams,
    detector: DetectorParams,
    switch_transmission: float | None = None,
    hub_qpu: QpuParams | None = None,
    transduction_efficiency: float = 1.0,
    classical_processing_ns: float = 0.0,
    switch: SwitchParams | None = None,
    n_ports: int | None = None,
) -> LegBudget:
    """One leg of ``hub_memory_swap``: hub memory emits towards a QPU, which stores (heralded).

    Physics. The hub memory emits a photon entangled with a hub qubit (spin–photon state of
    fidelity ``F_e = hub_memory.emission_fidelity`` with |Phi+>, the Werner model of
    :class:`hardware_models.memory.MemoryParams`) into the fibre with
    ``hub_memory.emission_efficiency``; it passes the switch once and the fibre; the QPU's
    memory absorbs it with ``qpu_memory.write_efficiency * transduction_efficiency`` and
    heralds the storage on its ``detector`` (heralded storage: Kalb et al., PRL 114, 220501
    (2015); Lago-Rivera et al., Nature 594, 37 (2021) for heralded storage in a network).
    With ``s = emission * switch * fibre * write`` and ``(h_yes, h_no)`` of the herald
    detector (dark counts included):

    * ``p_success = s h_yes + (1 - s) h_no``;
    * the heralded state is Werner about |Phi+> with fidelity ``x F_s + (1 - x) / 4``,
      ``x = s h_yes / p_success``, ``F_s`` = ``F_e`` after the fibre's polarisation noise
      (:func:`_depolarised_werner_fidelity`) (a dark-count herald of an empty
      memory leaves the hub qubit maximally mixed and the QPU qubit unknown: ``I/4``, the
      convention of :mod:`hardware_models.spdc`).

    Timing: ``emitter_ns = max(emitter_attempt_period_ns(hub_memory), qpu_memory's
    initialisation + reset)`` (the two are prepared in parallel), ``flight_ns = 2 t`` (photon
    to the QPU, herald back to the hub), the herald detector's window and dead time,
    ``classical_processing_ns``; the switch reconfiguration is ``setup_ns``.

    Parameters
    ----------
    hub_memory : MemoryParams
        The hub memory (emitter and storage of the hub qubit).
    qpu_memory : MemoryParams
        The QPU's communication memory that stores the photon.
    fibre : FibreParams
        Hub-to-QPU fibre.
    detector : DetectorParams
        The QPU's herald detector.
    switch_transmission : float, optional
        Transmission of one switch pass, in [0, 1]; or give ``switch`` and ``n_ports``.
    hub_qpu : QpuParams, optional
        Gates and readout of the hub memory (used by :func:`swapped_state`); default ideal.
    transduction_efficiency : float, optional
        Conversion efficiency in (0, 1] of the QPU's photon interface (default 1; pass 1 if
        ``qpu_memory.write_efficiency`` already includes it).
    classical_processing_ns : float, optional
        Classical processing of the herald in ns, >= 0 (default 0).
    switch, n_ports : SwitchParams and int, optional
        The hub switch and its port count, instead of ``switch_transmission``.
    """
    switch_eta, setup_ns = _switch_pass(switch_transmission, switch, n_ports)
    check_range("transduction_efficiency", transduction_efficiency, low=0.0, high=1.0,
                low_inclusive=False)
    _check_time("classical_processing_ns", classical_processing_ns)
    hub_qpu = hub_qpu if hub_qpu is not None else QpuParams()
    t_fibre = fibre_transmission(fibre)
    write = qpu_memory.write_efficiency * transduction_efficiency
    s = hub_memory.emission_efficiency * switch_eta * t_fibre * write
    h_yes, h_no = _storage_herald(detector)
    p = s * h_yes + (1.0 - s) * h_no
    x = s * h_yes / p if p > 0.0 else 0.0
    f_stored = _depolarised_werner_fidelity(hub_memory.emission_fidelity,
                                            fibre_depolar_probability(fibre))
    f = x * f_stored + (1.0 - x) / 4.0
    rho = werner_state(f, BELL_INDEX["Phi+"])
    flight = fibre_delay_ns(fibre)
    preparation = qpu_memory.emitter_initialisation_ns + qpu_memory.emitter_reset_ns
    timing = AttemptTiming(
        emitter_ns=max(emitter_attempt_period_ns(hub_memory), preparation),
        flight_ns=2.0 * flight,
        window_ns=detector.window_ns,
        processing_ns=classical_processing_ns,
        dead_time_ns=detector.dead_time_ns,
        setup_ns=setup_ns,
        swap_ns=hub_qpu.two_qubit_gate_ns + hub_qpu.single_qubit_gate_ns + hub_qpu.measure_ns,
    )
    transmissions = {
        "emission": hub_memory.emission_efficiency,
        "switch": switch_eta,
        "fibre": t_fibre,
        "write": write,
        "herald_detector": detector.efficiency,
        "arm": s,
    }
    return LegBudget(
        p_success=p,
        heralded_state=rho,
        fidelity=_fidelity(rho, 0),
        timing=timing,
        flight_ns=flight,
        transmissions=transmissions,
        hub_memory=hub_memory,
        qpu_memory=qpu_memory,
        hub_qpu=hub_qpu,
    )


def _apply_memory(rho: np.ndarray, qubit: int, n_qubits: int, elapsed_ns: float,
                  params: MemoryParams) -> np.ndarray:
    """Storage channel of ``params`` for ``elapsed_ns`` on one qubit of an n-qubit state.

    The phase-covariant channel ``(u, a, c)`` of
    :func:`hardware_models.memory.memory_channel_params` (T1/T2 and depolarising memory
    noise, Nielsen & Chuang §8.3): ``rho00 -> (1-u) rho00 + (1-a) rho11``,
    ``rho11 -> u rho00 + a rho11``, ``rho01 -> c rho01``.
    """
    if elapsed_ns <= 0.0 or params.is_noiseless:
        return rho
    u, a, c = memory_channel_params(elapsed_ns, params)
    t = rho.reshape((2,) * (2 * n_qubits))
    t = np.moveaxis(t, (qubit, n_qubits + qubit), (0, 1))
    out = np.empty_like(t)
    out[0, 0] = (1.0 - u) * t[0, 0] + (1.0 - a) * t[1, 1]
    out[1, 1] = u * t[0, 0] + a * t[1, 1]
    out[0, 1] = c * t[0, 1]
    out[1, 0] = c * t[1, 0]
    out = np.moveaxis(out, (0, 1), (qubit, n_qubits + qubit))
    return out.reshape(rho.shape)


_I2 = np.eye(2, dtype=complex)
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Z = np.array([[1, 0], [0, -1]], dtype=complex)
_H = np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2.0)


def _bell_measurement(rho_a: np.ndarray, rho_b: np.ndarray, hub_qpu: QpuParams) -> np.ndarray:
    """State of (A, B) after the hub's Bell measurement on legs (h1, A) and (h2, B).

    Circuit (the standard entanglement swap, Zukowski et al., PRL 71, 4287 (1993); gate and
    readout noise as :mod:`hardware_models.qpu`): CNOT(h1 -> h2) followed by two-qubit
    depolarising ``p2`` on (h1, h2); H on h1 followed by one-qubit depolarising ``p1``;
    Z measurements of h1 and h2, each outcome flipped with ``measure_error_prob``; the
    Pauli correction ``X^{m2} Z^{m1}`` (reported outcomes) on B. Averaged over outcomes.
    """
    p1 = hub_qpu.single_qubit_gate_depolar_prob
    p2 = hub_qpu.two_qubit_gate_depolar_prob
    e = hub_qpu.measure_error_prob
    # qubit order (h1, A, h2, B) -> reorder to (h1, h2, A, B)
    rho = np.kron(rho_a, rho_b).reshape((2,) * 8)
    rho = rho.transpose(0, 2, 1, 3, 4, 6, 5, 7).reshape(16, 16)
    cnot = np.eye(4, dtype=complex)[[0, 1, 3, 2]]
    u = np.kron(cnot, np.eye(4))
    rho = u @ rho @ u.conj().T
    if p2 > 0.0:
        t = rho.reshape(4, 4, 4, 4)
        reduced = np.einsum("ijik->jk", t)  # trace out (h1, h2)
        rho = (1.0 - p2) * rho + p2 * np.kron(np.eye(4) / 4.0, reduced)
    h = np.kron(_H, np.eye(8))
    rho = h @ rho @ h.conj().T
    if p1 > 0.0:
        t = rho.reshape(2, 8, 2, 8)
        reduced = np.einsum("ijik->jk", t)
        rho = (1.0 - p1) * rho + p1 * np.kron(_I2 / 2.0, reduced)
    t = rho.reshape(2, 2, 4, 2, 2, 4)
    out = np.zeros((4, 4), dtype=complex)
    for m1 in (0, 1):
        for m2 in (0, 1):
            sigma = t[m1, m2, :, m1, m2, :]
            for r1 in (0, 1):
                for r2 in (0, 1):
                    prob = (e if r1 != m1 else 1.0 - e) * (e if r2 != m2 else 1.0 - e)
                    if prob == 0.0:
                        continue
                    corr = np.kron(_I2, np.linalg.matrix_power(_X, r2) @ np.linalg.matrix_power(_Z, r1))
                    out += prob * (corr @ sigma @ corr.conj().T)
    return out


def swapped_state(
    leg_a: LegBudget, leg_b: LegBudget, *, wait_a_ns: float | None = None,
    wait_b_ns: float | None = None,
) -> np.ndarray:
    """State of QPU qubits (A, B) after the hub swaps two stored legs.

    Decoherence is counted from **emission**: the hub qubit of leg x has waited
    ``wait_x_ns`` in the hub memory since its photon was emitted; the QPU qubit has been
    stored since the photon arrived, ``wait_x_ns - flight_x`` (at least 0). Each qubit gets
    its memory's storage channel for that time (:func:`_apply_memory`, the channel of
    :class:`hardware_models.memory.QuantumMemory`), then the Bell measurement of
    :func:`_bell_measurement` with the hub's gate and readout errors. For Werner legs
    without storage noise and ideal gates the result is Werner with
    ``F = F_a F_b + (1 - F_a)(1 - F_b)/3`` (DESIGN.md §3; Werner parameters multiply);
    :func:`swap_bell_diagonal_fidelity` adds the gate and readout errors in closed form.

    Parameters
    ----------
    leg_a, leg_b : LegBudget
        The two legs (:func:`leg_budget`); the hub's gates are ``leg_a.hub_qpu``.
    wait_a_ns, wait_b_ns : float, optional
        Time in ns (>= the leg's flight time) since the leg's photon was emitted. Default:
        the simultaneous case, both legs attempted together and swapped as soon as the later
        herald reaches the hub, ``max_x(flight_ns + window_ns + processing_ns)`` of the two
        legs' :class:`AttemptTiming` (``flight_ns`` there is the round trip).

    Returns
    -------
    numpy.ndarray
        4x4 density matrix (order A, B), target |Phi+>.
    """
    default = max(leg.timing.flight_ns + leg.timing.window_ns + leg.timing.processing_ns
                  for leg in (leg_a, leg_b))
    waits = []
    for name, leg, wait in (("wait_a_ns", leg_a, wait_a_ns), ("wait_b_ns", leg_b, wait_b_ns)):
        wait = default if wait is None else _check_time(name, wait)
        if wait < leg.flight_ns:
            raise UserInputError(
                f"{name} = {wait!r} must be >= the leg's flight time {leg.flight_ns!r} ns "
                "(the photon must have arrived)"
            )
        waits.append(wait)
    legs = []
    for leg, wait in zip((leg_a, leg_b), waits, strict=True):
        rho = _apply_memory(leg.heralded_state, 0, 2, wait, leg.hub_memory)
        rho = _apply_memory(rho, 1, 2, wait - leg.flight_ns, leg.qpu_memory)
        legs.append(rho)
    return _bell_measurement(legs[0], legs[1], leg_a.hub_qpu)


def swap_bell_diagonal_fidelity(fidelity_a: float, fidelity_b: float, hub_qpu: QpuParams) -> float:
    """Fidelity with |Phi+> of two swapped Werner legs, hub gate and readout errors included.

    Werner parameters ``w_x = (4 F_x - 1)/3`` multiply under an ideal swap (Werner, PRA 40,
    4277 (1989); DESIGN.md §3: ``F = F_a F_b + (1-F_a)(1-F_b)/3``). The hub's two-qubit
    depolarising ``p2`` after the CNOT replaces the measured pair by ``I/4`` (then A and B
    are uncorrelated and maximally mixed); the one-qubit depolarising ``p1`` after the
    Hadamard randomises the first outcome (wrong with ``p1/2``); each readout is wrong with
    ``e``; a wrong outcome applies a wrong Pauli correction, which moves the Werner peak to
    an orthogonal Bell state. Hence, with ``q1 = p1/2 (1-e) + (1-p1/2) e`` and ``q2 = e``:

    ``F = (1 - p2) [w_a w_b (1-q1)(1-q2) + (1 - w_a w_b)/4] + p2/4``.
    """
    for name, value in (("fidelity_a", fidelity_a), ("fidelity_b", fidelity_b)):
        check_range(name, value, low=0.0, high=1.0)
    w = (4.0 * fidelity_a - 1.0) / 3.0 * (4.0 * fidelity_b - 1.0) / 3.0
    p1 = hub_qpu.single_qubit_gate_depolar_prob
    p2 = hub_qpu.two_qubit_gate_depolar_prob
    e = hub_qpu.measure_error_prob
    q1 = p1 / 2.0 * (1.0 - e) + (1.0 - p1 / 2.0) * e
    q2 = e
    return (1.0 - p2) * (w * (1.0 - q1) * (1.0 - q2) + (1.0 - w) / 4.0) + p2 / 4.0


def hub_memory_swap_budget(
    *,
    hub_memory: MemoryParams,
    hub_qpu: QpuParams,
    memory_a: MemoryParams,
    memory_b: MemoryParams,
    fibre_a: FibreParams,
    fibre_b: FibreParams,
    detector: DetectorParams,
    switch_transmission: float | None = None,
    transduction_efficiency_a: float = 1.0,
    transduction_efficiency_b: float = 1.0,
    classical_processing_ns: float = 0.0,
    switch: SwitchParams | None = None,
    n_ports: int | None = None,
) -> LinkBudget:
    """Budget of the hub-memory link: two heralded legs hub–A and hub–B, swapped in the hub.

    Each leg is :func:`leg_budget` (hub memory emits towards the QPU, which stores and
    heralds). The pair budget describes both legs attempted together:

    * ``p_success = p_a p_b`` (both legs heralded in the same attempt; a central cache that
      keeps one leg while retrying the other is the caller's policy, with
      :func:`swapped_state` giving the state for any waiting times);
    * the heralded state is :func:`swapped_state` with the default waits (the swap happens
      when the later herald reaches the hub), target |Phi+>;
    * the timing is the slower leg's; ``timing.swap_ns`` is the swap's duration.

    Parameters
    ----------
    hub_memory : MemoryParams
        The hub memory (emitter of both legs' photons, storage of the hub qubits).
    hub_qpu : QpuParams
        Gates and readout of the hub memory's Bell measurement.
    memory_a, memory_b : MemoryParams
        Communication memories of QPUs A and B (write efficiency, storage noise, preparation
        time).
    fibre_a, fibre_b : FibreParams
        Hub-to-QPU fibres.
    detector : DetectorParams
        Each QPU's herald detector.
    switch_transmission : float, optional
        Transmission of one switch pass, in [0, 1]; or give ``switch`` and ``n_ports``.
    transduction_efficiency_a, transduction_efficiency_b : float, optional
        Conversion efficiency in (0, 1] of each QPU's photon interface (default 1).
    classical_processing_ns : float, optional
        Classical processing of each herald in ns, >= 0 (default 0).
    switch, n_ports : SwitchParams and int, optional
        The hub switch and its port count, instead of ``switch_transmission``.
    """
    common = dict(hub_memory=hub_memory, hub_qpu=hub_qpu, detector=detector,
                  switch_transmission=switch_transmission, switch=switch, n_ports=n_ports,
                  classical_processing_ns=classical_processing_ns)
    leg_a = leg_budget(qpu_memory=memory_a, fibre=fibre_a,
                       transduction_efficiency=transduction_efficiency_a, **common)
    leg_b = leg_budget(qpu_memory=memory_b, fibre=fibre_b,
                       transduction_efficiency=transduction_efficiency_b, **common)
    rho = swapped_state(leg_a, leg_b)
    slower = max((leg_a, leg_b), key=lambda leg: leg.timing.period_ns)
    transmissions = {f"{key}_{side}": value for side, leg in (("a", leg_a), ("b", leg_b))
                     for key, value in leg.transmissions.items()}
    return LinkBudget(
        p_success=leg_a.p_success * leg_b.p_success,
        attempt_period_ns=slower.timing.period_ns,
        fidelity=_fidelity(rho, 0),
        heralded_state=rho,
        transmissions=transmissions,
        target="Phi+",
        scheme="hub_memory_swap",
        heralding="storage",
        timing=slower.timing,
        legs=(leg_a, leg_b),
    )


# -- one entry point for the hub network -------------------------------------------------------
def pair_link_budget(
    scheme: LinkScheme,
    *,
    memory_a: MemoryParams,
    memory_b: MemoryParams,
    fibre_a: FibreParams,
    fibre_b: FibreParams,
    switch: SwitchParams,
    n_ports: int,
    bsm: BsmParams | None = None,
    source: SpdcParams | None = None,
    detector: DetectorParams | None = None,
    hub_memory: MemoryParams | None = None,
    hub_qpu: QpuParams | None = None,
    transduction_efficiency_a: float = 1.0,
    transduction_efficiency_b: float = 1.0,
    heralding: Heralding | None = None,
    classical_processing_ns: float = 0.0,
) -> LinkBudget:
    """The :class:`LinkBudget` of QPU pair (A, B) for one link scheme, from component params.

    What each scheme reads (everything else is ignored):

    ===================== ===================================================================
    scheme                parameters used
    ===================== ===================================================================
    ``source_in_hub``     ``source``; ``memory_x.write_efficiency`` and preparation time
                          (``emitter_initialisation_ns + emitter_reset_ns``); ``detector``
                          (QPU herald); fibres; switch; transduction (on the write)
    ``detection_in_hub``  ``bsm`` (its ``scheme`` is the heralding unless ``heralding`` is
                          given); ``memory_x.emission_efficiency``, ``emission_fidelity``,
                          emitter timing; fibres; switch; transduction (on the emission)
    ``hub_memory_swap``   ``hub_memory`` (emitter + storage), ``hub_qpu`` (swap gates and
                          readout); ``memory_x`` (write efficiency, storage noise,
                          preparation time); ``detector`` (QPU herald); fibres; switch;
                          transduction (on the write)
    ===================== ===================================================================

    Parameters
    ----------
    scheme : {"source_in_hub", "detection_in_hub", "hub_memory_swap"}
        Link scheme (DESIGN.md §4).
    memory_a, memory_b : MemoryParams
        Communication memories of QPUs A and B.
    fibre_a, fibre_b : FibreParams
        The QPUs' fibres to their switch ports (with their lengths).
    switch : SwitchParams
        The hub's optical switch; each photon passes it once.
    n_ports : int
        Ports of the switch (sets its stages), >= 2.
    bsm : BsmParams, optional
        Hub BSM station (required for ``detection_in_hub``).
    source : SpdcParams, optional
        Hub SPDC source (required for ``source_in_hub``).
    detector : DetectorParams, optional
        The QPUs' herald detector (required for ``source_in_hub`` and ``hub_memory_swap``).
    hub_memory : MemoryParams, optional
        Hub memory (required for ``hub_memory_swap``).
    hub_qpu : QpuParams, optional
        The hub memory's gates and readout (``hub_memory_swap``; default ideal).
    transduction_efficiency_a, transduction_efficiency_b : float, optional
        Microwave-to-optical conversion efficiency in (0, 1] of each QPU's photon interface,
        multiplied into its emission (``detection_in_hub``) or write efficiency (default 1;
        pass 1 if the memory parameters already include it).
    heralding : {"double_click", "single_click"}, optional
        ``detection_in_hub`` only: override of ``bsm.scheme``.
    classical_processing_ns : float, optional
        Classical processing of a herald in ns, >= 0 (default 0).

    Raises
    ------
    UserInputError
        Unknown scheme or heralding, a parameter the scheme needs is missing, or a value out
        of range (the message names it).
    """
    if scheme not in LINK_SCHEMES:
        raise UserInputError(f"scheme = {scheme!r} must be one of {', '.join(LINK_SCHEMES)}")
    for name, value in (("transduction_efficiency_a", transduction_efficiency_a),
                        ("transduction_efficiency_b", transduction_efficiency_b)):
        check_range(name, value, low=0.0, high=1.0, low_inclusive=False)
    if heralding is not None and heralding not in ("double_click", "single_click"):
        raise UserInputError(f"heralding = {heralding!r} must be double_click or single_click")
    sw = {"switch": switch, "n_ports": n_ports}

    def need(name: str, value: object) -> None:
        if value is None:
            raise UserInputError(f"scheme {scheme!r} needs {name}")

    if scheme == "detection_in_hub":
        need("bsm", bsm)
        assert bsm is not None
        if heralding is not None and heralding != bsm.scheme:
            bsm = bsm.model_copy(update={"scheme": heralding})
        return detection_in_hub_budget(
            fibre_a=fibre_a, fibre_b=fibre_b, bsm=bsm,
            emission_efficiency_a=memory_a.emission_efficiency * transduction_efficiency_a,
            emission_efficiency_b=memory_b.emission_efficiency * transduction_efficiency_b,
            emission_fidelity_a=memory_a.emission_fidelity,
            emission_fidelity_b=memory_b.emission_fidelity,
            emitter_period_ns_a=emitter_attempt_period_ns(memory_a),
            emitter_period_ns_b=emitter_attempt_period_ns(memory_b),
            classical_processing_ns=classical_processing_ns, **sw,
        )
    if heralding is not None:
        raise UserInputError(f"heralding applies to detection_in_hub only, not to {scheme!r}")
    need("detector", detector)
    assert detector is not None
    if scheme == "source_in_hub":
        need("source", source)
        assert source is not None
        return source_in_hub_budget(
            source=source, fibre_a=fibre_a, fibre_b=fibre_b, detector=detector,
            write_efficiency_a=memory_a.write_efficiency * transduction_efficiency_a,
            write_efficiency_b=memory_b.write_efficiency * transduction_efficiency_b,
            memory_preparation_ns_a=memory_a.emitter_initialisation_ns + memory_a.emitter_reset_ns,
            memory_preparation_ns_b=memory_b.emitter_initialisation_ns + memory_b.emitter_reset_ns,
            classical_processing_ns=classical_processing_ns, **sw,
        )
    need("hub_memory", hub_memory)
    assert hub_memory is not None
    return hub_memory_swap_budget(
        hub_memory=hub_memory, hub_qpu=hub_qpu if hub_qpu is not None else QpuParams(),
        memory_a=memory_a, memory_b=memory_b, fibre_a=fibre_a, fibre_b=fibre_b,
        detector=detector, transduction_efficiency_a=transduction_efficiency_a,
        transduction_efficiency_b=transduction_efficiency_b,
        classical_processing_ns=classical_processing_ns, **sw,
    )


def preset_link_budget(
    preset: HardwarePreset | str,
    scheme: LinkScheme,
    *,
    fibre_length_a_km: float,
    fibre_length_b_km: float,
    n_ports: int,
    heralding: Heralding | None = None,
    classical_processing_ns: float = 0.0,
) -> LinkBudget:
    """:func:`pair_link_budget` of two QPUs of one hardware preset (by object, name or path).

    The preset's fields go where :func:`hardware_models.presets.preset_field_usage` says:
    ``memory`` is each QPU's communication memory and the hub memory, ``qpu`` the hub
    memory's gates, ``detector`` the QPUs' herald detector, ``bsm``, ``source``,
    ``switch``, ``fibre`` (with the given lengths) and ``transduction_efficiency`` as named.

    Parameters
    ----------
    preset : HardwarePreset or str
        A preset or a name/path for :func:`hardware_models.presets.load_preset`.
    scheme : {"source_in_hub", "detection_in_hub", "hub_memory_swap"}
        Link scheme.
    fibre_length_a_km, fibre_length_b_km : float
        Lengths in km (>= 0) of the QPUs' fibres to the hub.
    n_ports : int
        Ports of the hub switch, >= 2.
    heralding : {"double_click", "single_click"}, optional
        ``detection_in_hub``: override of the preset's ``bsm.scheme``.
    classical_processing_ns : float, optional
        Classical processing of a herald in ns, >= 0 (default 0).
    """
    from hardware_models.presets import HardwarePreset, load_preset

    p = preset if isinstance(preset, HardwarePreset) else load_preset(preset)
    fibre_a = p.fibre.model_copy(update={"length_km": check_range(
        "fibre_length_a_km", fibre_length_a_km, low=0.0, high=1e5)})
    fibre_b = p.fibre.model_copy(update={"length_km": check_range(
        "fibre_length_b_km", fibre_length_b_km, low=0.0, high=1e5)})
    return pair_link_budget(
        scheme, memory_a=p.memory, memory_b=p.memory, fibre_a=fibre_a, fibre_b=fibre_b,
        switch=p.switch, n_ports=n_ports, bsm=p.bsm, source=p.source, detector=p.detector,
        hub_memory=p.memory, hub_qpu=p.qpu,
        transduction_efficiency_a=p.transduction_efficiency,
        transduction_efficiency_b=p.transduction_efficiency,
        heralding=heralding, classical_processing_ns=classical_processing_ns,
    )
