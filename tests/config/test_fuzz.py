"""Fuzz the CLI with generated scenario dictionaries and TOML text: no traceback ever.

Every input ends in exit status 0 (a valid, tiny scenario ran) or 2 (one user-facing message);
any other exception escaping ``main`` fails the test with its traceback.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modenhub_net.cli import main

from .cases import AGGREGATE, HUB
from .tomlw import dumps

FIELD_NAMES = sorted({
    "kind", "name", "seed", "model", "study", "adaptive", "network", "hub", "orchestrator",
    "cache", "workload", "p0", "beta", "kappa", "k_min", "rounds", "n_qpus", "trials",
    "strategies", "confidence", "qpus", "preset", "scheme", "fibre_length_km", "policies",
    "memory_t1_ns", "memory_t2_ns", "first", "last", "step", "grid", "seeds", "base",
    "base_file", "count", "values", "fixed", "requests", "max_parallel", "target_success",
})
_counter = itertools.count()

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=-3, max_value=200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-2, max_value=2),
    st.text(max_size=12),
    st.sampled_from(["aggregate", "hub", "naive", "orchestrated", "ideal", "model.beta",
                     "study.trials", "network.qpus[0].fibre_length_km", "base.toml"]),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
random_documents = st.dictionaries(keys, values, max_size=8)

# paths into the valid bases; a mutation sets, deletes or retypes one of them
AGG_PATHS = [("kind",), ("seed",), ("name",), ("model",), ("study",), ("model", "p0"),
             ("model", "beta"), ("model", "kappa"), ("model", "k_min"), ("model", "rounds"),
             ("study", "n_qpus"), ("study", "trials"), ("study", "strategies"),
             ("study", "confidence"), ("adaptive",), ("adaptive", "max_parallel"),
             ("adaptive", "target_success"), ("model", "extra")]
HUB_PATHS = [("network", "preset"), ("network", "scheme"), ("network", "qpus"),
             ("network", "n_qpus"), ("network", "link_mode"), ("hub", "memory_t1_ns"),
             ("hub", "memory_t2_ns"), ("hub", "sources"), ("orchestrator", "policies"),
             ("orchestrator", "k_min"), ("cache", "cutoff_ns"), ("workload", "kind"),
             ("workload", "hot_qpu"), ("workload", "entries"), ("network", "qpus", 0)]


def _mutate(base: dict, paths: list, draw) -> dict:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths))
        node = doc
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node
        if isinstance(node, dict):
            if draw(st.booleans()) and path[-1] in node:
                del node[path[-1]]
            else:
                node[path[-1]] = draw(values)
        elif isinstance(node, list) and node:
            node[0] = draw(values)
    return doc


@st.composite
def scenario_documents(draw) -> dict:
    which = draw(st.sampled_from(["random", "aggregate", "hub"]))
    if which == "random":
        return draw(random_documents)
    if which == "aggregate":
        return _mutate(AGGREGATE, AGG_PATHS, draw)
    return _mutate(HUB, HUB_PATHS, draw)


@st.composite
def sweep_documents(draw) -> dict:
    doc = {"name": "fz", "base_file": "base.toml",
           "grid": {"model.beta": [0.2, 0.3]}, "seeds": {"count": 1}}
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        key = draw(st.sampled_from(["name", "base_file", "grid", "seeds", "fixed", "base",
                                    "extra", "description"]))
        if draw(st.booleans()):
            doc[key] = draw(values)
        else:
            doc[key] = draw(st.dictionaries(
                st.sampled_from(["model.beta", "model.p0", "study.trials", "model", "seed",
                                 "values", "count", "root", "model.rounds[0]", "x..y"]),
                st.one_of(values, st.lists(values, max_size=3)), max_size=3))
    return doc


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def _check(argv: list[str], capsys) -> None:
    status = _run(argv)
    err = capsys.readouterr().err
    assert status in (0, 2), err
    assert "Traceback" not in err
    if status == 2:
        assert err.startswith("error:") or "usage:" in err, err


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.filter_too_much])


@FUZZ
@given(document=scenario_documents())
def test_scenario_documents_never_crash(document: dict, tmp_path: Path, capsys) -> None:
    folder = tmp_path / f"s{next(_counter)}"
    folder.mkdir()
    (folder / "s.toml").write_text(dumps(document), encoding="utf-8")
    _check(["run", str(folder / "s.toml"), "--out", str(folder / "out"), "--quiet",
            "--trials", "5"], capsys)


@FUZZ
@given(sweep=sweep_documents())
def test_sweep_documents_never_crash(sweep: dict, tmp_path: Path, capsys) -> None:
    folder = tmp_path / f"w{next(_counter)}"
    folder.mkdir()
    (folder / "base.toml").write_text(dumps(AGGREGATE), encoding="utf-8")
    (folder / "sweep.toml").write_text(dumps(sweep), encoding="utf-8")
    _check(["sweep", str(folder / "sweep.toml"), "--out", str(folder / "out"), "--quiet",
            "--workers", "1", "--trials", "5"], capsys)


@FUZZ
@given(text=st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["kind = \"aggregate\"", "[model]", "p0 = 2", "[[study]]",
                              "name = 'x'", "seed = 1", "[study]", "n_qpus = [2]", "x = {",
                              "trials = 1e3", "\"a.b\" = 1", "seed = 99999999999999999999",
                              "kind = 3", "[grid]", "base_file = 'base.toml'"]),
             max_size=10).map("\n".join),
))
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_toml_text_never_crashes(command: str, text: str, tmp_path: Path, capsys) -> None:
    folder = tmp_path / f"t{next(_counter)}"
    folder.mkdir()
    (folder / "base.toml").write_text(dumps(AGGREGATE), encoding="utf-8")
    (folder / "f.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    extra = ["--workers", "1"] if command == "sweep" else []
    _check([command, str(folder / "f.toml"), "--out", str(folder / "out"), "--quiet",
            "--trials", "5", *extra], capsys)


def test_hub_plots_survive_identical_fidelities(tmp_path: Path, capsys) -> None:
    """Ideal hardware: every fidelity is 1 to rounding; the histograms must still be drawn
    (numpy refuses bins narrower than float resolution)."""
    (tmp_path / "h.toml").write_text(dumps(HUB), encoding="utf-8")
    assert _run(["run", str(tmp_path / "h.toml"), "--out", str(tmp_path / "out"), "--quiet",
                 "--trials", "5"]) == 0
    assert (tmp_path / "out" / "fidelity.png").stat().st_size > 0
