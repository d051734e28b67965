"""Input errors of ``kind = "datacentre"``: one line naming the file, the field and its value.

The study's ``load_scenario`` applies ``--seed`` / ``--trials`` through the shared
:func:`modenhub_net.studies.skeleton.with_overrides` and validates; these tests hold it to the
error contract of every study (ARCHITECTURE.md §2: nothing written on bad input, a
``UserInputError`` naming the field).
"""

from __future__ import annotations

import copy

import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.studies.datacentre_study import load_scenario
from tests.studies._shipped import shipped

SOURCE = "scenarios/datacentre.toml"


@pytest.mark.parametrize(
    ("over", "field", "value"),
    [
        ({"workload": {"urgent_fraction": 1.5}}, "workload.urgent_fraction", "1.5"),
        ({"workload": {"cnot_fraction": "many"}}, "workload.cnot_fraction", "'many'"),
        ({"workload": {"bogus": 1}}, "workload.bogus", "unknown key"),
        ({"network": {"sizes": [2]}}, "network.sizes", "[2]"),
        ({"orchestrator": {"schedulers": ["fifo", "lifo"]}}, "orchestrator.schedulers[1]", "'lifo'"),
        ({"orchestrator": {"schedulers": []}}, "orchestrator.schedulers", "at least 1"),
        ({"study": {"batches": 2}}, "study.batches", "2"),
        ({"workload": "x"}, "workload", "'x'"),
        ({"seed": -1}, "seed", "-1"),
    ],
)
@pytest.mark.parametrize("trials", [None, 500])
def test_bad_field_is_one_line_naming_file_field_and_value(over: dict, field: str, value: str,
                                                           trials: int | None) -> None:
    with pytest.raises(UserInputError) as info:
        load_scenario(shipped("datacentre", **over), source=SOURCE, trials=trials)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{SOURCE}: {field}")
    assert value in message


@pytest.mark.parametrize(("over", "field"), [
    ({"orchestrator": {"schedulers": ["lifo"]}}, "orchestrator.schedulers[0]"),
    ({"network": {"sizes": ["a"]}}, "network.sizes[0]"),
])
def test_the_only_entry_bad_is_one_line(over: dict, field: str) -> None:
    with pytest.raises(UserInputError) as info:
        load_scenario(shipped("datacentre", **over), source=SOURCE)
    assert str(info.value).startswith(f"{SOURCE}: {field} = ")
    assert "\n" not in str(info.value)


def test_overrides_set_seed_and_requests_and_leave_the_document_alone() -> None:
    doc = shipped("datacentre")
    before = copy.deepcopy(doc)
    scenario = load_scenario(doc, source=SOURCE, seed=11, trials=400)
    assert (scenario.seed, scenario.workload.requests) == (11, 400)
    assert doc == before
    untouched = load_scenario(doc, source=SOURCE)
    assert (untouched.seed, untouched.workload.requests) == (doc["seed"], doc["workload"]["requests"])


def test_trials_creates_a_missing_workload_section() -> None:
    doc = shipped("datacentre")
    del doc["workload"]
    assert load_scenario(doc, source=SOURCE).workload.requests != 321
    assert load_scenario(doc, source=SOURCE, trials=321).workload.requests == 321
