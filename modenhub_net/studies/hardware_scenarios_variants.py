"""The one-at-a-time hardware improvements of the ``hardware_scenarios`` sensitivity study.

Each entry of :data:`PARAMETERS` improves one leading hardware parameter of a preset's QPU and
hub specs by a factor of two (efficiencies x2 capped at 1, losses in dB / 2, coherence times
x2, infidelities / 2, reconfiguration time / 2, communication qubits x2); every changed spec
is validated again (:func:`modenhub_net.studies.preset_path.replace_params`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.studies.preset_path import replace_params

__all__ = ["PARAMETERS"]


# -- parameter improvements (factor-of-two rule, module docstring) ---------------------------
def _qpus(f: Callable[[QpuSpec], dict[str, Any]]) -> Callable:
    """A change of every QPU spec: ``f(spec)`` gives the changed fields (nested as dicts)."""
    return lambda nodes, hub: ([_change(n, f(n)) for n in nodes], hub)


def _hub(f: Callable[[HubSpec], dict[str, Any]]) -> Callable:
    """A change of the hub spec: ``f(hub)`` gives the changed fields (nested as dicts)."""
    return lambda nodes, hub: (nodes, _change(hub, f(hub)))


def _change(model: Any, changes: dict[str, Any]) -> Any:
    """Validated copy of ``model`` with (possibly nested) field changes."""
    out = {}
    for key, value in changes.items():
        out[key] = _change(getattr(model, key), value) if isinstance(value, dict) else value
    return replace_params(model, **out)


def _halve_infidelity(f: float) -> float:
    return 1.0 - (1.0 - f) / 2.0


def _memories(n: QpuSpec, f: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"memory": f(n.memory)}
    if n.data_memory is not None:
        out["data_memory"] = f(n.data_memory)
    return out


#: parameter name -> (description, transformation of (QPU specs, hub spec))
PARAMETERS: dict[str, tuple[str, Callable]] = {
    "emission_efficiency": (
        "QPU photon emission/collection efficiency x2 (cap 1)",
        _qpus(lambda n: {"memory": {"emission_efficiency": min(1.0, 2 * n.memory.emission_efficiency)}}),
    ),
    "transduction_efficiency": (
        "microwave-optical transduction efficiency x2 (cap 1)",
        _qpus(lambda n: {"transduction_efficiency": min(1.0, 2 * n.transduction_efficiency)}),
    ),
    "emission_fidelity": (
        "spin-photon infidelity 1 - F_emission / 2",
        _qpus(lambda n: {"memory": {"emission_fidelity": _halve_infidelity(n.memory.emission_fidelity)}}),
    ),
    "detector_efficiency": (
        "BSM detector efficiency x2 (cap 1)",
        _hub(lambda h: {"bsm": {"detector": {"efficiency": min(1.0, 2 * h.bsm.detector.efficiency)}}}),
    ),
    "dark_counts": (
        "BSM detector dark-count rate / 2",
        _hub(lambda h: {"bsm": {"detector": {"dark_count_rate_hz": h.bsm.detector.dark_count_rate_hz / 2}}}),
    ),
    "switch_loss": (
        "switch loss per stage / 2 (dB)",
        _hub(lambda h: {"switch": {"loss_per_stage_db": h.switch.loss_per_stage_db / 2}}),
    ),
    "coupling_loss": (
        "fibre connector + fabric coupling loss / 2 (dB)",
        lambda nodes, hub: (
            [_change(n, {"fibre": {"loss_db": n.fibre.loss_db / 2}}) for n in nodes],
            _change(hub, {"switch": {"fixed_loss_db": hub.switch.fixed_loss_db / 2}}),
        ),
    ),
    "memory_coherence": (
        "memory T1 and T2 x2 (communication and data qubits)",
        _qpus(lambda n: _memories(n, lambda m: {"t1_ns": 2 * m.t1_ns, "t2_ns": 2 * m.t2_ns})),
    ),
    "emitter_cycle": (
        "emitter initialisation + emission + reset time / 2",
        _qpus(
            lambda n: {
                "memory": {
                    "emitter_initialisation_ns": n.memory.emitter_initialisation_ns / 2,
                    "emitter_emission_ns": n.memory.emitter_emission_ns / 2,
                    "emitter_reset_ns": n.memory.emitter_reset_ns / 2,
                }
            }
        ),
    ),
    "hom_visibility": (
        "HOM infidelity 1 - V / 2",
        _hub(lambda h: {"bsm": {"visibility": _halve_infidelity(h.bsm.visibility)}}),
    ),
    "gate_errors": (
        "1q and 2q gate errors / 2",
        _qpus(
            lambda n: {
                "qpu": {
                    "single_qubit_gate_depolar_prob": n.qpu.single_qubit_gate_depolar_prob / 2,
                    "two_qubit_gate_depolar_prob": n.qpu.two_qubit_gate_depolar_prob / 2,
                }
            }
        ),
    ),
    "measurement_error": (
        "read-out error / 2",
        _qpus(lambda n: {"qpu": {"measure_error_prob": n.qpu.measure_error_prob / 2}}),
    ),
    "reconfiguration_time": (
        "switch reconfiguration time / 2",
        _hub(lambda h: {"switch": {"reconfiguration_time_ns": h.switch.reconfiguration_time_ns / 2}}),
    ),
    "comm_qubits": (
        "communication qubits per QPU x2",
        _qpus(lambda n: {"qpu": {"n_comm_qubits": 2 * n.qpu.n_comm_qubits}}),
    ),
}
