"""Hub scenario options reach the devices, and the hub responds as the formulas predict.

Table test: every ``[hub]`` override of a hub scenario is set to a new value and must appear
in the parameters of the component that uses it (the built network's devices); a few of
them also change a measured or closed-form quantity by the factor their formula predicts.
"""

from __future__ import annotations

import math

import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.config import HubScenario
from modenhub_net.simulation import Simulation


def _scenario(scheme="detection_in_hub", **hub):
    doc = {"kind": "hub", "name": "t", "seed": 1,
           "network": {"n_qpus": 2, "preset": "ideal", "scheme": scheme}, "hub": hub}
    return HubScenario.model_validate(doc)


def _net(scenario):
    nodes, hub = scenario.specs()
    return build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub, scheme=scenario.network.scheme,
                             link_mode="sampled")


# (override, value, where it must appear in the built network)
TABLE = [
    ("switch_architecture", "multistage", lambda n: n.switch.params.architecture),
    ("switch_loss_db_per_stage", 1.5, lambda n: n.switch.params.loss_per_stage_db),
    ("switch_fixed_loss_db", 0.7, lambda n: n.switch.params.fixed_loss_db),
    ("switch_reconfiguration_ns", 5e3, lambda n: n.switch.params.reconfiguration_time_ns),
    ("switch_max_circuits", 10, lambda n: n.switch.max_circuits),
    ("heralding", "single_click", lambda n: n.stations[0].params.scheme),
    ("hom_visibility", 0.8, lambda n: n.stations[0].params.visibility),
    ("bright_state_alpha", 0.3, lambda n: n.stations[0].params.bright_state_alpha),
    ("coincidence_window_ns", 7.0, lambda n: n.stations[0].params.coincidence_window_ns),
    ("phase_noise_std_rad", 0.2, lambda n: n.stations[0].params.phase_noise_std_rad),
    ("detector_efficiency", 0.7, lambda n: n.stations[0].params.detector.efficiency),
    ("dark_count_rate_hz", 50.0, lambda n: n.stations[0].params.detector.dark_count_rate_hz),
    ("detection_window_ns", 20.0, lambda n: n.stations[0].params.detector.window_ns),
    ("dead_time_ns", 30.0, lambda n: n.stations[0].params.detector.dead_time_ns),
    ("number_resolving", False, lambda n: n.stations[0].params.detector.number_resolving),
    ("dark_count_statistics", "at_most_one",
     lambda n: n.stations[0].params.detector.dark_count_statistics),
    ("spdc_mean_pairs", 0.2, lambda n: n.sources[0].params.mu),
    ("spdc_repetition_rate_hz", 2e6, lambda n: n.sources[0].params.repetition_rate_hz),
    ("spdc_pair_statistics", "poisson", lambda n: n.sources[0].params.pair_statistics),
    ("memory_t1_ns", 5e6, lambda n: n.hub_memory.comm.params.t1_ns),  # with T2 <= 2 T1 below
    ("memory_t2_ns", 1e6, lambda n: n.hub_memory.comm.params.t2_ns),
    ("memory_efficiency", 0.6, lambda n: n.hub_memory.comm.params.emission_efficiency),
    ("swap_gate_error", 0.01, lambda n: n.hub_memory.params.two_qubit_gate_depolar_prob),
    ("sources", 3, lambda n: len(n.sources)),
    ("bsm_stations", 5, lambda n: len(n.stations)),
    ("memory_slots", 6, lambda n: n.hub_memory.comm.n_slots),
    ("processing_ns", 40.0, lambda n: n.hub.processing_ns),
]


@pytest.mark.parametrize("key, value, where", TABLE, ids=[row[0] for row in TABLE])
def test_every_hub_option_reaches_its_component(key, value, where):
    extra = {"memory_t2_ns": 1e6} if key == "memory_t1_ns" else {}  # the preset's T2 is inf
    net = _net(_scenario(**{key: value}, **extra))
    assert where(net) == value
    if key.startswith(("detector_", "dark_count", "detection_window", "dead_time", "number_res")):
        # the QPUs' herald detectors take the same detector options
        field = {"detector_efficiency": "efficiency", "detection_window_ns": "window_ns"}.get(key, key)
        assert getattr(net.specs[0].detector, field) == value


def test_hub_responds_as_its_formulas_predict():
    base = _net(_scenario(detector_efficiency=0.8))
    # double click without dark counts: p = eta_A eta_B eta_d^2 / 2 (Barrett & Kok 2005)
    assert base.budget(0, 1).p_success == pytest.approx(0.8**2 / 2)
    halved = _net(_scenario(detector_efficiency=0.4))
    assert halved.budget(0, 1).p_success / base.budget(0, 1).p_success == pytest.approx(0.25)
    # 3 dB more switch loss per pass (crossbar: one stage), two photons: p x 10^(-0.6)
    lossy = _net(_scenario(detector_efficiency=0.8, switch_loss_db_per_stage=3.0))
    assert lossy.budget(0, 1).p_success / base.budget(0, 1).p_success == pytest.approx(10 ** -0.6)
    # HOM visibility: F = (1 + V) / 2 (Barrett & Kok 2005)
    assert _net(_scenario(hom_visibility=0.8)).budget(0, 1).fidelity == pytest.approx(0.9)
    # switch reconfiguration: the per-circuit set-up cost, not in the attempt period
    slow = _net(_scenario(switch_reconfiguration_ns=5e3)).budget(0, 1)
    assert slow.setup_ns == 5e3 and slow.attempt_period_ns == base.budget(0, 1).attempt_period_ns
    # source in the hub: p grows ~ linearly with the mean pair number at small mu
    lo = _net(_scenario("source_in_hub", spdc_mean_pairs=0.001)).budget(0, 1).p_success
    hi = _net(_scenario("source_in_hub", spdc_mean_pairs=0.002)).budget(0, 1).p_success
    assert hi / lo == pytest.approx(2.0, rel=5e-3)
    assert math.isfinite(lo) and lo > 0


@pytest.mark.parametrize("hub, field", [
    ({"hom_visibility": 1.5}, "hom_visibility"),
    ({"detector_efficiency": -0.1}, "detector_efficiency"),
    ({"heralding": "triple_click"}, "heralding"),
    ({"memory_t1_ns": 100.0, "memory_t2_ns": 1000.0}, "memory_t2_ns"),
    ({"switch_max_circuits": 1}, "switch_max_circuits"),
    ({"leg_cutoff_ns": 0.0}, "leg_cutoff_ns"),
    ({"preset": "no_such_preset"}, "preset"),
])
def test_bad_hub_options_name_the_field(hub, field):
    from modenhub_net.config import validate_document

    doc = {"kind": "hub", "name": "t", "seed": 1, "network": {"n_qpus": 2}, "hub": hub}
    with pytest.raises(UserInputError, match=field):
        validate_document(HubScenario, doc, source="t.toml")
