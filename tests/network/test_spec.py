"""The hub's parameter containers carry every preset field to its component."""

from __future__ import annotations

import pytest

from hardware_models import available_presets, load_preset
from modenhub_net.errors import UserInputError
from modenhub_net.network.spec import HubSpec, QpuSpec


def _leaves(model, prefix=""):
    for name in type(model).model_fields:
        value = getattr(model, name)
        if hasattr(type(value), "model_fields"):
            yield from _leaves(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def _get(obj, path):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


# where each preset section lands; qpu counts are overridden by the hub scenario on purpose
_QPU_SIDE = {"fibre": "fibre", "memory": "memory", "data_memory": "data_memory", "qpu": "qpu",
             "detector": "detector", "transduction_efficiency": "transduction_efficiency"}
_HUB_SIDE = {"source": "source", "bsm": "bsm", "switch": "switch"}


@pytest.mark.parametrize("name", available_presets())
def test_every_preset_field_reaches_a_spec(name):
    preset = load_preset(name)
    qpu = QpuSpec.from_preset(preset, fibre_length_km=3.0)
    hub = HubSpec.from_preset(preset)
    unused = []
    for path, value in _leaves(preset):
        head = path.split(".")[0]
        if head in ("name", "description"):
            continue
        if head in _QPU_SIDE:
            got = _get(qpu, path)
        elif head in _HUB_SIDE:
            got = _get(hub, path)
        else:
            unused.append(path)
            continue
        if path == "fibre.length_km":
            assert got == 3.0
        elif got != value:
            unused.append(path)
    assert not unused, f"preset fields not carried over: {unused}"
    assert hub.memory == preset.memory and hub.qpu == preset.qpu


def test_overrides_and_transduction():
    preset = load_preset("superconducting_transduced")
    qpu = QpuSpec.from_preset(preset, fibre_length_km=1.0, comm_qubits=5, data_qubits=3)
    assert (qpu.comm_qubits, qpu.qpu.n_data_qubits) == (5, 3)
    t = preset.transduction_efficiency
    mem = qpu.comm_memory()
    assert mem.emission_efficiency == pytest.approx(preset.memory.emission_efficiency * t)
    assert mem.write_efficiency == pytest.approx(preset.memory.write_efficiency * t)


def test_bad_values_name_the_field():
    with pytest.raises(UserInputError, match="transduction_efficiency"):
        QpuSpec(transduction_efficiency=0.0)
    with pytest.raises(UserInputError, match="bsm_stations"):
        HubSpec(bsm_stations=0)
    with pytest.raises(UserInputError, match="bsm_stations"):
        HubSpec(bsm_stations=True)
    with pytest.raises(UserInputError, match="switch_ports"):
        HubSpec(switch_ports=5).n_switch_ports(4)
    assert HubSpec(max_circuits=8).n_switch_ports(4) == 4 + 2 * 2
