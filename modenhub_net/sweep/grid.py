"""Expansion of a sweep file into validated points, before anything runs.

Every point's document is the base scenario with the grid overrides applied; it is validated
through its kind's own ``load_scenario`` (the same rules as ``modenhub run``), so a bad grid
value fails here, naming the sweep file, the grid point, the field path and the value, and
nothing is written.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modenhub_net.config import load_toml, validate_document
from modenhub_net.errors import UserInputError
from modenhub_net.store.keys import point_key, source_digest
from modenhub_net.sweep.overrides import Override, check_flag_conflicts, validate_with_overrides
from modenhub_net.sweep.spec import SweepFile

__all__ = ["CODE_PACKAGES", "SweepPoint", "SweepPlan", "code_digest", "code_version", "get_path",
           "plan_sweep", "set_path", "split_path"]

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


#: packages whose sources (and data files) can change what a point computes
CODE_PACKAGES = ("modenhub_net", "hardware_models", "protocols")


def code_version() -> str:
    """Version of the code that computes points (``modenhub_net.__version__``); part of ids."""
    import modenhub_net

    return modenhub_net.__version__


def code_digest() -> str:
    """Fingerprint of this source tree (:func:`modenhub_net.store.source_digest` of
    :data:`CODE_PACKAGES`); recorded with each point, not part of its id."""
    roots: list[str] = []
    for package in CODE_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            roots += list(spec.submodule_search_locations)
    return source_digest(roots)


@dataclass(frozen=True)
class SweepPoint:
    """One task of a sweep: a pure function of (``document``, ``seed``).

    Attributes
    ----------
    key : str
        Result id: sha256 of canonical JSON {validated config, seed, code version}.
    seed : int
        Root seed of the point.
    labels : dict
        Grid field path -> value (the point's coordinates).
    document : dict
        The validated scenario document handed to the point function (defaults filled in).
    """

    key: str
    seed: int
    labels: Mapping[str, Any]
    document: Mapping[str, Any]


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: its file, base, kind and every point in grid order."""

    spec: SweepFile
    source: str
    base_source: str
    kind: str
    seeds: tuple[int, ...]
    points: tuple[SweepPoint, ...]
    trials: int | None = None
    overrides: tuple[Override, ...] = ()

    def manifest(self) -> dict[str, Any]:
        """JSON-able description of the sweep for ``manifest.json``."""
        return {
            "name": self.spec.name,
            "description": self.spec.description,
            "sweep_file": self.source,
            "base": self.base_source,
            "kind": self.kind,
            "code_version": code_version(),
            "fixed": self.spec.fixed,
            "grid": self.spec.grid,
            "seeds": list(self.seeds),
            "trials_override": self.trials,
            "set_overrides": {item.path: item.value for item in self.overrides},
            "points": [
                {"key": p.key, "seed": p.seed, "labels": dict(p.labels)} for p in self.points
            ],
        }


def split_path(path: str) -> list[str | int]:
    """``"network.qpus[0].preset"`` -> ``["network", "qpus", 0, "preset"]``."""
    parts: list[str | int] = []
    for segment in path.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            raise ValueError(f"bad field path {path!r}")
        parts.append(match.group(1))
        parts += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return parts


_MISSING = object()


def get_path(document: Any, parts: list[str | int]) -> Any:
    """Value at a split path, or a private sentinel if it does not exist."""
    node = document
    for part in parts:
        if isinstance(part, int):
            if not isinstance(node, (list, tuple)) or part >= len(node):
                return _MISSING
            node = node[part]
        else:
            if not isinstance(node, Mapping) or part not in node:
                return _MISSING
            node = node[part]
    return node


def set_path(document: dict[str, Any], parts: list[str | int], value: Any) -> None:
    """Set a value in a nested document, creating missing tables (lists must exist)."""
    node: Any = document
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise KeyError(part)
            if last:
                node[part] = value
            else:
                node = node[part]
            continue
        if not isinstance(node, dict):
            raise KeyError(part)
        if last:
            node[part] = value
        else:
            if part not in node:
                node[part] = {} if isinstance(parts[i + 1], str) else []
            node = node[part]


def _fields_of(dump: Mapping[str, Any], parts: list[str | int]) -> str:
    """Names available where a path stopped matching (for the error message)."""
    for cut in range(len(parts), -1, -1):
        node = get_path(dump, parts[:cut])
        if node is not _MISSING:
            if isinstance(node, Mapping):
                return "fields there: " + ", ".join(sorted(node)) if node else "no fields there"
            if isinstance(node, (list, tuple)):
                return f"a list of {len(node)} items there"
            shown = ".".join(str(p) for p in parts[:cut])
            return f"{shown} is a value, not a table"
    return ""


def _describe(labels: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in labels.items()) or "base"


def _load_base(spec: SweepFile, *, source: str, sweep_path: Path) -> tuple[dict[str, Any], str]:
    if spec.base is not None:
        return copy.deepcopy(spec.base), f"{source} [base]"
    base_path = Path(spec.base_file or "")
    if not base_path.is_absolute():
        base_path = sweep_path.parent / base_path
    document = load_toml(base_path)
    if document.get("kind") == "sweep" or "grid" in document and "base_file" in document:
        raise UserInputError(f"{source}: base_file = {spec.base_file!r} is a sweep file, "
                             "not a scenario")
    return document, str(base_path)


def plan_sweep(path: str | Path, *, trials: int | None = None,
               overrides: Sequence[Override] = ()) -> SweepPlan:
    """Read, validate and expand a sweep file into its points.

    Parameters
    ----------
    path : str or Path
        The sweep TOML file.
    trials : int, optional
        Override of the per-point trial count (the kind's ``--trials`` rule, e.g.
        ``study.trials`` or ``workload.requests``), >= 1.
    overrides : sequence of Override, optional
        ``--set FIELD=VALUE`` items, applied to the base scenario before the fixed and grid
        values (validated like the file; part of every point's id through the validated
        config). A field that is also in ``[fixed]`` or ``[grid]`` is refused.

    Returns
    -------
    SweepPlan

    Raises
    ------
    UserInputError
        On any mistake in the sweep file, the base scenario or any grid point: the message
        names the file, the field path, the value and what is allowed.
    """
    from modenhub_net.studies import study_module

    sweep_path = Path(path)
    source = str(sweep_path)
    spec = validate_document(SweepFile, load_toml(sweep_path), source=source)
    base, base_source = _load_base(spec, source=source, sweep_path=sweep_path)
    kind = base.get("kind")
    module = study_module(kind, source=base_source)
    for needed in ("load_scenario", "evaluate_point"):
        if not hasattr(module, needed):
            raise UserInputError(f"{base_source}: kind = {kind!r} cannot be swept (its runner has "
                                 f"no {needed})")
    overrides = tuple(overrides)
    for item in overrides:
        for table, paths in (("fixed", spec.fixed), ("grid", spec.grid)):
            if item.path in paths:
                raise UserInputError(f"{item.flag} is also in the sweep's [{table}] "
                                     f"({source}); change it there")
    base, base_model = validate_with_overrides(
        base, overrides, lambda doc: module.load_scenario(doc, source=base_source, trials=trials),
        kind=kind)
    if trials is not None and overrides:
        check_flag_conflicts(overrides, base_model,
                             module.load_scenario(base, source=base_source), {"--trials": trials})
    base_dump = base_model.model_dump()
    again = module.load_scenario(base_dump, source=base_source)
    if again != base_model:  # pragma: no cover - a bug in the kind's model, not user input
        raise RuntimeError(f"kind {kind!r}: the validated scenario does not round-trip")
    split = {}
    for table, paths in (("fixed", spec.fixed), ("grid", spec.grid)):
        for field_path in paths:
            parts = split_path(field_path)
            if get_path(base_dump, parts) is _MISSING:
                raise UserInputError(
                    f"{source}: {table}.\"{field_path}\": no such field in the base scenario "
                    f"{base_source} (kind {kind!r}; {_fields_of(base_dump, parts)})"
                )
            split[field_path] = parts
    for name, value in spec.fixed.items():
        try:
            set_path(base, split[name], copy.deepcopy(value))
        except KeyError:
            raise UserInputError(
                f"{source}: fixed.\"{name}\" = {value!r}: the base scenario has no such item"
            ) from None
    seeds = spec.seeds.resolve(base_model.seed)
    version = code_version()
    points: list[SweepPoint] = []
    names = list(spec.grid)
    for combo in itertools.product(*(spec.grid[name] for name in names)):
        labels = dict(zip(names, combo, strict=True))
        document = copy.deepcopy(base)
        for name, value in labels.items():
            try:
                set_path(document, split[name], copy.deepcopy(value))
            except KeyError:
                raise UserInputError(
                    f"{source}: grid.\"{name}\" = {value!r}: the base scenario has no such item"
                ) from None
        model = module.load_scenario(
            document, source=f"{source} [grid point {_describe(labels)}]", seed=seeds[0],
            trials=trials,
        )
        dump = model.model_dump()
        for seed in seeds:
            config = {**dump, "seed": seed}
            key = point_key(config, seed=seed, code_version=version)
            points.append(SweepPoint(key=key, seed=seed, labels=labels, document=config))
    keys = [p.key for p in points]
    if len(set(keys)) != len(keys):
        raise UserInputError(
            f"{source}: two grid points describe the same scenario (e.g. a value equal to a "
            "default given twice in different forms); each point must be distinct"
        )
    return SweepPlan(spec=spec, source=source, base_source=base_source, kind=str(kind),
                     seeds=seeds, points=tuple(points), trials=trials, overrides=overrides)
