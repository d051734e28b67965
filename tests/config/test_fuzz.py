"""Fuzz the CLI with generated scenario dictionaries and TOML text: no traceback ever.

Every input ends in exit status 0 (a valid, tiny scenario ran) or 2 (one user-facing message);
any other exception escaping ``main`` fails the test with its traceback.

Then, without running studies: random mutations of every shipped scenario and sweep file
(types swapped, booleans, huge/negative/non-finite numbers, unknown and removed keys, deep
nesting) go through the loader the CLI uses, and random arguments go to the public Python
API. Each ends in a valid object (no NaN in it) or a clear ``UserInputError``/``TypeError``;
never another exception, a hang (an alarm fails a case after 120 s) or NaN in a result.
``test_zz_fuzz_counts`` prints (``-s``) and records (``record_property``) the counts of the
run: cases, accepted, refused. Example counts are scaled down under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import itertools
import json
import math
import os
import shutil
import signal
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modenhub_net import UserInputError
from modenhub_net.cli import main
from modenhub_net.config import MAX_TOML_DEPTH, load_toml

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


IN_CI = os.environ.get("CI") == "true"

FUZZ = settings(max_examples=40 if IN_CI else 150, deadline=None,
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



# -- mutations of the shipped scenarios, through the CLI's loader ------------------------------

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "scenarios").glob("*.toml"))
SHIPPED_SWEEPS = sorted((REPO / "scenarios" / "sweeps").glob("*.toml"))
COUNTS: Counter = Counter()
CASE_SECONDS = 120  # a case that takes longer is a hang

NASTY = [True, False, 0, -1, 1, 2, 2.0, 0.5, -0.5, 1e-300, 1e300, -1e300, math.nan, math.inf,
         -math.inf, 2**63, 2**64, -(2**63) - 1, 10**7, "", "abc", "0.5", "x" * 300, [], [1, "a"],
         [True], {}, {"a": 1}, [[[[1]]]]]
nasty = st.sampled_from(NASTY).map(copy.deepcopy)  # fresh: mutations must not edit the pool
deep = st.integers(min_value=MAX_TOML_DEPTH, max_value=MAX_TOML_DEPTH + 20)


@contextlib.contextmanager
def _time_limit(seconds: int):
    """Fail (instead of hanging the suite) when a case runs longer than ``seconds``."""
    def on_alarm(signum, frame):
        raise AssertionError(f"hang: a fuzz case ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _paths(node, prefix=()):
    """Every key path of a parsed document (tables and list items included)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:3]):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _typo(key: str, draw) -> str:
    if len(key) < 2:
        return key + "x"
    i = draw(st.integers(min_value=0, max_value=len(key) - 2))
    return key[:i] + key[i + 1] + key[i] + key[i + 2:] if key[i] != key[i + 1] else key + "s"


@st.composite
def mutated(draw, document: dict) -> tuple[dict, list[str]]:
    """``document`` with 1-3 random mutations, and their descriptions."""
    doc = copy.deepcopy(document)
    done = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(doc))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        old = parent[key]
        op = draw(st.sampled_from(["nasty", "swap", "remove", "unknown", "nest", "deep", "scale"]))
        if op == "remove" and isinstance(parent, dict):
            del parent[key]
        elif op == "unknown" and isinstance(parent, dict) and isinstance(key, str):
            parent[_typo(key, draw)] = old
        elif op == "swap":  # the same value with another type
            parent[key] = draw(st.sampled_from([str(old), [copy.deepcopy(old)], {"value": copy.deepcopy(old)},
                                                bool(old) if not isinstance(old, (dict, list)) else True]))
        elif op == "nest":
            parent[key] = {"x": old}
        elif op == "deep":
            value = old
            for _ in range(draw(deep)):
                value = [value]
            parent[key] = value
        elif op == "scale" and isinstance(old, (int, float)) and not isinstance(old, bool):
            parent[key] = draw(st.sampled_from([old * 10**6, -old, old * 1e300, float(old) + 0.5]))
        else:
            parent[key] = draw(nasty)
        done.append(f"{op} {'.'.join(map(str, path))}")
    return doc, done


