"""A hub whose physical path grows with N, built from a hardware preset.

Shared by :mod:`~modenhub_net.studies.peff_validation` and
:mod:`~modenhub_net.studies.hardware_scenarios`. It turns a preset
(:func:`hardware_models.presets.load_preset`) plus a :class:`PathModel` into the component
specifications of the hub network for N QPUs (:class:`~modenhub_net.network.spec.QpuSpec`,
:class:`~modenhub_net.network.spec.HubSpec`: every preset field reaches the device that uses
it) and gives the closed-form link budget of a QPU pair on that path from the devices' own
closed forms (:func:`hardware_models.link_budget.pair_link_budget`). Nothing here computes a
transmission, a herald probability or a heralded state.

Path model (stated assumptions, each a field of :class:`PathModel`):

- **Fibre** from a QPU to the hub: ``L(N) = base_fibre_km + racks(N) * rack_pitch_km`` with
  ``racks(N) = ceil(N / qpus_per_rack)`` (a row of racks, the hub at one end; every QPU is
  cabled to the hub, the cable run grows with the number of racks). Attenuation, connector
  loss and speed come from the preset's ``[fibre]`` section (ITU-T G.652 / G.671 values).
- **Switch**: a multistage fabric of 2x2 elements, ``ceil(log2 ports)`` stages on every path
  (Benes/banyan-type fabrics; Lee & Dupuis, J. Lightwave Technol. 37, 6 (2019);
  :func:`hardware_models.switch.switch_stages`), where the hub network's switch has one port
  per QPU plus two per lane of simultaneous pairs
  (:meth:`~modenhub_net.network.spec.HubSpec.n_switch_ports`). A preset whose switch is
  already ``multistage`` keeps its own per-stage and fixed loss; a preset with a lossless
  switch (``ideal``) stays lossless; a preset with a lossy single-stage crossbar (3D MEMS) is
  given ``stage_loss_db`` per element and ``fabric_fixed_loss_db`` of fibre-to-chip coupling
  (silicon-photonic fabric, Seok et al., Optica 3, 64 (2016)). ``fabric = "preset"`` keeps
  every preset's own switch unchanged.
- **Time multiplexing**: the hub's BSM bank has ``bank_size`` stations shared by all
  concurrently served pairs. When all N QPUs are busy (N/2 pairs), each wanting K(N) modes
  per entanglement window, a pair gets the fraction ``duty(N) = min(1, B / (K N / 2))`` of its
  modes per window (the other attempts move to later time bins: the round lasts
  ``ceil(K N / (2 B))`` attempt periods). The per-window success per mode is then
  ``p(N) duty(N)``. The event-driven hub serves one request at a time, so this contention is
  an analytic layer on top of the simulated per-attempt probability.

The hub runs the preset's own heralding scheme (``bsm.scheme``: single click for the NV and
transduced superconducting presets, double click otherwise), with the preset's dark counts,
detector dead time, emission fidelity, HOM visibility and emitter timing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from hardware_models.link_budget import LinkBudget, pair_link_budget
from hardware_models.presets import HardwarePreset, available_presets, load_preset
from hardware_models.switch import SwitchParams, switch_stages
from modenhub_net.config import StrictModel
from modenhub_net.network.spec import HubSpec, QpuSpec

__all__ = [
    "check_distinct",
    "check_n_qpus",
    "check_presets",
    "PathModel",
    "PresetHub",
    "fibre_length_km",
    "fabric_for",
    "duty_factor",
    "multiplex_bins",
    "replace_params",
    "pair_budget",
    "build_preset_hub",
]


def check_presets(value: tuple[str, ...]) -> tuple[str, ...]:
    """Field check shared by the studies: known, distinct preset names (``ValueError``)."""
    names = available_presets()
    bad = [v for v in value if v not in names]
    if bad:
        raise ValueError(f"unknown preset(s) {bad} (available: {', '.join(names)})")
    return check_distinct(value, "presets")


def check_distinct(value: tuple[Any, ...], what: str) -> tuple[Any, ...]:
    """Field check shared by the studies: no repeated entry in ``what`` (``ValueError``)."""
    if len(set(value)) != len(value):
        raise ValueError(f"{what} must be distinct")
    return value


def check_n_qpus(value: tuple[int, ...]) -> tuple[int, ...]:
    """Field check shared by the studies: distinct N in [2, 4096], returned sorted."""
    if any(isinstance(n, bool) or n < 2 or n > 4096 for n in value) or len(set(value)) != len(value):
        raise ValueError("N values must be distinct integers in [2, 4096]")
    return tuple(sorted(value))


class PathModel(StrictModel):
    """How the physical path of the hub grows with N (scenario section ``[path]``).

    Parameters
    ----------
    base_fibre_km : float
        Fibre from the first rack to the hub, km, in [0, 100] (default 0.005: a 5 m patch;
        assumption).
    qpus_per_rack : int
        QPUs per rack, in [1, 1000] (default 4; assumption).
    rack_pitch_km : float
        Extra cable run per additional rack, km, in [0, 10] (default 0.002: ~2 m per rack
        including routing slack in trays; assumption).
    fabric : {"multistage", "preset"}
        ``multistage``: ceil(log2 ports) stages (module notes); ``preset``: the preset's switch.
    stage_loss_db : float
        Loss of one 2x2 element for presets with a lossy crossbar, dB, in [0, 30] (default
        0.5; silicon-photonic MEMS/MZI elements, Seok et al., Optica 3, 64 (2016); assumption).
    fabric_fixed_loss_db : float
        Fibre-to-chip coupling of that fabric, dB, in [0, 30] (default 1.0; Seok et al. 2016).
    bank_size : int
        BSM stations of the hub shared by all pairs, in [1, 100000] (default 16; assumption).
    comm_qubits : int or None
        Communication qubits per QPU, in [1, 10000]; None (default) = the preset's
        ``qpu.n_comm_qubits``.
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
        return replace_params(sw, architecture="multistage")
    return replace_params(
        sw,
        architecture="multistage",
        loss_per_stage_db=path.stage_loss_db,
        fixed_loss_db=path.fabric_fixed_loss_db,
    )


