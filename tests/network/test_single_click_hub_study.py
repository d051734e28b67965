"""A single-click NV hub scenario, request by request, against the closed form of its links.

``scenarios/hub_nv_single_click.toml`` (two NV QPUs, single click with dark counts, naive
policy, R = 1000 rounds of one attempt): every request succeeds with ``1 - (1 - p)^R`` where
``p`` is the link budget's per-attempt herald probability
(:func:`modenhub_net.studies.hub_study.closed_form_success`). The simulated success rate of
the shipped scenario must agree within 4.5 standard errors of the request count, and the
report's link table must be the network's own budget.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from modenhub_net.network.builder import build_hub_network
from modenhub_net.simulation import Simulation
from modenhub_net.studies.hub_study import closed_form_success, link_table, load_scenario, simulate

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "hub_nv_single_click.toml"


@pytest.mark.validation
def test_nv_single_click_success_matches_the_closed_form(validation_scale) -> None:
    document = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    requests = max(500, int(2000 * validation_scale))
    scenario = load_scenario(document, source=str(SCENARIO), trials=requests)
    links = link_table(scenario)
    nodes, hub = scenario.specs()
    budget = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub, scheme="detection_in_hub",
                               link_mode="sampled").budget(0, 1)
    assert hub.bsm.scheme == "single_click" and hub.bsm.detector.dark_count_rate_hz == 100.0
    assert links.loc[0, "p_success"] == budget.p_success
    assert links.loc[0, "fidelity"] == budget.fidelity
    records = simulate(scenario)
    check = closed_form_success(scenario, records, links)
    row = check.set_index("policy").loc["naive"]
    assert row.requests == requests and row.attempts_planned == 1000
    expected = 1.0 - (1.0 - budget.p_success) ** 1000
    assert row.expected == pytest.approx(expected, rel=1e-12)
    assert expected * requests > 10  # enough expected successes to resolve the rate
    assert abs(row.z) < 4.5, row
