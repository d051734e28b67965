"""The ``modenhub`` command: flags, --set, --version, help, exit codes, hints, plot, quiet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import modenhub_net
from modenhub_net import cli
from modenhub_net.cli import EXIT_CODES, MAX_TRIALS_FLAG
from modenhub_net.store import load_summary
from modenhub_net.sweep import plan_sweep
from modenhub_net.sweep.overrides import parse_override
from tests.cli.helpers import run_cli as run

REPO = Path(__file__).resolve().parents[2]

TINY = """\
kind = "aggregate"
name = "tiny"
seed = 1
[model]
p0 = 0.35
beta = 0.35
[study]
n_qpus = [2, 4]
trials = 20
strategies = ["naive"]
write_requests = false
"""

SWEEP = 'name = "tiny_sweep"\nbase_file = "a.toml"\n[grid]\n"model.beta" = [0.1, 0.4]\n'


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "a.toml").write_text(TINY, encoding="utf-8")
    (tmp_path / "sweep.toml").write_text(SWEEP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# -- version, help, exit codes ----------------------------------------------------------------

def test_version(capsys) -> None:
    status, out, _ = run(["--version"], capsys)
    assert status == 0 and out.strip() == f"modenhub {modenhub_net.__version__}"


def test_bare_command_prints_help_and_exits_0() -> None:
    proc = subprocess.run([sys.executable, "-m", "modenhub_net.cli"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("usage: modenhub") and "run" in proc.stdout


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["sweep", "--help"],
                                  ["plot", "--help"]])
def test_help_lists_every_exit_code(argv: list[str], capsys) -> None:
    status, out, _ = run(argv, capsys)
    assert status == 0
    for code in (0, 1, 2, 130, 143):
        assert f"  {code:<4} " in out
    assert set(EXIT_CODES) == {0, 1, 2, 130, 143}


# -- integer flags ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["٣", "７", "1_000", " 1e3", "0x10", "3.0", "+-1"])
def test_integer_flags_take_ascii_decimal_only(workdir: Path, capsys, text: str) -> None:
    for flag in ("--seed", "--trials"):
        status, out, err = run(["run", "a.toml", flag, text], capsys)
        line = error_line(err)
        assert status == 2 and flag in line and "not an integer" in line and out == ""
    status, _, err = run(["sweep", "sweep.toml", "--workers", text], capsys)
    assert status == 2 and "--workers" in error_line(err)
    assert not (workdir / "results").exists()


@pytest.mark.parametrize(("argv", "flag"), [
    (["run", "a.toml", "--seed", "1", "--seed", "2"], "--seed"),
    (["run", "a.toml", "--trials", "10", "--trials", "10"], "--trials"),
    (["run", "a.toml", "--out", "x", "--out", "y"], "--out"),
    (["sweep", "sweep.toml", "--workers", "1", "--workers", "2"], "--workers"),
])
def test_repeated_flag_is_an_error(workdir: Path, capsys, argv: list[str], flag: str) -> None:
    status, _, err = run(argv, capsys)
    line = error_line(err)
    assert status == 2 and f"{flag} is given twice" in line
    assert not (workdir / "results").exists() and not (workdir / "x").exists()


def test_workers_bounded_by_the_machine(workdir: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(cli, "_available_memory_bytes", lambda: 3 * 2**30)  # 3 GiB
    import modenhub_net.sweep.runner as runner

    monkeypatch.setattr(runner, "usable_cores", lambda: 2)
    bound, why = cli.max_local_workers()
    assert bound == min(2 * cli.WORKERS_PER_CORE, 3 * 2**30 // cli.WORKER_MEMORY_BYTES) == 6
    assert "2 usable cores" in why and "3.0 GiB" in why
    status, _, err = run(["sweep", "sweep.toml", "--workers", "7"], capsys)
    line = error_line(err)
    assert status == 2 and "--workers = 7 must be <= 6 on this machine" in line
    assert not (workdir / "results").exists()
    status, _, err = run(["sweep", "sweep.toml", "--workers", "5000"], capsys)
    assert status == 2 and "--workers = 5000 must be <= 256" in error_line(err)


def test_trials_bound_is_documented_and_checked_up_front(workdir: Path, capsys,
                                                         monkeypatch) -> None:
    import modenhub_net.studies.aggregate_study as study

    def never(*args, **kwargs):
        raise AssertionError("computed although --trials is above the bound")

    monkeypatch.setattr(study, "run_scenario", never)
    status, out, _ = run(["run", "--help"], capsys)
    assert f"1..{MAX_TRIALS_FLAG:,}" in " ".join(out.split())
    status, _, err = run(["run", "a.toml", "--trials", str(MAX_TRIALS_FLAG + 1)], capsys)
    line = error_line(err)
    assert status == 2 and f"--trials = {MAX_TRIALS_FLAG + 1} must be <= {MAX_TRIALS_FLAG}" in line
    status, _, err = run(["sweep", "sweep.toml", "--trials", str(MAX_TRIALS_FLAG + 1)], capsys)
    assert status == 2 and "--trials" in error_line(err)


# -- --set ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("model.beta=0.5", 0.5), ("model.beta=1e-1", 0.1), ("seed=3", 3),
    ("study.write_requests=true", True), ('name="renamed"', "renamed"),
    ("study.n_qpus=[2, 8]", [2, 8]), ("study.strategies=['naive', 'orchestrated']",
                                      ["naive", "orchestrated"]),
])
def test_set_values_are_toml_literals(text: str, value) -> None:
    item = parse_override(text)
    assert item.value == value and type(item.value) is type(value)


def test_set_is_applied_validated_and_recorded(workdir: Path, capsys) -> None:
    status, out, err = run(["run", "a.toml", "--out", "o", "--quiet", "--set", "model.beta=0.5",
                            "--set", "seed=3", "--set", "study.n_qpus=[2, 8]"], capsys)
    assert status == 0, err
    recorded = json.loads((workdir / "o" / "scenario.json").read_text())
    assert recorded["model"]["beta"] == 0.5 and recorded["seed"] == 3
    assert recorded["study"]["n_qpus"] == [2, 8]
    assert (workdir / "a.toml").read_text() == TINY  # the file is not changed


@pytest.mark.parametrize(("setting", "fragments"), [
    ("model.beta=true", ("--set model.beta = true is not allowed here", "a boolean")),
    ("model.beta=-1", ("--set model.beta = -1 is not allowed here", "model.beta")),
    ("model.p0=2.0", ("--set model.p0 = 2.0 is not allowed here",)),
    ("seed=-3", ("--set seed = -3 is not allowed here",)),
    ("study.trials=2.5", ("--set study.trials = 2.5 is not allowed here",)),
    ("model.bta=0.5", ("--set model.bta: no such field", "did you mean model.beta?")),
    ("modle.beta=0.5", ("--set modle.beta: no such field", "did you mean model.beta?")),
    ("study.trails=5", ("--set study.trails: no such field", "did you mean study.trials?")),
    ("kind=\"hub\"", ("--set kind", "cannot be changed")),
    ("model.beta", ("expected FIELD=VALUE",)),
    ("model.beta=abc", ("--set model.beta = 'abc' is not a TOML value",)),
    ("model..beta=1", ("not a field path",)),
])
def test_set_errors_name_the_field(workdir: Path, capsys, setting: str,
                                   fragments: tuple[str, ...]) -> None:
    status, out, err = run(["run", "a.toml", "--out", "o", "--set", setting], capsys)
    line = error_line(err)
    assert status == 2 and out == ""
    for fragment in fragments:
        assert fragment in line, line
    assert not (workdir / "o").exists()


def test_set_given_twice_or_with_seed_flag(workdir: Path, capsys) -> None:
    status, _, err = run(["run", "a.toml", "--set", "model.beta=0.1", "--set", "model.beta=0.2"],
                         capsys)
    assert status == 2 and "--set model.beta is given twice" in error_line(err)
    status, _, err = run(["run", "a.toml", "--set", "seed=1", "--seed", "2"], capsys)
    assert status == 2 and "--seed and --set seed set the same field" in error_line(err)
    status, _, err = run(["run", "a.toml", "--set", "study.trials=30", "--trials", "40"], capsys)
    assert status == 2 and "--trials and --set study.trials set the same field" in error_line(err)
    status, _, err = run(["sweep", "sweep.toml", "--set", "study.trials=30", "--trials", "40"],
                         capsys)
    assert status == 2 and "--trials and --set study.trials set the same field" in error_line(err)
    assert not (workdir / "results").exists()


def test_set_in_sweep_changes_every_point_id_and_is_recorded(workdir: Path, capsys) -> None:
    plain = plan_sweep(workdir / "sweep.toml")
    changed = plan_sweep(workdir / "sweep.toml", overrides=[parse_override("model.p0=0.5")])
    assert {p.key for p in plain.points}.isdisjoint({p.key for p in changed.points})
    assert all(p.document["model"]["p0"] == 0.5 for p in changed.points)
    status, out, err = run(["sweep", "sweep.toml", "--out", "s", "--workers", "1", "--quiet",
                            "--set", "model.p0=0.5"], capsys)
    assert status == 0, err
    manifest = json.loads((workdir / "s" / "manifest.json").read_text())
    assert manifest["set_overrides"] == {"model.p0": 0.5}
    assert [p["key"] for p in manifest["points"]] == [p.key for p in changed.points]
    status, _, err = run(["sweep", "sweep.toml", "--out", "s2", "--set", "model.beta=0.2"],
                         capsys)
    assert status == 2 and "--set model.beta is also in the sweep's [grid]" in error_line(err)
    status, _, err = run(["sweep", "sweep.toml", "--out", "s2", "--set", "model.p0=7"], capsys)
    assert status == 2 and "--set model.p0 = 7 is not allowed here" in error_line(err)
    status, _, err = run(["sweep", "sweep.toml", "--out", "s2", "--set", "model.p=0.5"], capsys)
    assert status == 2 and "did you mean model.p0?" in error_line(err)
    assert not (workdir / "s2").exists()


# -- the wrong command for a file ---------------------------------------------------------------

def test_run_on_a_sweep_file_says_use_sweep(workdir: Path, capsys) -> None:
    status, _, err = run(["run", "sweep.toml"], capsys)
    assert status == 2 and "modenhub sweep sweep.toml" in error_line(err)
    status, _, err = run(["run", str(REPO / "scenarios" / "sweeps" / "cache_cutoff.toml")], capsys)
    assert status == 2 and "is a sweep file" in error_line(err)


def test_run_on_a_preset_file_says_how_to_use_it(workdir: Path, capsys) -> None:
    preset = REPO / "hardware_models" / "preset_data" / "future.toml"
    status, _, err = run(["run", str(preset)], capsys)
    line = error_line(err)
    assert status == 2 and "hardware preset" in line and 'preset = "future"' in line


def test_sweep_on_a_scenario_says_use_run(workdir: Path, capsys) -> None:
    status, _, err = run(["sweep", "a.toml"], capsys)
    assert status == 2 and "modenhub run a.toml" in error_line(err)


# -- output streams, quiet and plot -------------------------------------------------------------

def test_quiet_means_nothing_on_stderr_in_every_subcommand(workdir: Path, capsys) -> None:
    status, out, err = run(["run", "a.toml", "--out", "o", "--quiet"], capsys)
    assert (status, err, out) == (0, "", "")  # run --quiet: nothing but errors
    status, out, err = run(["run", "a.toml", "--out", "o"], capsys)
    assert status == 0 and out.endswith("results written to o\n") and err == ""
    status, out, err = run(["sweep", "sweep.toml", "--out", "s", "--workers", "1", "--quiet"],
                           capsys)
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == "2 points: 0 already done, 2 to run"
    status, out, err = run(["plot", "s", "--quiet"], capsys)
    assert (status, err) == (0, "")
    assert out.split() == ["s/summary.pdf", "s/summary.png"]


def test_progress_and_notes_go_to_stderr(workdir: Path, capsys) -> None:
    status, out, err = run(["sweep", "sweep.toml", "--out", "s", "--workers", "1"], capsys)
    assert status == 0 and "points |" in err  # the progress bar
    assert "points |" not in out
    status, out, err = run(["plot", "s"], capsys)
    assert status == 0 and "drew s" in err and "drew" not in out


def test_plot_draws_pdf_and_png_of_a_store(workdir: Path, capsys) -> None:
    assert run(["sweep", "sweep.toml", "--out", "s", "--workers", "1", "--quiet"], capsys)[0] == 0
    status, out, err = run(["plot", "s", "--out", "figs", "--y", "mean_attempts", "--quiet"],
                           capsys)
    assert status == 0, err
    pdf, png = workdir / "figs" / "summary.pdf", workdir / "figs" / "summary.png"
    assert pdf.read_bytes().startswith(b"%PDF") and png.read_bytes().startswith(b"\x89PNG")
    assert len(load_summary(workdir / "s")) == 4
    status, _, err = run(["plot", "s", "--y", "nope"], capsys)
    assert status == 2 and "--y = 'nope' is not a numeric column" in error_line(err)
    status, _, err = run(["plot", "a.toml"], capsys)
    assert status == 2 and "is not a sweep store" in error_line(err)
    (workdir / "mine").mkdir()
    (workdir / "mine" / "paper.tex").write_text("x")
    status, _, err = run(["plot", "s", "--out", "mine"], capsys)
    assert status == 2 and "mine" in error_line(err)
    assert sorted(p.name for p in (workdir / "mine").iterdir()) == ["paper.tex"]


def test_plot_of_the_shipped_sweep(tmp_path: Path, capsys) -> None:
    store = REPO / "results" / "aggregate_beta_sweep"
    status, out, err = run(["plot", str(store), "--out", str(tmp_path / "f"), "--quiet"], capsys)
    assert status == 0, err
    assert (tmp_path / "f" / "summary.png").stat().st_size > 10_000