def _no_nan(value, where: str) -> None:
    if isinstance(value, float):
        assert not math.isnan(value), f"NaN accepted at {where}"
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nan(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _no_nan(item, f"{where}[{i}]")


def _load_like_the_cli(path: Path):
    """What ``modenhub run`` does before running: read, pick the runner, validate."""
    from modenhub_net.studies import study_module

    document = load_toml(path)
    module = study_module(document.get("kind"), source=str(path))
    loader = getattr(module, "load_scenario", None) or module._load
    accepted = inspect.signature(loader).parameters
    extra = {name: None for name in ("seed", "trials") if name in accepted}
    return loader(document, source=str(path), **extra)


def _outcome(load, what: str) -> None:
    """Run ``load()``: a valid object (no NaN) or a clear error; count which."""
    COUNTS["cases"] += 1
    try:
        with _time_limit(CASE_SECONDS):
            obj = load()
    except (UserInputError, TypeError) as exc:
        COUNTS["refused"] += 1
        text = str(exc)
        assert text.strip(), f"{what}: empty error message"
        assert "Traceback" not in text
        return
    COUNTS["accepted"] += 1
    dump = obj.model_dump() if hasattr(obj, "model_dump") else getattr(obj, "__dict__", {})
    _no_nan(dump, what)


def _write(folder: Path, name: str, document: dict) -> Path:
    path = folder / name
    path.write_text(dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("scenario", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_loads(scenario: Path) -> None:
    """The unmutated shipped scenarios are valid (the baseline of the mutations below)."""
    _load_like_the_cli(scenario)


@pytest.mark.parametrize("scenario", SHIPPED, ids=[p.stem for p in SHIPPED])
@settings(max_examples=25 if IN_CI else 120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_shipped_scenarios_load_or_refuse(scenario: Path, data, tmp_path: Path) -> None:
    document, done = data.draw(mutated(load_toml(scenario)))
    folder = tmp_path / f"m{next(_counter)}"
    folder.mkdir()
    try:
        path = _write(folder, scenario.name, document)
    except (TypeError, ValueError):  # a value the TOML writer cannot express
        return
    _outcome(lambda: _load_like_the_cli(path), f"{scenario.name} after {done}")


@pytest.mark.parametrize("sweep", SHIPPED_SWEEPS, ids=[p.stem for p in SHIPPED_SWEEPS])
@settings(max_examples=15 if IN_CI else 60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_shipped_sweeps_plan_or_refuse(sweep: Path, data, tmp_path: Path) -> None:
    from modenhub_net.sweep.grid import plan_sweep

    document, done = data.draw(mutated(load_toml(sweep)))
    folder = tmp_path / f"w{next(_counter)}" / "sweeps"
    folder.mkdir(parents=True)
    for base in SHIPPED:  # base_file = "../<scenario>.toml" resolves next to the copy
        shutil.copy(base, folder.parent / base.name)
    try:
        path = _write(folder, sweep.name, document)
    except (TypeError, ValueError):
        return
    _outcome(lambda: plan_sweep(path).spec, f"{sweep.name} after {done}")


# -- the public Python API with random arguments ------------------------------------------------


def _api_calls():
    from modenhub_net.aggregate import (
        STRATEGIES,
        AdaptiveSettings,
        AggregateModel,
        adaptive_schedule,
        analytic_mean_attempts,
        analytic_success,
        k_parallel,
        p_eff,
        run_study,
        simulate_point,
    )
    from modenhub_net.qubits import assign_state, create_qubits, fidelity
    from modenhub_net.stats import bounded_mean_interval, wilson_interval

    def state_then_fidelity(state, reference):
        qubits = create_qubits(1)
        assign_state(qubits, state)
        return fidelity(qubits, reference)

    valid_model = [AggregateModel(), AggregateModel(p0=0.95, beta=0.0, rounds=8, k_min=3)]
    return {
        # name: (function, {parameter: valid values})
        "AggregateModel": (AggregateModel, {
            "p0": [0.35, 0.9, 1.0, 0.05], "beta": [0.0, 0.35, 2.0], "kappa": [0.9, 0.1, 3.0],
            "rounds": [1, 3, 8], "k_min": [1, 2, 5]}),
        "AdaptiveSettings": (AdaptiveSettings, {
            "target_success": [None, 0.5, 0.99], "max_parallel": [None, 3, 50],
            "prior_p": [None, 0.2], "prior_weight": [20.0, 1.0], "first_batch": [25, 1]}),
        "p_eff": (p_eff, {"n_qpus": [2, 128, [2, 4, 8]], "p0": [0.35, 1.0], "beta": [0.35, 0.0]}),
        "k_parallel": (k_parallel, {"n_qpus": [2, 128, [2, 1024]], "kappa": [0.9, 2.0],
                                    "k_min": [2, 1]}),
        "analytic_success": (analytic_success, {"p": [0.1, 1.0, [0.1, 0.5]], "k": [1, 7, [2, 3, 0]],
                                                "rounds": [3, None]}),
        "analytic_mean_attempts": (analytic_mean_attempts, {
            "p": [0.1, 1.0, [0.1, 0.5]], "k": [1, 7, [2, 3, 0]], "rounds": [3, None]}),
        "adaptive_schedule": (adaptive_schedule, {
            "p": [0.1, 0.9, 1.0], "rounds": [3, 1], "target_success": [0.9, 0.5],
            "max_parallel": [None, 10]}),
        "run_study": (run_study, {
            "model": valid_model, "n_qpus": [[2, 16], [1, 4], [128]],
            "strategies": [["naive"], list(STRATEGIES), ["adaptive_online"]],
            "trials": [1, 20, 50], "seed": [0, 1, 2**63 - 1], "adaptive": [None, AdaptiveSettings()],
            "confidence": [0.95, 0.5], "keep_requests": [True, False]}),
        "simulate_point": (simulate_point, {
            "model": valid_model, "n_qpus": [2, 64], "strategy": ["naive", "orchestrated", "adaptive"],
            "trials": [1, 30], "seed": [0, 5]}),
        "wilson_interval": (wilson_interval, {"successes": [0, 3, [1, 2]], "trials": [10, [10, 10]],
                                              "confidence": [0.95, 0.5]}),
        "bounded_mean_interval": (bounded_mean_interval, {
            "values": [[0.9, 1.0, 0.95], [0.0, 0.0]], "confidence": [0.95, 0.99]}),
        "state_then_fidelity": (state_then_fidelity, {
            "state": [np.array([1.0, 0.0]), np.eye(2) / 2],
            "reference": [np.array([0.0, 1.0]), np.array([1.0, 1.0]) / np.sqrt(2), np.eye(2) / 2]}),
    }


API = _api_calls()
POSITIONAL = {"p_eff": 1, "k_parallel": 1, "analytic_success": 1, "analytic_mean_attempts": 1,
              "adaptive_schedule": 1, "run_study": 1, "simulate_point": 3, "wilson_interval": 2,
              "bounded_mean_interval": 1, "state_then_fidelity": 2}


def _check_result(name: str, result) -> None:
    """Results are never NaN (where a value is defined) and probabilities stay in [0, 1]."""
    import pandas as pd

    from modenhub_net.aggregate import PointResult, StudyResult

    if isinstance(result, StudyResult):
        frame = result.summary
        for column in ("success_rate", "success_ci_low", "success_ci_high", "cache_hit_rate", "p_eff"):
            values = frame[column].to_numpy(dtype=float)
            assert np.all((values >= 0) & (values <= 1)), (name, column, values)
        assert np.isfinite(frame["mean_attempts"].to_numpy(dtype=float)).all()
        several = frame["trials"].to_numpy() >= 2
        assert np.isfinite(frame.loc[several, "attempts_ci_low"].to_numpy(dtype=float)).all()
        return
    if isinstance(result, PointResult):
        assert 0 <= result.p_eff <= 1 and result.trials >= 1
        return
    if isinstance(result, pd.DataFrame):  # pragma: no cover - no API returns one bare
        return
    values = np.asarray(result if not hasattr(result, "model_dump") else 0.0, dtype=float)
    if name in ("wilson_interval", "bounded_mean_interval"):
        # documented: NaN bounds (both) where the interval is undefined (no trials, < 2 values)
        low, high = values
        defined = ~np.isnan(low)
        assert np.array_equal(defined, ~np.isnan(high)), (name, result)
        assert np.all((low[defined] >= 0) & (low[defined] <= high[defined]) & (high[defined] <= 1))
        return
    assert not np.isnan(values).any(), (name, result)
    if name in ("p_eff", "analytic_success", "state_then_fidelity"):
        assert np.all((values >= 0) & (values <= 1)), (name, result)


@st.composite
def api_arguments(draw) -> tuple[str, tuple, dict]:
    name = draw(st.sampled_from(sorted(API)))
    _, valid = API[name]
    kwargs = {}
    for parameter, choices in valid.items():
        if draw(st.integers(min_value=0, max_value=3)) == 0:  # a quarter: anything at all
            kwargs[parameter] = draw(nasty | st.sampled_from([np.int64(4), np.float64(0.3),
                                                              np.bool_(True), "naive", None]))
        else:
            kwargs[parameter] = draw(st.sampled_from(choices))
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        kwargs[_typo(draw(st.sampled_from(sorted(valid))), draw)] = 1  # a misspelt keyword
    if draw(st.booleans()) and valid:
        kwargs.pop(draw(st.sampled_from(sorted(valid))), None)  # an argument left out
    positional = POSITIONAL.get(name, 0)
    names = list(valid)[:positional]
    args = tuple(kwargs.pop(p) for p in names if p in kwargs)
    return name, args, kwargs


@settings(max_examples=150 if IN_CI else 1000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(call=api_arguments())
def test_public_api_with_random_arguments(call) -> None:
    name, args, kwargs = call
    function, _ = API[name]
    COUNTS["cases"] += 1
    try:
        with _time_limit(CASE_SECONDS), np.errstate(all="raise", under="ignore"):
            result = function(*args, **kwargs)
    except (UserInputError, TypeError) as exc:
        COUNTS["refused"] += 1
        assert str(exc).strip()
        return
    COUNTS["accepted"] += 1
    _check_result(name, result)


def test_zz_fuzz_counts(record_property) -> None:
    """Counts of this run's scenario, sweep and API fuzz cases (``-s`` prints them)."""
    record_property("fuzz_counts", json.dumps(dict(COUNTS)))
    print(f"\nfuzz: {COUNTS['cases']} cases, {COUNTS['accepted']} accepted, "
          f"{COUNTS['refused']} refused with a clear error")
