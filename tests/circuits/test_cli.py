"""``modenhub circuit``: the subcommand of the main CLI (exit codes, one-line errors, streams)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from modenhub_net.errors import UserInputError
from protocols.circuits import cli as circuit_cli
from protocols.circuits.closed_forms import ghz_ladder_fidelity
from tests.cli.helpers import run_cli as run

pytest.importorskip("networkx")

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0], q[1];\n'


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_werner_ghz_prints_its_closed_form_and_writes_records(tmp_path, capsys):
    out = tmp_path / "run"
    status, stdout, stderr = run(
        ["circuit", "ghz:4", "--qpus", "4", "--ebits", "werner", "--ebit-fidelity", "0.9",
         "--out", str(out)], capsys)
    assert status == 0 and stderr == f"records written to {out}\n"
    [line] = stdout.splitlines()  # nothing but the result on stdout
    expected = ghz_ladder_fidelity(4, 0.9)
    assert line.startswith(f"ghz4: 4 qubits on 4 QPUs (ideal), fidelity {expected:.4f}")
    assert "ebits 3 (wasted 0)" in line
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fidelity"] == pytest.approx(expected, abs=1e-12)
    assert summary["ebits_source"] == "werner" and summary["policy"] is None
    assert len(pd.read_parquet(out / "ebits.parquet")) == 3
    assert set(pd.read_parquet(out / "gates.parquet")["kind"]) == {"local1", "teleported", "measure"}
    assert pd.read_parquet(out / "plan.parquet")["count"].sum() == 3


def test_qasm_file_through_the_hub_quiet(tmp_path, capsys, monkeypatch):
    pytest.importorskip("openqasm3.parser")
    monkeypatch.chdir(tmp_path)
    Path("bell.qasm").write_text(BELL)
    status, stdout, stderr = run(
        ["circuit", "bell.qasm", "--qpus", "2", "--preset", "future", "--policy", "naive",
         "--seed", "3", "--out", "o", "--quiet"], capsys)
    assert (status, stderr) == (0, "")
    assert stdout.startswith("bell: 2 qubits on 2 QPUs (future), fidelity ")
    summary = json.loads(Path("o/summary.json").read_text())
    ebits = pd.read_parquet("o/ebits.parquet")
    assert summary["ebits_source"] == "hub" and summary["policy"] == "naive"
    # ideal-free QPUs of the future preset still have gate errors: F below the ebit's
    assert 0.5 < summary["fidelity"] < ebits.loc[0, "fidelity_delivered"]
    assert ebits.loc[0, "delivered_ns"] > ebits.loc[0, "requested_ns"]


def test_one_qpu_is_monolithic_and_needs_no_ebits(capsys):
    status, stdout, _ = run(["circuit", "ghz:5", "--qpus", "1"], capsys)
    assert status == 0
    assert stdout.startswith("ghz5: 5 qubits on 1 QPU (ideal), fidelity 1.0000")
    assert "ebits 0 (wasted 0)" in stdout


def test_sixteen_qpus_run(capsys):
    """The upper bound: GHZ-16, one qubit per QPU, 15 teleported CNOTs (stabilizer backend)."""
    pytest.importorskip("stim")
    status, stdout, _ = run(["circuit", "ghz:16", "--qpus", "16", "--ebits", "werner",
                             "--ebit-fidelity", "0.99", "--shots", "4000"], capsys)
    assert status == 0 and "ghz16: 16 qubits on 16 QPUs" in stdout and "ebits 15" in stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["--qpus", "0"], "--qpus = 0 must be >= 1"),
    (["--qpus", "17"], "--qpus = 17 must be <= 16"),
    (["--qpus", "٣"], "--qpus = '٣' is not an integer"),
    (["--qpus", "2", "--seed", "-1"], "--seed = -1 must be >= 0"),
    (["--qpus", "2", "--policy", "greedy"], "--policy: invalid choice: 'greedy'"),
    (["--qpus", "2", "--ebit-fidelity", "0.9"], "--ebit-fidelity = 0.9 applies to --ebits werner"),
    (["--qpus", "2", "--ebits", "werner", "--policy", "naive"], "--policy = naive applies to --ebits hub"),
    (["--qpus", "2", "--ebits", "werner", "--ebit-fidelity", "0.1"], "fidelity = 0.1"),
    (["--qpus", "2", "--preset", "nope"], "nope"),
    (["--qpus", "2", "--data-qubits", "1"], "hold only 2 data qubits"),
])
def test_bad_arguments_are_one_line_and_status_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run(["circuit", "ghz:4", *argv, "--out", "o"], capsys)
    line = error_line(stderr)
    assert status == 2 and message in line and stdout == ""
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("spec", "message"), [
    ("ghz:x", "must be an integer"),
    ("ghz", "give the size"),
    ("missing.qasm", "missing.qasm"),
])
def test_bad_circuit_specs(capsys, spec, message):
    status, _, stderr = run(["circuit", spec, "--qpus", "2"], capsys)
    assert status == 2 and message in error_line(stderr)


def test_out_is_never_the_circuit_file_or_a_users_folder(tmp_path, capsys, monkeypatch):
    pytest.importorskip("openqasm3.parser")
    monkeypatch.chdir(tmp_path)
    Path("bell.qasm").write_text(BELL)
    Path("mine").mkdir()
    Path("mine/notes.txt").write_text("keep")
    for out in ("bell.qasm", "mine"):
        status, _, stderr = run(["circuit", "bell.qasm", "--qpus", "2", "--out", out], capsys)
        assert status == 2 and error_line(stderr)
    assert Path("bell.qasm").read_text() == BELL and Path("mine/notes.txt").read_text() == "keep"


def test_help_lists_the_subcommand_and_exit_codes(capsys):
    status, stdout, _ = run(["--help"], capsys)
    assert status == 0 and "circuit" in stdout
    status, stdout, _ = run(["circuit", "--help"], capsys)
    assert status == 0 and "--policy" in stdout and "--prefetch" in stdout
    for code in (0, 1, 2, 130, 143):
        assert f"  {code:<4} " in stdout


def test_choices_match_the_modules():
    from protocols.circuits.executor import BACKENDS
    from protocols.circuits.generators import GENERATORS
    from protocols.circuits.hub import HUB_POLICIES
    from protocols.circuits.partition import PARTITION_METHODS

    assert circuit_cli.GENERATOR_CHOICES == GENERATORS
    assert circuit_cli.PARTITION_CHOICES == PARTITION_METHODS
    assert circuit_cli.POLICY_CHOICES == HUB_POLICIES
    assert circuit_cli.BACKEND_CHOICES == BACKENDS


def test_hub_without_a_factory_is_refused():
    parser = argparse.ArgumentParser()
    circuit_cli.add_circuit_arguments(parser)
    args = parser.parse_args(["ghz:3", "--qpus", "3"])
    with pytest.raises(UserInputError, match="not available"):
        circuit_cli.run_circuit_command(args)
