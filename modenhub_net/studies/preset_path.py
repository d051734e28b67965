"""A hub whose physical path grows with N, built from a hardware preset (issue 7 studies).

Shared by :mod:`~modenhub_net.studies.peff_validation` and
:mod:`~modenhub_net.studies.hardware_scenarios`. It turns a preset
(:func:`hardware_models.presets.load_preset`) plus a :class:`PathModel` into the resolved
hardware of the hub simulation (:class:`~modenhub_net.network.hardware.NodeHardware`,
:class:`~modenhub_net.network.hardware.HubHardware`) for N QPUs, and gives the closed-form
numbers of the same path.

Path model (stated assumptions, each a field of :class:`PathModel`):

- **Fibre** from a QPU to the hub: ``L(N) = base_fibre_km + racks(N) * rack_pitch_km`` with
  ``racks(N) = ceil(N / qpus_per_rack)`` (a row of racks, the hub at one end; every QPU is
  cabled to the hub, the cable run grows with the number of racks). Attenuation, connector
  loss and speed come from the preset's ``[fibre]`` section (ITU-T G.652 / G.671 values).
- **Switch**: a multistage fabric of 2x2 elements, ``ceil(log2 N)`` stages on every path
  (Benes/banyan-type fabrics; Lee & Dupuis, J. Lightwave Technol. 37, 6 (2019);
  :func:`hardware_models.switch.switch_stages`). A preset whose switch is already
  ``multistage`` keeps its own per-stage and fixed loss; a preset with a lossless switch
  (``ideal``) stays lossless; a preset with a lossy single-stage crossbar (3D MEMS) is given
  ``stage_loss_db`` per element and ``fabric_fixed_loss_db`` of fibre-to-chip coupling
  (silicon-photonic fabric, Seok et al., Optica 3, 64 (2016)). ``fabric = "preset"`` keeps
  every preset's own switch unchanged.
- **Time multiplexing**: the hub's BSM bank has ``bank_size`` stations shared by all
  concurrently served pairs. When all N QPUs are busy (N/2 pairs), each wanting K(N) modes
  per entanglement window, a pair gets the fraction ``duty(N) = min(1, B / (K N / 2))`` of its
  modes per window (the other attempts move to later time bins: the round lasts
  ``ceil(K N / (2 B))`` attempt periods). The per-window success per mode is then
  ``p(N) duty(N)``. The event-driven hub serves one request at a time, so this contention is
  an analytic layer on top of the simulated per-attempt probability.

The hub simulation models double-click (Barrett-Kok) heralding without dark counts
(:mod:`modenhub_net.network.hardware`); :func:`preset_scheme_budget` gives the preset's own
scheme (single click for NV and transduced superconducting QPUs, dark counts included) from
:func:`hardware_models.link_budget.detection_in_hub_budget` for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from hardware_models.fibre import FibreParams
from hardware_models.link_budget import detection_in_hub_budget
from hardware_models.presets import HardwarePreset, load_preset
from hardware_models.switch import SwitchParams, switch_stages, switch_transmission
from modenhub_net.config import StrictModel
from modenhub_net.network.hardware import HubHardware, NodeHardware, link_budget

__all__ = [
    "PathModel",
    "PresetHub",
    "fibre_length_km",
    "fabric_for",
    "duty_factor",
    "multiplex_bins",
    "build_preset_hub",
    "preset_scheme_budget",
]


class PathModel(StrictModel):
    """How the physical path of the hub grows with N (scenario section ``[path]``).

    Parameters
    ----------
    base_fibre_km : float
        Fibre from the first rack to the hub, km (default 0.005: a 5 m patch; assumption).
    qpus_per_rack : int
        QPUs per rack (default 4; assumption).
    rack_pitch_km : float
        Extra cable run per additional rack, km (default 0.002: ~2 m per rack including
        routing slack in trays; assumption).
    fabric : {"multistage", "preset"}
        ``multistage``: ceil(log2 N) stages (module notes); ``preset``: the preset's switch.
    stage_loss_db : float
        Loss of one 2x2 element for presets with a lossy crossbar, dB (default 0.5;
        silicon-photonic MEMS/MZI elements, Seok et al. 2016; assumption).
    fabric_fixed_loss_db : float
        Fibre-to-chip coupling of that fabric, dB (default 1.0; Seok et al. 2016).
    bank_size : int
        BSM stations of the hub shared by all pairs (default 16; assumption).
    comm_qubits : int or None
        Communication qubits per QPU; None = the preset's ``qpu.n_comm_qubits``.
    """

    base_fibre_km: float = Field(0.005, ge=0.0, le=100.0, allow_inf_nan=False)
    qpus_per_rack: int = Field(4, ge=1, le=1000, strict=True)
    rack_pitch_km: float = Field(0.002, ge=0.0, le=10.0, allow_inf_nan=False)
    fabric: Literal["multistage", "preset"] = "multistage"
    stage_loss_db: float = Field(0.5, ge=0.0, le=30.0, allow_inf_nan=False)
    fabric_fixed_loss_db: float = Field(1.0, ge=0.0, le=30.0, allow_inf_nan=False)
    bank_size: int = Field(16, ge=1, le=100_000, strict=True)
    comm_qubits: int | None = Field(None, ge=1, le=10_000, strict=True)


def fibre_length_km(path: PathModel, n_qpus: int) -> float:
    """``L(N) = base + ceil(N / qpus_per_rack) * rack_pitch`` in km."""
    return path.base_fibre_km + math.ceil(n_qpus / path.qpus_per_rack) * path.rack_pitch_km


def fabric_for(preset: HardwarePreset, path: PathModel) -> SwitchParams:
    """The switch the study uses for ``preset`` (module notes)."""
    sw = preset.switch
    if path.fabric == "preset" or sw.architecture == "multistage":
        return sw
    if sw.loss_per_stage_db == 0.0 and sw.fixed_loss_db == 0.0:
        return SwitchParams(architecture="multistage", reconfiguration_time_ns=sw.reconfiguration_time_ns)
    return SwitchParams(
        architecture="multistage",
        loss_per_stage_db=path.stage_loss_db,
        fixed_loss_db=path.fabric_fixed_loss_db,
        reconfiguration_time_ns=sw.reconfiguration_time_ns,
    )


def duty_factor(path: PathModel, n_qpus: int, k: int) -> float:
    """``min(1, B / (K N / 2))``: fraction of a pair's K modes served per window."""
    demand = k * (n_qpus // 2)
    return min(1.0, path.bank_size / demand) if demand > 0 else 1.0


def multiplex_bins(path: PathModel, n_qpus: int, k: int) -> int:
    """Attempt periods one window needs when all pairs are busy: ``ceil(K N / (2 B))``."""
    return max(1, math.ceil(k * (n_qpus // 2) / path.bank_size))


@dataclass(frozen=True)
class PresetHub:
    """Resolved hub of N QPUs from a preset.

    Attributes
    ----------
    nodes : list of NodeHardware
    hub : HubHardware
    switch : SwitchParams
        The fabric used (see :func:`fabric_for`).
    stages : int
        Switch stages on a path.
    fibre_km : float
        Fibre length of every QPU, km.
    p_budget : float
        Closed-form per-attempt success of the hub model (double click) for a QPU pair.
    fidelity_budget : float
        Fidelity of its heralded state.
    """

    nodes: list[NodeHardware]
    hub: HubHardware
    switch: SwitchParams
    stages: int
    fibre_km: float
    p_budget: float
    fidelity_budget: float


def build_preset_hub(
    preset: HardwarePreset | str,
    path: PathModel,
    n_qpus: int,
    *,
    bsm_stations: int | None = None,
    comm_qubits: int | None = None,
) -> PresetHub:
    """Hub-simulation hardware of ``n_qpus`` identical QPUs of ``preset`` on ``path``.

    Parameters
    ----------
    preset : HardwarePreset or str
        A preset or its name.
    path : PathModel
    n_qpus : int
        N (>= 2).
    bsm_stations : int, optional
        Stations available to one request (default ``path.bank_size``).
    comm_qubits : int, optional
        Overrides the path's / preset's communication qubits per QPU.

    Notes
    -----
    Mapping (the hub model's fields): emission efficiency = ``memory.emission_efficiency *
    transduction_efficiency``; coupling loss = fibre ``loss_db`` + the fabric's fixed loss;
    memory T1/T2 = ``memory``; gate errors = ``qpu.*_depolar_prob``; read-out error =
    ``qpu.measure_error_prob``; BSM detector efficiency, HOM visibility and window from
    ``bsm``; switch reconfiguration time from the preset. Not carried by the hub model in this
    version: emission fidelity, dark counts, single-click heralding, depolarising memory
    time (all presets have ``depolar_time_ns = inf``).
    """
    p = load_preset(preset) if isinstance(preset, str) else preset
    sw = fabric_for(p, path)
    stages = switch_stages(sw, n_qpus)
    length = fibre_length_km(path, n_qpus)
    comm = comm_qubits or path.comm_qubits or p.qpu.n_comm_qubits
    node = NodeHardware(
        fibre_length_km=length,
        attenuation_db_per_km=p.fibre.attenuation_db_per_km,
        coupling_loss_db=p.fibre.loss_db + sw.fixed_loss_db,
        emission_efficiency=p.memory.emission_efficiency * p.transduction_efficiency,
        comm_qubits=int(comm),
        memory_t1_ns=p.memory.t1_ns,
        memory_t2_ns=p.memory.t2_ns,
        gate_error_2q=p.qpu.two_qubit_gate_depolar_prob,
        gate_error_1q=p.qpu.single_qubit_gate_depolar_prob,
        measurement_error=min(0.5, p.qpu.measure_error_prob),
        preset=p.name,
    )
    stations = bsm_stations or path.bank_size
    hub = HubHardware(
        sources=stations,
        bsm_stations=stations,
        memory_slots=0,
        switch_max_circuits=2 * stations,
        switch_reconfiguration_ns=sw.reconfiguration_time_ns,
        switch_loss_db_per_stage=sw.loss_per_stage_db,
        switch_stages=stages,
        detector_efficiency=p.bsm.detector.efficiency,
        detection_window_ns=max(p.bsm.coincidence_window_ns, p.bsm.detector.window_ns),
        hom_visibility=p.bsm.visibility,
        spdc_mean_pairs=p.source.mu,
    )
    nodes = [node] * n_qpus
    budget = link_budget(node, node, hub, n_qpus=n_qpus, scheme="detection_in_hub")
    return PresetHub(nodes, hub, sw, stages, length, budget.p_success, budget.fidelity)


def preset_scheme_budget(preset: HardwarePreset | str, path: PathModel, n_qpus: int):
    """The preset's own heralding scheme (:func:`hardware_models.link_budget.detection_in_hub_budget`).

    Same fibre and fabric as :func:`build_preset_hub`; single or double click per the
    preset's ``bsm.scheme``, dark counts and emission fidelity included.
    """
    p = load_preset(preset) if isinstance(preset, str) else preset
    sw = fabric_for(p, path)
    fibre = FibreParams(
        length_km=fibre_length_km(path, n_qpus),
        attenuation_db_per_km=p.fibre.attenuation_db_per_km,
        loss_db=p.fibre.loss_db,
        speed_km_per_s=p.fibre.speed_km_per_s,
    )
    eff = p.memory.emission_efficiency * p.transduction_efficiency
    return detection_in_hub_budget(
        fibre_a=fibre,
        fibre_b=fibre,
        switch_transmission=switch_transmission(sw, n_qpus),
        emission_efficiency_a=eff,
        emission_efficiency_b=eff,
        emission_fidelity_a=p.memory.emission_fidelity,
        emission_fidelity_b=p.memory.emission_fidelity,
        bsm=p.bsm,
    )
