"""Closed-form link budgets: success probability, attempt period and heralded state per scheme.

The bridge from device physics to the aggregate model's ``p_eff``: each function follows one
link path of DESIGN.md §4 through the device closed forms and returns a :class:`LinkBudget`.
Everything is a pure function of frozen parameters (cached below the surface).

* :func:`source_in_hub_budget` — hub SPDC source -> switch -> fibre -> QPU memory
  (heralded storage, :func:`hardware_models.spdc.spdc_stored_state`).
* :func:`detection_in_hub_budget` — QPU emitter -> fibre -> switch -> hub BSM station
  (:mod:`hardware_models.bsm`, double or single click).

The switch loss enters as a transmission per photon pass, given directly
(``switch_transmission``) or as the switch model itself (``switch=SwitchParams(...)``,
``n_ports=N``: ``hardware_models.switch.switch_transmission(switch, N)``, which grows with
``ceil(log2 N)`` for a multistage fabric); each photon passes the switch once. The switch's
reconfiguration time is a per-circuit set-up cost, not a per-attempt one, so it is not in
the attempt period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hardware_models.bsm import BsmParams, herald_success_probability, heralded_state
from hardware_models.detector import DetectorParams
from hardware_models.fibre import FibreParams, fibre_delay_ns, fibre_transmission
from hardware_models.spdc import (
    BELL_INDEX,
    SpdcParams,
    spdc_attempt_period_ns,
    spdc_stored_herald_probability,
    spdc_stored_state,
)
from hardware_models.switch import SwitchParams
from hardware_models.switch import switch_transmission as switch_pass_transmission
from modenhub_net.errors import UserInputError, check_range

__all__ = ["LinkBudget", "detection_in_hub_budget", "source_in_hub_budget"]


@dataclass(frozen=True)
class LinkBudget:
    """Closed-form budget of one elementary link attempt.

    Attributes
    ----------
    p_success : float
        Probability that one attempt heralds a pair (false heralds from dark counts
        included), in [0, 1].
    attempt_period_ns : float
        Time per attempt in ns (what it includes: see the function that built it).
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
        "source_in_hub", "double_click" or "single_click".
    """

    p_success: float
    attempt_period_ns: float
    fidelity: float
    heralded_state: np.ndarray = field(repr=False)
    transmissions: dict[str, float]
    target: str
    scheme: str

    @property
    def rate_hz(self) -> float:
        """Heralded pairs per second, ``p_success / attempt_period``."""
        return self.p_success / self.attempt_period_ns * 1e9

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
) -> float:
    """Transmission of one switch pass from exactly one of the two ways of giving it."""
    if switch is None:
        if n_ports is not None:
            raise UserInputError("n_ports is given without switch; pass both or neither")
        if switch_transmission is None:
            raise UserInputError("give switch_transmission, or switch and n_ports")
        return check_range("switch_transmission", switch_transmission, low=0.0, high=1.0)
    if switch_transmission is not None:
        raise UserInputError("give either switch_transmission or switch (with n_ports), not both")
    if n_ports is None:
        raise UserInputError("switch is given without n_ports")
    return switch_pass_transmission(switch, n_ports)


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
    switch: SwitchParams | None = None,
    n_ports: int | None = None,
) -> LinkBudget:
    """Budget of the source-in-hub link: SPDC in the hub, heralded storage at QPUs A and B.

    Physics: :func:`hardware_models.spdc.spdc_stored_state` (multi-pair emission, per-photon
    loss, single-excitation memories, herald detector with dark counts), with per-arm
    transmission ``switch_transmission * fibre_transmission(fibre_x)`` after the source's
    coupling efficiency.

    Attempt period: ``max(1e9 / repetition_rate_hz, 3 * t_max + window_ns +
    classical_processing_ns)`` with ``t_max`` the longer fibre delay: the photon flies to the
    further QPU, its herald detector integrates one window, the herald travels to the hub
    (orchestrator) and the hub's confirmation back to the further QPU. A memory cannot be
    re-armed before its attempt is resolved, so attempts are not pipelined.

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
    switch, n_ports : SwitchParams and int, optional
        The hub switch and its port count, instead of ``switch_transmission``: the pass
        transmission is then :func:`hardware_models.switch.switch_transmission`.
    """
    switch_transmission = _switch_pass(switch_transmission, switch, n_ports)
    check_range("classical_processing_ns", classical_processing_ns, low=0.0)
    ta, tb = fibre_transmission(fibre_a), fibre_transmission(fibre_b)
    eta_a, eta_b = switch_transmission * ta, switch_transmission * tb
    kwargs = dict(
        eta_a=eta_a,
        eta_b=eta_b,
        write_efficiency_a=write_efficiency_a,
        write_efficiency_b=write_efficiency_b,
        herald_detector=detector,
    )
    p = spdc_stored_herald_probability(source, **kwargs)
    rho = spdc_stored_state(source, **kwargs)
    t_max = max(fibre_delay_ns(fibre_a), fibre_delay_ns(fibre_b))
    period = max(
        spdc_attempt_period_ns(source), 3.0 * t_max + detector.window_ns + classical_processing_ns
    )
    transmissions = {
        "coupling_a": source.coupling_efficiency_a,
        "coupling_b": source.coupling_efficiency_b,
        "switch": switch_transmission,
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
        attempt_period_ns=period,
        fidelity=_fidelity(rho, index),
        heralded_state=rho,
        transmissions=transmissions,
        target=source.bell_state,
        scheme="source_in_hub",
    )


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
    attempt_period_ns: float | None = None,
    switch: SwitchParams | None = None,
    n_ports: int | None = None,
) -> LinkBudget:
    """Budget of the detection-in-hub link: QPU emitters, BSM station in the hub.

    Physics: :mod:`hardware_models.bsm` (``bsm.scheme`` double or single click) with
    ``eta_x = emission_efficiency_x * fibre_transmission(fibre_x) * switch_transmission``
    and the station's detector efficiency and dark counts.

    Attempt period (default): ``2 * t_max + max(window_ns, coincidence_window_ns)``: photon
    flight from the further QPU to the hub, the detection window, and the herald back to the
    further QPU. Emission and re-initialisation times are not included (pass
    ``attempt_period_ns`` to override).

    Parameters
    ----------
    fibre_a, fibre_b : FibreParams
        QPU-to-hub fibres.
    switch_transmission : float, optional
        Transmission of one switch pass, in [0, 1]; or give ``switch`` and ``n_ports``.
    emission_efficiency_a, emission_efficiency_b : float
        Probability in [0, 1] that an emitted photon enters the fibre (collection,
        frequency conversion).
    emission_fidelity_a, emission_fidelity_b : float
        Fidelity in [0.25, 1] of the spin–photon state (depolarising model, see
        :mod:`hardware_models.bsm`).
    bsm : BsmParams
        Hub BSM station.
    attempt_period_ns : float, optional
        Override of the attempt period in ns (> 0).
    switch, n_ports : SwitchParams and int, optional
        The hub switch and its port count, instead of ``switch_transmission`` (see
        :func:`source_in_hub_budget`).
    """
    switch_transmission = _switch_pass(switch_transmission, switch, n_ports)
    check_range("emission_efficiency_a", emission_efficiency_a, low=0.0, high=1.0)
    check_range("emission_efficiency_b", emission_efficiency_b, low=0.0, high=1.0)
    ta, tb = fibre_transmission(fibre_a), fibre_transmission(fibre_b)
    eta_a = emission_efficiency_a * ta * switch_transmission
    eta_b = emission_efficiency_b * tb * switch_transmission
    p = herald_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
    rho = heralded_state(
        eta_a=eta_a,
        eta_b=eta_b,
        bsm=bsm,
        emission_fidelity_a=emission_fidelity_a,
        emission_fidelity_b=emission_fidelity_b,
        outcome="Psi+",
    )
    if attempt_period_ns is None:
        t_max = max(fibre_delay_ns(fibre_a), fibre_delay_ns(fibre_b))
        period = 2.0 * t_max + max(bsm.detector.window_ns, bsm.coincidence_window_ns)
    else:
        period = check_range("attempt_period_ns", attempt_period_ns, low=0.0, low_inclusive=False)
    transmissions = {
        "emission_a": emission_efficiency_a,
        "emission_b": emission_efficiency_b,
        "fibre_a": ta,
        "fibre_b": tb,
        "switch": switch_transmission,
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
        scheme=bsm.scheme,
    )
