"""The shipped example hub scenarios run and match the device closed forms.

``scenarios/hub_nv_single_click.toml`` (NV centres, single click, dark counts) and
``scenarios/hub_spdc_source.toml`` (SPDC in the hub, mu = 0.1): the records of the naive
policy (one attempt a round, so every success is one herald) give the per-attempt success
``successes / attempts`` (binomial SE of the attempt count, |z| < 4.5), the attempt period
(round durations of requests that used every round) and so the rate ``p / period``, and the
pair fidelity at use (SE of the pairs, plus the largest memory decoherence the pairs' ages
allow). The closed forms come from :func:`hardware_models.link_budget.pair_link_budget` of
the very devices the scenario builds (``HubNetwork.budget``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from modenhub_net.config import load_toml
from modenhub_net.network.builder import build_hub_network
from modenhub_net.simulation import Simulation
from modenhub_net.studies.hub_study import load_scenario, run_scenario, simulate

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize("name", ["hub_nv_single_click", "hub_spdc_source"])
def test_example_scenario_matches_closed_forms(name, tmp_path):
    path = SCENARIOS / f"{name}.toml"
    scenario = load_scenario(load_toml(path), source=str(path))
    nodes, hub = scenario.specs()
    net = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub, scheme=scenario.network.scheme,
                            link_mode=scenario.network.link_mode)
    budget = net.budget(0, 1)
    records = simulate(scenario)
    naive = records[records["policy"] == "naive"]
    attempts = int(naive["attempts"].sum())
    successes = int(naive["success"].sum())
    assert successes >= 20, "too few heralds for a test"
    p_hat = successes / attempts
    z = (p_hat - budget.p_success) / math.sqrt(budget.p_success * (1 - budget.p_success) / attempts)
    assert abs(z) < 4.5, (p_hat, budget.p_success, z)
    # every round lasts one attempt period (the circuit set-up is paid once, by the first request)
    full = naive[(~naive["success"]) & (naive["request_id"] > 0)]
    period = ((full["end_ns"] - full["start_ns"]) / full["rounds"]).to_numpy()
    assert len(period) and abs(period - budget.attempt_period_ns).max() < 1e-6 * budget.attempt_period_ns
    rate = p_hat / period.mean() * 1e9  # heralds per second of one attempt stream
    rate_se = budget.rate_hz * math.sqrt((1 - budget.p_success) / (budget.p_success * attempts))
    assert abs(rate - budget.rate_hz) < 4.5 * rate_se, (rate, budget.rate_hz, rate_se)
    # heralded fidelity at use: the budget's after the Pauli correction (one single-qubit gate
    # with depolarising p1 for a Psi herald: F -> (1 - p1) F + p1/4, Nielsen & Chuang §8.3.4),
    # less what the memories can lose in the pairs' ages (coherence factor exp(-2 age / T2))
    ok = naive[naive["success"]]
    p1 = nodes[0].qpu.single_qubit_gate_depolar_prob
    expected = (1.0 - p1) * budget.fidelity + p1 / 4.0 if budget.bell_index != 0 else budget.fidelity
    t2 = min(n.memory.t2_ns for n in nodes)
    drop = 1.0 - math.exp(-2.0 * ok["pair_age_ns"].max() / t2)
    f = ok["pair_fidelity"]
    se = f.std(ddof=1) / math.sqrt(len(f))
    assert abs(f.mean() - expected) <= 4.5 * se + drop + 1e-9, (f.mean(), expected, se, drop)
    # and the scenario runs end to end through the CLI's runner
    out = run_scenario(load_toml(path), source=str(path), out_dir=tmp_path / "out", seed=None,
                       trials=50, quiet=True)
    assert (out / "REPORT.md").exists() and (out / "summary.csv").exists()
