"""Sweep-file expansion: grid order, seeds, fixed values, ids, hub round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from config.cases import aggregate, hub
from config.tomlw import dumps

from modenhub_net.errors import UserInputError
from modenhub_net.sweep import derive_seeds, plan_sweep

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, sweep: dict, base: dict | None = None) -> Path:
    if base is not None:
        (tmp_path / "base.toml").write_text(dumps(base))
    path = tmp_path / "sweep.toml"
    path.write_text(dumps(sweep))
    return path


def test_grid_times_seeds(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "g", "base_file": "base.toml",
                            "fixed": {"study.trials": 7},
                            "grid": {"model.beta": [0.1, 0.2, 0.3], "model.rounds": [2, 4]},
                            "seeds": {"count": 2, "root": 11}}, aggregate())
    plan = plan_sweep(path)
    assert len(plan.points) == 12
    assert plan.seeds == derive_seeds(11, 2)
    first = plan.points[0]
    assert first.labels == {"model.beta": 0.1, "model.rounds": 2}
    assert [p.seed for p in plan.points[:2]] == list(plan.seeds)
    assert first.document["study"]["trials"] == 7 and first.document["seed"] == first.seed
    assert len({p.key for p in plan.points}) == 12
    assert plan_sweep(path).points == plan.points  # deterministic
    manifest = plan.manifest()
    assert manifest["kind"] == "aggregate" and len(manifest["points"]) == 12


def test_trials_override_changes_ids(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "g", "base_file": "base.toml",
                            "grid": {"model.beta": [0.1]}}, aggregate())
    a, b = plan_sweep(path).points[0], plan_sweep(path, trials=5).points[0]
    assert b.document["study"]["trials"] == 5 and a.key != b.key
    assert a.seed == aggregate()["seed"]  # no [seeds]: the base seed


def test_defaults_written_out_give_the_same_id(tmp_path: Path) -> None:
    """The id hashes the validated config: spelling out a default changes nothing."""
    explicit = aggregate()
    implicit = aggregate(model__k_min=None)
    ids = []
    for base in (explicit, implicit):
        folder = tmp_path / str(len(ids))
        folder.mkdir()
        ids.append(plan_sweep(write(folder, {"name": "g", "base_file": "base.toml"}, base)).points[0].key)
    assert ids[0] == ids[1]


def test_inline_base_and_default_field(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "g", "base": aggregate(),
                            "grid": {"adaptive.max_parallel": [2, 4]}})
    plan = plan_sweep(path)
    assert [p.document["adaptive"]["max_parallel"] for p in plan.points] == [2, 4]


def test_hub_scenario_plans(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "h", "base_file": "base.toml",
                            "grid": {"network.qpus[0].fibre_length_km": [1.0, 3.0],
                                     "orchestrator.k_min": [1, 2]}}, hub())
    plan = plan_sweep(path)
    assert len(plan.points) == 4
    assert plan.points[-1].document["network"]["qpus"][0]["fibre_length_km"] == 3.0


def test_shipped_sweep_plans() -> None:
    plan = plan_sweep(ROOT / "scenarios" / "sweeps" / "aggregate_beta_sweep.toml")
    assert len(plan.points) == 24 and plan.kind == "aggregate"


def test_equal_points_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "g", "base_file": "base.toml",
                            "grid": {"model.rounds": [3, 3.0]}}, aggregate())
    with pytest.raises(UserInputError):
        plan_sweep(path)


def test_derive_seeds_distinct_and_stable() -> None:
    seeds = derive_seeds(20240607, 50)
    assert len(set(seeds)) == 50 and seeds[:3] == derive_seeds(20240607, 3)
    assert all(0 <= s < 2**32 for s in seeds)
