"""cache_decoherence: event-driven memories vs closed forms; the request stream vs its closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models.memory import MemoryParams, stored_pair_fidelity
from modenhub_net.studies import cache_decoherence as cd


@pytest.mark.parametrize(
    "params",
    [
        MemoryParams(t2_ns=1e6),
        MemoryParams(t1_ns=2e6, t2_ns=1e6),
        MemoryParams(depolar_time_ns=5e5),
        MemoryParams(t1_ns=1e6, t2_ns=2e6, depolar_time_ns=3e6),
    ],
)
@pytest.mark.parametrize("both", [False, True])
def test_simulated_memory_matches_closed_form(params: MemoryParams, both: bool) -> None:
    for age in (0.0, 3e5, 1e6, 2.5e6):
        assert cd.simulated_pair_fidelity(params, age, both_qubits=both) == pytest.approx(
            stored_pair_fidelity(age, params, both_qubits=both), abs=1e-9
        )


def test_pair_fidelity_at_age_reduces_to_stored_pair_and_dephasing_law() -> None:
    p = MemoryParams(t1_ns=3e6, t2_ns=1e6)
    for age in (0.0, 5e5, 2e6):
        assert cd.pair_fidelity_at_age(age, 1.0, p) == pytest.approx(
            stored_pair_fidelity(age, p, both_qubits=True)
        )
    q = MemoryParams(t2_ns=1e6)
    f0, t = 0.9, 7e5
    assert cd.pair_fidelity_at_age(t, f0, q) == pytest.approx(0.5 + (f0 - 0.5) * math.exp(-2 * t / 1e6))


def _stream(requests: int, cutoffs=(0.1, math.inf)) -> cd.StreamSection:
    return cd.StreamSection(requests=requests, cutoffs_over_t2=cutoffs)


def test_closed_form_limits() -> None:
    k = cd.stream_constants(_stream(100))
    tiny = cd.closed_form_objective(1e-3, k).iloc[0]
    assert tiny["product"] == pytest.approx(k.success_fresh * (2 * k.f0 + 1) / 3, rel=1e-6)
    opt = cd.closed_form_optimum(k)
    grid = cd.closed_form_objective(np.geomspace(1e5, 1e9, 50), k)["product"]
    assert opt["product"] >= grid.max() - 1e-9
    assert opt["cutoff_ns"] <= opt["threshold_cutoff_ns"]  # hits consume spares: optimum moves lower


def test_stream_matches_closed_form(validation_scale: float) -> None:
    stream = _stream(max(2000, int(12_000 * validation_scale)))
    k = cd.stream_constants(stream)
    table, records = cd.cutoff_table(stream, seed=3, keep_records_for=(math.inf,))
    closed = cd.closed_form_objective(table["cutoff_ns"].to_numpy(), k)
    for (_, row), (_, c) in zip(table.iterrows(), closed.iterrows(), strict=True):
        se_s = math.sqrt(c["success"] * (1 - c["success"]) / row["requests"])
        assert abs(row["success"] - c["success"]) < 4.5 * se_s
        assert abs(row["teleport_product"] - c["product"]) < 4.5 * row["teleport_product_se"]
    ages = records.loc[records["cache_hit"], "pair_age_ns"].to_numpy()
    mean = 1e9 / k.rate_per_pair_hz
    assert abs(ages.mean() - mean) < 4.5 * mean / math.sqrt(ages.size)  # Exp(lambda): sd = mean
