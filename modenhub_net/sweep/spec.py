"""The sweep file: validated, frozen model of ``scenarios/sweeps/*.toml``.

Format::

    name = "aggregate_beta_sweep"          # store folder results/<name> (letters, digits, _ . -)
    description = "..."                    # optional
    base_file = "../paper_fig3.toml"       # base scenario, relative to this file ...
    # [base]                               # ... or an inline complete scenario document
    [fixed]                                # optional: dotted field path -> one value, every point
    "study.write_requests" = false
    [grid]                                 # dotted field path -> list of values (cartesian product)
    "model.beta" = [0.2, 0.35, 0.5]
    "network.qpus[0].fibre_length_km" = [1.0, 5.0]   # list items by [index]
    [seeds]                                # optional; default: the base scenario's seed
    values = [1, 2, 3]                     # explicit root seeds, or
    # count = 3                            # that many seeds derived from root (default: base seed)
    # root = 7
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from modenhub_net.config import StrictModel
from modenhub_net.store.keys import canonical_json

__all__ = ["MAX_POINTS", "MAX_SEED", "FIELD_PATH", "SeedsSection", "SweepFile", "derive_seeds"]

#: largest seed accepted (scenario seeds are signed 64-bit)
MAX_SEED = 2**63 - 1
#: most points one sweep may expand to (a guard against typos such as count = 1e9)
MAX_POINTS = 1_000_000
#: a grid key: dotted identifiers, each optionally indexed, e.g. ``network.qpus[0].preset``
FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$")
#: fields a grid may not vary (the kind selects the model; seeds come from [seeds])
RESERVED_PATHS = ("kind", "seed")


def derive_seeds(root: int, count: int) -> tuple[int, ...]:
    """``count`` distinct seeds derived from ``root``: ``SeedSequence(root).generate_state``.

    32-bit words, so the seeds are identical on every platform and numpy version that keeps
    ``SeedSequence``'s documented algorithm; distinct by construction (duplicates are skipped).

    Examples
    --------
    >>> derive_seeds(7, 3) == derive_seeds(7, 3)
    True
    >>> len(set(derive_seeds(7, 100)))
    100
    """
    seeds: list[int] = []
    seen: set[int] = set()
    n = count
    while len(seeds) < count:
        for word in np.random.SeedSequence(root).generate_state(n, dtype=np.uint32):
            value = int(word)
            if value not in seen and len(seeds) < count:
                seen.add(value)
                seeds.append(value)
        n *= 2
    return tuple(seeds)


def _check_path(path: str, table: str) -> None:
    if not FIELD_PATH.match(path):
        raise ValueError(
            f"{table} key {path!r} is not a field path (dotted names, list items as [i], "
            "e.g. \"model.beta\" or \"network.qpus[0].fibre_length_km\")"
        )
    if path in RESERVED_PATHS:
        raise ValueError(
            f"{table} key {path!r} cannot be set here (kind selects the model; use [seeds] "
            "for seeds)"
        )


class SeedsSection(StrictModel):
    """``[seeds]``: give ``values`` or ``count`` (with optional ``root``), or nothing.

    Parameters
    ----------
    values : list of int, optional
        Explicit root seeds, distinct, each in [0, 2**63 - 1].
    count : int, optional
        Number of seeds (>= 1) derived from ``root`` by :func:`derive_seeds`.
    root : int, optional
        Root of the derived seeds, in [0, 2**63 - 1]; default: the base scenario's seed.
    """

    values: tuple[int, ...] | None = Field(None, min_length=1, max_length=MAX_POINTS)
    count: int | None = Field(None, ge=1, le=100_000, strict=True)
    root: int | None = Field(None, ge=0, le=MAX_SEED, strict=True)

    @field_validator("values", mode="before")
    @classmethod
    def _strict_ints(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, bool) or not isinstance(item, int):
                    raise ValueError(f"every seed must be an integer (got {item!r})")
                if not 0 <= item <= MAX_SEED:
                    raise ValueError(f"every seed must lie in [0, 2**63 - 1] (got {item})")
            if len(set(value)) != len(value):
                raise ValueError("seeds must be distinct")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> SeedsSection:
        if self.values is not None and (self.count is not None or self.root is not None):
            raise ValueError("give either values = [...] or count = N (with optional root), not both")
        return self

    def resolve(self, base_seed: int) -> tuple[int, ...]:
        """The seeds of the sweep, given the base scenario's seed."""
        if self.values is not None:
            return self.values
        if self.count is not None:
            return derive_seeds(self.root if self.root is not None else base_seed, self.count)
        return (base_seed if self.root is None else self.root,)


class SweepFile(StrictModel):
    """A whole sweep file (see the module docstring)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)
    description: str = ""
    base_file: str | None = Field(None, min_length=1)
    base: dict[str, Any] | None = None
    fixed: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: SeedsSection = Field(default_factory=SeedsSection)

    @field_validator("fixed", mode="after")
    @classmethod
    def _check_fixed(cls, fixed: dict[str, Any]) -> dict[str, Any]:
        for path in fixed:
            _check_path(path, "fixed")
        return fixed

    @field_validator("grid", mode="after")
    @classmethod
    def _check_grid(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in grid.items():
            _check_path(path, "grid")
            if not values:
                raise ValueError(f"grid key {path!r} has an empty list of values (give at least one)")
            texts = [canonical_json(v) for v in values]
            if len(set(texts)) != len(texts):
                raise ValueError(f"grid key {path!r} lists a value twice: {values!r}")
        total = 1
        for values in grid.values():
            total *= len(values)
        if total > MAX_POINTS:
            raise ValueError(f"the grid has {total} combinations (at most {MAX_POINTS})")
        return grid

    @model_validator(mode="after")
    def _one_base(self) -> SweepFile:
        both = sorted(set(self.fixed) & set(self.grid))
        if both:
            raise ValueError(f"{both[0]!r} is both in [fixed] and in [grid]; keep one")
        if (self.base_file is None) == (self.base is None):
            raise ValueError("give exactly one of base_file = \"path.toml\" or an inline [base] table")
        return self

    def combinations(self) -> int:
        """Number of grid combinations (1 for an empty grid)."""
        total = 1
        for values in self.grid.values():
            total *= len(values)
        return total
