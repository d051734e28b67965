"""Summaries of bounded quantities keep their intervals inside [0, 1]."""

from __future__ import annotations

import numpy as np

from protocols.records import RequestRecord, records_frame, summarise_records


def _record(i: int, fidelity: float) -> RequestRecord:
    return RequestRecord(i, 0, 1, "teleport", "orchestrated", True, 2, 1, False, 1e3, 10.0,
                         fidelity, fidelity, 0.0, 0.0, 1e3, 4, 2, "")


def test_fidelity_interval_near_one_stays_inside_the_unit_interval():
    # 30 requests, most at fidelity 1: a normal interval m +- 1.96 s / sqrt(n) would pass 1
    values = [1.0] * 28 + [0.9, 0.95]
    frame = records_frame([_record(i, f) for i, f in enumerate(values)])
    row = summarise_records(frame).iloc[0]
    mean = np.mean(values)
    normal_high = mean + 1.96 * np.std(values, ddof=1) / np.sqrt(len(values))
    assert normal_high > 1.0  # the case the bounded interval exists for
    for name in ("fidelity", "pair_fidelity"):
        low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
        assert 0.0 <= low < row[f"mean_{name}"] < high <= 1.0


def test_new_columns_have_their_types():
    frame = records_frame([_record(0, 0.9)])
    assert frame["blocked"].dtype == bool and frame["dropped"].dtype == bool
    assert np.isnan(frame["queue_wait_ns"].iloc[0]) and np.isinf(frame["deadline_ns"].iloc[0])
