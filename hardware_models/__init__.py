"""Physically detailed device models of the ModEn-Hub data plane, one module per device.

Every parameter model is a frozen :class:`~modenhub_net.config.ParamsModel` documenting unit,
default, valid range and the source of the default; every device is a kernel component with
ports. ``link_budget`` turns a path of devices into the per-attempt success probability,
attempt period and heralded state in closed form (the bridge to the paper's p_eff), and
``presets`` loads the cited hardware parameter sets of ``scenarios/hardware/*.toml``.
"""

from hardware_models.bsm import (
    HERALD_LABELS,
    BsmParams,
    BsmStation,
    double_click_fidelity,
    double_click_heralded_state,
    double_click_success_probability,
    false_herald_probability,
    herald_success_probability,
    heralded_state,
    single_click_fidelity,
    single_click_heralded_state,
    single_click_success_probability,
)
from hardware_models.detector import (
    Detector,
    DetectorParams,
    blind_windows,
    click_probability,
    dark_count_probability,
    registered_click_fraction,
)
from hardware_models.fibre import (
    ClassicalFibre,
    Fibre,
    FibreParams,
    fibre_delay_ns,
    fibre_depolar_probability,
    fibre_transmission,
)
from hardware_models.link_budget import LinkBudget, detection_in_hub_budget, source_in_hub_budget
from hardware_models.memory import (
    MemoryParams,
    QuantumMemory,
    SlotEmptyError,
    SlotOccupiedError,
    emitter_attempt_period_ns,
    stored_pair_fidelity,
)
from hardware_models.presets import HardwarePreset, available_presets, load_preset
from hardware_models.qpu import QPU, QpuParams, bell_preparation_fidelity, depolar_prob_from_gate_fidelity
from hardware_models.spdc import (
    SpdcParams,
    SpdcSource,
    pair_number_distribution,
    spdc_attempt_period_ns,
    spdc_herald_probability,
    spdc_heralded_fidelity,
    spdc_heralded_state,
    spdc_stored_fidelity,
    spdc_stored_state,
    two_mode_pair_amplitudes,
    two_mode_pair_ket,
)
from hardware_models.switch import (
    OpticalSwitch,
    SwitchParams,
    switch_loss_db,
    switch_stages,
    switch_transmission,
)

__all__ = [
    "BsmParams", "BsmStation", "ClassicalFibre", "Detector", "DetectorParams", "Fibre",
    "FibreParams", "HardwarePreset", "HERALD_LABELS", "LinkBudget", "MemoryParams", "OpticalSwitch",
    "QPU", "QpuParams", "QuantumMemory", "SlotEmptyError", "SlotOccupiedError", "SpdcParams",
    "SpdcSource", "SwitchParams", "available_presets", "bell_preparation_fidelity", "blind_windows",
    "click_probability", "dark_count_probability", "depolar_prob_from_gate_fidelity",
    "detection_in_hub_budget", "double_click_fidelity", "double_click_heralded_state",
    "double_click_success_probability", "emitter_attempt_period_ns", "false_herald_probability",
    "fibre_delay_ns", "fibre_depolar_probability", "fibre_transmission",
    "herald_success_probability", "heralded_state", "load_preset", "pair_number_distribution",
    "registered_click_fraction", "single_click_fidelity", "single_click_heralded_state",
    "single_click_success_probability", "source_in_hub_budget", "spdc_attempt_period_ns",
    "spdc_herald_probability", "spdc_heralded_fidelity", "spdc_heralded_state",
    "spdc_stored_fidelity", "spdc_stored_state", "stored_pair_fidelity", "switch_loss_db",
    "switch_stages", "switch_transmission", "two_mode_pair_amplitudes", "two_mode_pair_ket",
]
