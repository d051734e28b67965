"""Heralded entanglement generation: one round of K multiplexed attempts, two link modes.

Both modes implement ``round(a, b, k)`` (a generator for ``yield from``) returning a
:class:`~protocols.orchestrator.RoundOutcome`. They act on the device components the network
is built from (``net``: :class:`modenhub_net.network.builder.HubNetwork`) and draw their
physics from those components or from the components' closed forms (``net.budget(a, b)``,
:mod:`hardware_models.link_budget`); nothing here computes a transmission, a herald
probability or a heralded state.

A round first joins QPUs ``a`` and ``b`` to a lane of the hub's switch (circuits are reused;
a change of circuits waits for the switch's reconfiguration). Then, per scheme:

``detection_in_hub``
    Each QPU's communication memory emits ``k`` photons entangled with memory qubits
    (:meth:`hardware_models.QuantumMemory.emit`; bright-state superposition for single
    click). The emitters are timed so that the photons of both QPUs reach the hub together
    (the QPU with the shorter fibre emits later). The photons cross the QPU's
    :class:`~hardware_models.Fibre` and the :class:`~hardware_models.OpticalSwitch` as one
    message (one photon per mode), the hub fabric hands mode ``j`` to BSM station ``j``
    (:class:`~hardware_models.BsmStation`), whose herald is known at the end of the
    detection window; the hub sends the heralds to both QPUs over their classical fibres,
    and each QPU frees the memory qubits of failed attempts when its herald message arrives.
``source_in_hub``
    SPDC source ``j`` (:class:`~hardware_models.SpdcSource`) emits one pulse per round; its
    arm-a and arm-b photons go through the switch and the fibres to the QPUs, where mode
    ``j`` is offered to communication slot ``j``: a single-excitation memory stores one
    photon, the first one its write succeeds for in a random order (one uniformly among the
    absorbable photons, :mod:`hardware_models.spdc` "heralded storage"), and the slot's herald
    :class:`~hardware_models.Detector` detects the herald photon (its efficiency, dark counts,
    threshold or number resolving, dead time). Each QPU reports its heralds to the hub, which
    decides (both stored) and sends the result back.
``hub_memory_swap``
    The hub memory (``net.hub_memory``, a :class:`~hardware_models.QPU`) emits ``k`` photons
    towards each QPU, entangled with hub memory qubits (the legs); the QPUs store them as
    above and report. Heralded legs wait in the hub memory (across the rounds of a request,
    discarded after ``net.leg_cutoff_ns`` from their emission and at the end of the request);
    matched legs are swapped by the hub memory's Bell measurement (its gate and readout
    errors and durations, :meth:`hardware_models.QPU.bell_measure`).

``detailed``
    every attempt through the components above; each loss happens in the component that
    causes it and each component counts what passed. A ``detection_in_hub`` round with
    noise-free upward fibres is one pass over the round's attempts through the same devices
    (their list / batch methods, uniforms from each device's own stream in blocks), states
    built only for heralds; otherwise every photon travels as a message.
``sampled`` ("skip failed attempts")
    the number of heralds is ``Binomial(k, p)`` with ``p`` the budget's closed-form
    per-attempt probability, time jumps to the same instants as in the detailed mode, and
    only the heralded pairs are built, in the budget's heralded state; the components'
    counters of attempts, emitted photons and heralds are updated in bulk.

Hand-over: a mode with ``hands_over_at_herald`` returns a round's pairs when the heralds reach
both QPUs; the emitters' / storing memories' reset, the detectors' dead time and the source's
period then delay the QPUs' *next* round (:meth:`generation_base._Base._wait_ready`), so rounds
still start one attempt period apart (the first one included: a QPU starts as after a failed
attempt) while a heralded pair does not decohere during the reset.
"""

from __future__ import annotations

from typing import Any

from modenhub_net.errors import UserInputError
from protocols.generation_base import LINK_MODES
from protocols.generation_detailed import DetailedGeneration
from protocols.generation_sampled import SampledGeneration

__all__ = ["SampledGeneration", "DetailedGeneration", "LINK_MODES", "make_generation"]


def make_generation(net: Any, mode: str) -> SampledGeneration | DetailedGeneration:
    """The generation protocol of a link mode (``"sampled"`` or ``"detailed"``)."""
    if mode == "sampled":
        return SampledGeneration(net)
    if mode == "detailed":
        return DetailedGeneration(net)
    raise UserInputError(f"link_mode = {mode!r}: unknown (allowed: {', '.join(LINK_MODES)})")
