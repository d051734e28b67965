"""Valid base documents shared by the validation table and the fuzz tests."""

from __future__ import annotations

import copy
from typing import Any

AGGREGATE: dict[str, Any] = {
    "kind": "aggregate",
    "name": "tiny_aggregate",
    "seed": 1,
    "model": {"p0": 0.35, "beta": 0.35, "kappa": 0.9, "k_min": 2, "rounds": 3},
    "study": {"n_qpus": [2, 4], "trials": 40, "strategies": ["naive", "orchestrated"],
              "write_requests": False},
}

HUB: dict[str, Any] = {
    "kind": "hub",
    "name": "tiny_hub",
    "seed": 1,
    "network": {"preset": "ideal", "scheme": "detection_in_hub", "link_mode": "sampled",
                "qpus": [{"fibre_length_km": 1.0}, {"fibre_length_km": 2.0}]},
    "hub": {"bsm_stations": 2, "sources": 2, "memory_slots": 4},
    "orchestrator": {"policies": ["naive", "orchestrated"], "rounds": 3, "kappa": 0.9,
                     "k_min": 2},
    "cache": {"capacity": 1, "eviction": "oldest"},
    "workload": {"kind": "uniform", "requests": 10},
}


def aggregate(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`AGGREGATE`; ``changes`` maps dotted paths to values (None deletes)."""
    return _changed(AGGREGATE, changes)


def hub(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`HUB` with dotted-path changes (``__`` stands for ``.``)."""
    return _changed(HUB, changes)


def _changed(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    for dotted, value in changes.items():
        parts = dotted.split("__")
        node = doc
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return doc