def duty_factor(path: PathModel, n_qpus: int, k: int) -> float:
    """``min(1, B / (K N / 2))``: fraction of a pair's K modes served per window."""
    demand = k * (n_qpus // 2)
    return min(1.0, path.bank_size / demand) if demand > 0 else 1.0


def multiplex_bins(path: PathModel, n_qpus: int, k: int) -> int:
    """Attempt periods one window needs when all pairs are busy: ``ceil(K N / (2 B))``."""
    return max(1, math.ceil(k * (n_qpus // 2) / path.bank_size))


def replace_params(model: Any, **changes: Any) -> Any:
    """A re-validated copy of a frozen parameter model with some fields changed.

    Unlike ``model_copy(update=...)`` the copy is validated, so an out-of-range change raises
    :class:`~modenhub_net.errors.UserInputError`-compatible validation errors.
    """
    return type(model).model_validate({**model.model_dump(), **changes})


def pair_budget(qpu_a: QpuSpec, qpu_b: QpuSpec, hub: HubSpec, n_qpus: int, *,
                scheme: str = "detection_in_hub", heralding: str | None = None) -> LinkBudget:
    """Closed-form budget of one attempt between two QPUs of an ``n_qpus`` hub network.

    The same devices the network is built from (:class:`~modenhub_net.network.builder.HubNetwork`
    builds its switch with :meth:`HubSpec.switch_params` and
    :meth:`HubSpec.n_switch_ports`), through
    :func:`hardware_models.link_budget.pair_link_budget`; ``heralding`` overrides the BSM's
    scheme (``"double_click"`` / ``"single_click"``, detection in the hub only).
    """
    return pair_link_budget(
        scheme,
        memory_a=qpu_a.memory,
        memory_b=qpu_b.memory,
        fibre_a=qpu_a.fibre,
        fibre_b=qpu_b.fibre,
        switch=hub.switch_params(),
        n_ports=hub.n_switch_ports(n_qpus),
        bsm=hub.bsm,
        source=hub.source,
        detector=qpu_a.detector,
        hub_memory=hub.memory,
        hub_qpu=hub.qpu,
        transduction_efficiency_a=qpu_a.transduction_efficiency,
        transduction_efficiency_b=qpu_b.transduction_efficiency,
        classical_processing_ns=hub.processing_ns,
        heralding=heralding,
    )


@dataclass(frozen=True)
class PresetHub:
    """Resolved hub of N identical QPUs from a preset.

    Attributes
    ----------
    nodes : list of QpuSpec
    hub : HubSpec
    switch : SwitchParams
        The fabric used (see :func:`fabric_for`).
    stages : int
        Switch stages on a path (:func:`hardware_models.switch.switch_stages` of the
        network's port count).
    fibre_km : float
        Fibre length of every QPU, km.
    budget : LinkBudget
        Closed-form per-attempt budget of a QPU pair (:func:`pair_budget`).
    """

    nodes: list[QpuSpec]
    hub: HubSpec
    switch: SwitchParams
    stages: int
    fibre_km: float
    budget: LinkBudget

    @property
    def p_budget(self) -> float:
        """Closed-form per-attempt success of a QPU pair."""
        return self.budget.p_success

    @property
    def fidelity_budget(self) -> float:
        """Fidelity of the heralded state with its target Bell state."""
        return self.budget.fidelity


def build_preset_hub(
    preset: HardwarePreset | str,
    path: PathModel,
    n_qpus: int,
    *,
    bsm_stations: int | None = None,
    comm_qubits: int | None = None,
) -> PresetHub:
    """Hub-network specifications of ``n_qpus`` identical QPUs of ``preset`` on ``path``.

    Parameters
    ----------
    preset : HardwarePreset or str
        A preset or its name.
    path : PathModel
    n_qpus : int
        N (>= 2).
    bsm_stations : int, optional
        Stations (and sources) available to one request (default ``path.bank_size``); the
        switch holds two circuits per station.
    comm_qubits : int, optional
        Overrides the path's / preset's communication qubits per QPU.

    Notes
    -----
    Every preset field goes where :meth:`QpuSpec.from_preset` and :meth:`HubSpec.from_preset`
    send it; the study changes only the fibre length (:func:`fibre_length_km`), the switch
    fabric (:func:`fabric_for`), the bank sizes and the communication qubits. The hub memory
    is not used (``memory_slots = 0``: detection in the hub).
    """
    p = load_preset(preset) if isinstance(preset, str) else preset
    sw = fabric_for(p, path)
    length = fibre_length_km(path, n_qpus)
    comm = comm_qubits or path.comm_qubits or p.qpu.n_comm_qubits
    node = QpuSpec.from_preset(p, fibre_length_km=length, comm_qubits=int(comm))
    stations = bsm_stations or path.bank_size
    hub = replace_params(
        HubSpec.from_preset(p, bsm_stations=stations, sources=stations, memory_slots=0,
                            max_circuits=2 * stations),
        switch=sw.model_dump(),
    )
    stages = switch_stages(hub.switch_params(), hub.n_switch_ports(n_qpus))
    budget = pair_budget(node, node, hub, n_qpus)
    return PresetHub([node] * n_qpus, hub, sw, stages, length, budget)
