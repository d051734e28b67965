"""Validated, frozen parameter containers of the hub network: what each node is built from.

A :class:`QpuSpec` says what one QPU and its photonic link are made of, a :class:`HubSpec`
what the hub is made of. Both hold the device parameter models of :mod:`hardware_models`
(the same validated :class:`~modenhub_net.config.ParamsModel` classes the devices use) and
**no physics**: the network builder (:mod:`modenhub_net.network.builder`) turns each of them
into component instances (:class:`hardware_models.QPU`, :class:`hardware_models.QuantumMemory`,
:class:`hardware_models.Fibre`, :class:`hardware_models.OpticalSwitch`,
:class:`hardware_models.SpdcSource`, :class:`hardware_models.BsmStation`,
:class:`hardware_models.Detector`), and the closed forms of those devices
(:mod:`hardware_models.link_budget`) give the per-attempt physics.

``from_preset`` carries **every** field of a :class:`hardware_models.HardwarePreset` to the
component that uses it (:meth:`QpuSpec.from_preset`, :meth:`HubSpec.from_preset`; the table of
their docstrings names the component of each field).

Examples
--------
>>> from hardware_models import load_preset
>>> preset = load_preset("near_term_trapped_ion")
>>> qpu = QpuSpec.from_preset(preset, fibre_length_km=2.0, comm_qubits=8)
>>> qpu.fibre.length_km, qpu.comm_qubits, qpu.qpu.two_qubit_gate_depolar_prob
(2.0, 8, 0.0133)
>>> hub = HubSpec.from_preset(preset, bsm_stations=4)
>>> hub.bsm.scheme, hub.bsm_stations
('double_click', 4)
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from hardware_models.bsm import BsmParams
from hardware_models.detector import DetectorParams
from hardware_models.fibre import FibreParams
from hardware_models.memory import MemoryParams
from hardware_models.presets import HardwarePreset
from hardware_models.qpu import QpuParams
from hardware_models.spdc import SpdcParams
from hardware_models.switch import SwitchParams
from modenhub_net.config import ParamsModel
from modenhub_net.errors import UserInputError

__all__ = ["IDEAL_DETECTOR", "HubSpec", "QpuSpec", "SCHEMES", "LINK_MODES"]

#: Link schemes of the hub (ARCHITECTURE.md §4).
SCHEMES: tuple[str, ...] = ("source_in_hub", "detection_in_hub", "hub_memory_swap")
#: Link modes: every attempt through the components, or failures skipped by their closed form.
LINK_MODES: tuple[str, ...] = ("sampled", "detailed")

#: An ideal detector: unit efficiency, no dark counts, no dead time, 1 ns window (a definition).
IDEAL_DETECTOR = DetectorParams(
    efficiency=1.0, dark_count_rate_hz=0.0, window_ns=1.0, number_resolving=False, dead_time_ns=0.0
)


def _with(model: Any, **changes: Any) -> Any:
    """A validated copy of a params model with some fields changed."""
    return type(model)(**{**model.model_dump(), **changes})


class QpuSpec(ParamsModel):
    """One QPU and its photonic link to the hub.

    Parameters
    ----------
    fibre : FibreParams
        The QPU's fibre to its switch port (length, attenuation, insertion loss, speed,
        depolarisation): a :class:`hardware_models.Fibre` each way. Default: 0 km of ideal
        fibre (``FibreParams(attenuation_db_per_km=0)``).
    memory : MemoryParams
        Communication qubits (T1, T2, depolarising time, read/write efficiency, emission
        efficiency and fidelity, emitter timing): the QPU's ``comm``
        :class:`hardware_models.QuantumMemory`. Default ideal ``MemoryParams()``.
    data_memory : MemoryParams or None
        Data qubits (teleported states, CNOT operands wait here); None = same as ``memory``.
        Default None.
    qpu : QpuParams
        Gate and measurement errors and durations and the qubit counts of the
        :class:`hardware_models.QPU` node; ``qpu.n_comm_qubits`` is the number of
        communication qubits (at most this many pairs held at once). Default: 8
        communication and 2 data qubits, ideal gates.
    detector : DetectorParams
        The QPU's herald detector of heralded storage (``source_in_hub`` and the legs of
        ``hub_memory_swap``): a :class:`hardware_models.Detector`. Default
        :data:`IDEAL_DETECTOR`.
    transduction_efficiency : float
        Microwave-to-optical conversion efficiency in (0, 1] applied to every photon the QPU
        emits or receives (``HardwarePreset.transduction_efficiency``): it is part of the
        QPU's photon interface, so :meth:`comm_memory` folds it into the memory's emission
        and write efficiencies. Default 1 (no transducer).
    label : str
        Name for reports (the preset's name when built by :meth:`from_preset`). Default "".
    """

    fibre: FibreParams = FibreParams(attenuation_db_per_km=0.0)
    memory: MemoryParams = MemoryParams()
    data_memory: MemoryParams | None = None
    qpu: QpuParams = QpuParams(n_comm_qubits=8, n_data_qubits=2)
    detector: DetectorParams = IDEAL_DETECTOR
    transduction_efficiency: float = Field(1.0, gt=0.0, le=1.0)
    label: str = ""

    @property
    def comm_qubits(self) -> int:
        """Communication qubits of the QPU (``qpu.n_comm_qubits``)."""
        return self.qpu.n_comm_qubits

    @property
    def data_memory_params(self) -> MemoryParams:
        """Data-qubit memory parameters (``data_memory`` or, if None, ``memory``)."""
        return self.data_memory if self.data_memory is not None else self.memory

    def comm_memory(self) -> MemoryParams:
        """The communication memory as built: ``memory`` with the transducer in its photon path.

        The transducer converts every photon the memory emits (emission efficiency) or
        absorbs (write efficiency), so both are multiplied by ``transduction_efficiency``
        (``HardwarePreset`` documents it as "a loss on every photon a QPU emits or receives").
        """
        t = self.transduction_efficiency
        if t == 1.0:
            return self.memory
        return _with(
            self.memory,
            emission_efficiency=self.memory.emission_efficiency * t,
            write_efficiency=self.memory.write_efficiency * t,
        )

    def with_fibre_length(self, length_km: float) -> QpuSpec:
        """The same QPU at another fibre length (km, >= 0)."""
        return _with(self, fibre=_with(self.fibre, length_km=length_km))

    @classmethod
    def from_preset(
        cls,
        preset: HardwarePreset | str,
        *,
        fibre_length_km: float,
        comm_qubits: int | None = None,
        data_qubits: int | None = None,
    ) -> QpuSpec:
        """A QPU of a hardware preset, with every QPU-side preset field carried over.

        ========================== ==========================================================
        preset field               used by
        ========================== ==========================================================
        ``fibre.*``                the QPU's :class:`~hardware_models.Fibre` (up and down)
        ``memory.*``               the ``comm`` :class:`~hardware_models.QuantumMemory`
        ``data_memory.*``          the ``data`` :class:`~hardware_models.QuantumMemory`
        ``qpu.*``                  the :class:`~hardware_models.QPU` (gates, readout, counts)
        ``detector.*``             the QPU's herald :class:`~hardware_models.Detector`
        ``transduction_efficiency`` the ``comm`` memory's photon path (:meth:`comm_memory`)
        ========================== ==========================================================

        The hub-side fields (``source``, ``bsm``, ``switch``) go to :meth:`HubSpec.from_preset`.

        Parameters
        ----------
        preset : HardwarePreset or str
            A preset or the name/path :func:`hardware_models.load_preset` accepts.
        fibre_length_km : float
            Length of the QPU's fibre in km (>= 0); the preset has none.
        comm_qubits, data_qubits : int, optional
            Override the preset's ``qpu.n_comm_qubits`` / ``qpu.n_data_qubits``.
        """
        preset = _load(preset)
        qpu = preset.qpu
        changes: dict[str, int] = {}
        if comm_qubits is not None:
            changes["n_comm_qubits"] = comm_qubits
        if data_qubits is not None:
            changes["n_data_qubits"] = data_qubits
        if changes:
            qpu = _with(qpu, **changes)
        return cls(
            fibre=_with(preset.fibre, length_km=fibre_length_km),
            memory=preset.memory,
            data_memory=preset.data_memory,
            qpu=qpu,
            detector=preset.detector,
            transduction_efficiency=preset.transduction_efficiency,
            label=preset.name,
        )


class HubSpec(ParamsModel):
    """The photonic hub: switch, SPDC sources, BSM stations, hub memory.

    Parameters
    ----------
    switch : SwitchParams
        The hub's :class:`~hardware_models.OpticalSwitch` (architecture, loss per stage,
        fixed loss, reconfiguration time). Its ``max_circuits`` is replaced by
        :attr:`max_circuits`. Default ideal ``SwitchParams()``.
    bsm : BsmParams
        Every :class:`~hardware_models.BsmStation` of the bank (scheme double/single click,
        HOM visibility, bright-state population, coincidence window, its detectors).
        Default: double click with :data:`IDEAL_DETECTOR` detectors.
    source : SpdcParams
        Every :class:`~hardware_models.SpdcSource` of the bank (mean pair number,
        repetition rate, target Bell state, coupling, pair statistics). Default
        ``SpdcParams()``.
    memory : MemoryParams
        The hub's shared :class:`~hardware_models.QuantumMemory` (``hub_memory_swap``: it
        emits a photon entangled with a memory qubit towards each QPU). Default ideal.
    qpu : QpuParams
        Local operations of the hub memory (the Bell measurement that swaps two legs: gate
        and readout errors and durations); ``n_comm_qubits`` is replaced by
        :attr:`memory_slots`. Default ideal, instantaneous.
    bsm_stations : int
        BSM stations in the bank, in [1, 100000] (``detection_in_hub``: at most this many
        attempts at once). Default 8.
    sources : int
        SPDC sources in the bank, in [1, 100000] (``source_in_hub``: at most this many
        attempts at once). Default 8.
    memory_slots : int
        Slots of the hub memory, in [0, 100000] (``hub_memory_swap`` needs >= 2). Default 16.
    max_circuits : int
        Simultaneous circuits of the switch, in [2, 1000000]; a QPU pair uses two (one per
        QPU fibre, each carrying all the attempt modes of a round). Default 64.
    switch_ports : int or None
        Ports of the switch (sets the number of stages of a multistage fabric); None = one
        per QPU plus two per pair of circuits (:meth:`n_switch_ports`). Default None.
    processing_ns : float
        Classical processing time of the hub per herald message in ns, in [0, 1e12].
        Default 0.
    """

    switch: SwitchParams = SwitchParams()
    bsm: BsmParams = BsmParams(detector=IDEAL_DETECTOR, coincidence_window_ns=1.0)
    source: SpdcParams = SpdcParams()
    memory: MemoryParams = MemoryParams()
    qpu: QpuParams = QpuParams(n_comm_qubits=1, n_data_qubits=0)
    bsm_stations: int = Field(8, ge=1, le=100_000, strict=True)
    sources: int = Field(8, ge=1, le=100_000, strict=True)
    memory_slots: int = Field(16, ge=0, le=100_000, strict=True)
    max_circuits: int = Field(64, ge=2, le=1_000_000, strict=True)
    switch_ports: int | None = Field(None, ge=2, le=1_000_000, strict=True)
    processing_ns: float = Field(0.0, ge=0.0, le=1e12, allow_inf_nan=False)

    @model_validator(mode="after")
    def _circuits(self) -> HubSpec:
        if self.switch.max_circuits is not None and self.switch.max_circuits != self.max_circuits:
            raise ValueError(
                f"switch.max_circuits = {self.switch.max_circuits!r} differs from max_circuits = "
                f"{self.max_circuits!r}; give the circuit limit once (max_circuits)"
            )
        return self

    def lanes(self, n_qpus: int) -> int:
        """QPU pairs the switch can join at once: ``min(max_circuits // 2, n_qpus // 2)`` (>= 1)."""
        return max(1, min(self.max_circuits // 2, n_qpus // 2))

    def n_switch_ports(self, n_qpus: int) -> int:
        """Switch ports: :attr:`switch_ports`, or one per QPU plus two per lane.

        Raises
        ------
        UserInputError
            If ``switch_ports`` is too small for the QPUs and the hub's lane ports.
        """
        need = n_qpus + 2 * self.lanes(n_qpus)
        if self.switch_ports is None:
            return need
        if self.switch_ports < need:
            raise UserInputError(
                f"hub.switch_ports = {self.switch_ports}: must be >= n_qpus + 2 * lanes = {need} "
                f"for {n_qpus} QPUs"
            )
        return self.switch_ports

    def switch_params(self) -> SwitchParams:
        """The switch's parameters with the circuit limit :attr:`max_circuits`."""
        return _with(self.switch, max_circuits=self.max_circuits)

    def hub_qpu_params(self) -> QpuParams:
        """The hub memory node's :class:`~hardware_models.QpuParams` (``memory_slots`` slots)."""
        return _with(self.qpu, n_comm_qubits=max(1, self.memory_slots), n_data_qubits=0)

    @classmethod
    def from_preset(
        cls,
        preset: HardwarePreset | str,
        *,
        bsm_stations: int = 8,
        sources: int = 8,
        memory_slots: int = 16,
        max_circuits: int = 64,
        switch_ports: int | None = None,
    ) -> HubSpec:
        """A hub of a hardware preset, with every hub-side preset field carried over.

        ================= ==================================================================
        preset field      used by
        ================= ==================================================================
        ``switch.*``      the :class:`~hardware_models.OpticalSwitch`
        ``bsm.*``         every :class:`~hardware_models.BsmStation` (with its detectors)
        ``source.*``      every :class:`~hardware_models.SpdcSource`
        ``memory.*``      the hub's :class:`~hardware_models.QuantumMemory`
        ``qpu.*``         gates and readout of the hub memory's Bell measurement
        ================= ==================================================================

        The preset's ``qpu.n_comm_qubits`` / ``n_data_qubits`` are replaced by
        ``memory_slots`` / 0 for the hub.
        """
        preset = _load(preset)
        switch = preset.switch
        if switch.max_circuits is not None:
            max_circuits = switch.max_circuits
        return cls(
            switch=switch,
            bsm=preset.bsm,
            source=preset.source,
            memory=preset.memory,
            qpu=preset.qpu,
            bsm_stations=bsm_stations,
            sources=sources,
            memory_slots=memory_slots,
            max_circuits=max_circuits,
            switch_ports=switch_ports,
        )


def _load(preset: HardwarePreset | str) -> HardwarePreset:
    if isinstance(preset, HardwarePreset):
        return preset
    from hardware_models.presets import load_preset

    return load_preset(preset)
