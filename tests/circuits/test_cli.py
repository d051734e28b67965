"""The `modenhub circuit` entry point (run through its own argparse setup)."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from modenhub_net.errors import UserInputError
from protocols.circuits.cli import add_circuit_arguments, run_circuit_command
from protocols.circuits.closed_forms import ghz_ladder_fidelity

pytest.importorskip("networkx")


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_circuit_arguments(parser)
    return parser.parse_args(list(argv))


def test_builtin_ghz_prints_and_writes_records(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        run_circuit_command(parse("ghz:4", "--qpus", "4", "--ebit-fidelity", "0.9", "--out", str(out))) == 0
    )
    line = capsys.readouterr().out.splitlines()[0]
    assert (
        f"ghz4: 4 qubits on 4 QPUs (ideal), fidelity {ghz_ladder_fidelity(4, 0.9):.4f}" in line
        and "ebits 3" in line
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fidelity"] == pytest.approx(ghz_ladder_fidelity(4, 0.9), abs=1e-12)
    assert len(pd.read_parquet(out / "ebits.parquet")) == 3
    assert set(pd.read_parquet(out / "gates.parquet")["kind"]) == {"local1", "teleported", "measure"}
    assert pd.read_parquet(out / "plan.parquet")["count"].sum() == 3


def test_qasm_file_on_a_preset(tmp_path, capsys):
    pytest.importorskip("openqasm3.parser")
    path = tmp_path / "bell.qasm"
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0], q[1];\n')
    run_circuit_command(parse(str(path), "--qpus", "2", "--preset", "near_term_trapped_ion"))
    assert "bell: 2 qubits on 2 QPUs (near_term_trapped_ion)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (("ghz:4", "--qpus", "17"), "--qpus = 17"),
        (("ghz:x", "--qpus", "2"), "must be an integer"),
        (("ghz", "--qpus", "2"), "give the size"),
        (("ghz:4", "--qpus", "2", "--data-qubits", "1"), "hold only 2 data qubits"),
        (("ghz:4", "--qpus", "2", "--ebit-fidelity", "0.1"), "fidelity = 0.1"),
        (("ghz:4", "--qpus", "2", "--preset", "nope"), "nope"),
    ],
)
def test_bad_arguments(argv, message):
    with pytest.raises(UserInputError, match=message):
        run_circuit_command(parse(*argv))


def test_hub_ebits_through_a_provider_factory(capsys):
    from modenhub_net.network.builder import build_hub_network
    from modenhub_net.network.spec import HubSpec, QpuSpec
    from modenhub_net.simulation import Simulation
    from protocols.circuits.hub import HubEbitProvider

    def factory(*, n_qpus, preset, seed):
        nodes = [QpuSpec.from_preset(preset, fibre_length_km=2.0) for _ in range(n_qpus)]
        net = build_hub_network(Simulation(seed=seed), nodes=nodes, hub=HubSpec.from_preset(preset))
        return HubEbitProvider(net)

    args = parse("ghz:3", "--qpus", "3", "--preset", "near_term_trapped_ion", "--ebits", "hub")
    run_circuit_command(args, hub_provider_factory=factory)
    assert "ghz3: 3 qubits on 3 QPUs (near_term_trapped_ion)" in capsys.readouterr().out
    with pytest.raises(UserInputError, match="not available"):
        run_circuit_command(args)
