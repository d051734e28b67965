"""OpenQASM 2 and 3 input: the unitary of a parsed file, broadcasting, user gates, one-line errors."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from protocols.circuits.gates import expand_gate
from protocols.circuits.ir import Op
from protocols.circuits.qasm import QASM_EXTRA_MESSAGE, load_qasm, parse_qasm
from tests.circuits.test_gates_ir import equal_up_to_phase, unitary_of

pytest.importorskip("openqasm3.parser", reason="optional OpenQASM parser (modenhub-net[circuits])")


QASM2 = """OPENQASM 2.0;
include "qelib1.inc";
qreg a[2];
qreg b[1];
creg c[3];
h a;
cx a[0], b[0];
u3(pi/2, -pi/4, 0.3) a[1];
cu1(pi/8) a[1], b[0];
rz(2*pi/3) b[0];
barrier a, b;
measure a -> c[0:1];
"""

QASM3 = """OPENQASM 3.0;
include "stdgates.inc";
gate rot(theta) x, y { cx x, y; rz(theta) y; cx x, y; }
qubit[3] q;
bit[3] c;
h q[0];
rot(pi/5) q[0], q[2];
swap q[1], q[2];
cp(-pi/3) q[2], q[0];
c = measure q;
"""


def test_qasm2_file_gives_the_reference_unitary(tmp_path):
    text = QASM2.replace("measure a -> c[0:1];", "measure a -> c[0]; ").replace(
        "measure a -> c[0]; ", "measure a[0] -> c[0];\nmeasure a[1] -> c[1];"
    )
    path = tmp_path / "bell.qasm"
    path.write_text(text)
    circuit = load_qasm(path)
    assert circuit.n_qubits == 3 and circuit.n_clbits == 3 and circuit.name == "bell"
    assert circuit.measured_qubits == [0, 1]
    reference = (
        expand_gate("h", [], [0])
        + expand_gate("h", [], [1])
        + [Op("cx", (0, 2))]
        + expand_gate("u3", [np.pi / 2, -np.pi / 4, 0.3], [1])
        + expand_gate("cu1", [np.pi / 8], [1, 2])
        + expand_gate("rz", [2 * np.pi / 3], [2])
    )
    assert equal_up_to_phase(unitary_of(circuit.gates, 3), unitary_of(reference, 3))
    assert [op.line for op in circuit.ops if op.kind == "cx"][0] == 7


def test_qasm3_user_gate_and_measure_all():
    circuit = parse_qasm(QASM3, filename="x.qasm")
    reference = (
        expand_gate("h", [], [0])
        + [Op("cx", (0, 2))]
        + expand_gate("rz", [np.pi / 5], [2])
        + [Op("cx", (0, 2))]
        + expand_gate("swap", [], [1, 2])
        + expand_gate("cp", [-np.pi / 3], [2, 0])
    )
    assert equal_up_to_phase(unitary_of(circuit.gates, 3), unitary_of(reference, 3))
    assert circuit.measured_qubits == [0, 1, 2]


def test_shipped_example_files_parse():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "scenarios" / "circuits"
    files = sorted(folder.glob("*.qasm"))
    assert files, "scenarios/circuits has example .qasm files"
    for path in files:
        assert load_qasm(path).n_qubits >= 2


@pytest.mark.parametrize(
    "source,message",
    [
        (
            "OPENQASM 3.0;\nqubit[2] q;\nh q[0]\ncx q[0], q[1];\n",
            r"x\.qasm: line 4, column \d+: syntax error",
        ),
        ("OPENQASM 3.0;\nqubit[2] q;\nfoo q[0];\n", r"x\.qasm: line 3: unknown gate 'foo'"),
        ("OPENQASM 3.0;\nqubit[2] q;\nh q[2];\n", r"x\.qasm: line 3: q\[2\] is out of range \[0, 1\]"),
        ("OPENQASM 3.0;\nqubit[2] q;\nrx q[0];\n", r"line 3: gate 'rx' takes 1 parameter\(s\), got 0"),
        ("OPENQASM 3.0;\nqubit[2] q;\ncx q[0];\n", r"line 3: gate 'cx' acts on 2 qubit\(s\), got 1"),
        ("OPENQASM 3.0;\nqubit[2] q;\nreset q[0];\n", r"line 3: QuantumReset is not supported"),
        ("OPENQASM 3.0;\nqubit[2] q;\nctrl @ x q[0], q[1];\n", r"line 3: gate modifiers"),
        (
            "OPENQASM 3.0;\nqubit[2] q;\nbit[2] c;\nc[0] = measure q[0];\nh q[0];\n",
            r"x\.qasm: .*line 5.*mid-circuit measurements are not supported",
        ),
        ('OPENQASM 3.0;\ninclude "mine.inc";\nqubit[1] q;\n', r"line 2: include 'mine.inc'"),
        ("OPENQASM 3.0;\nqubit[2] q;\nrz(1/0) q[0];\n", r"line 3: cannot evaluate"),
        ("OPENQASM 3.0;\nqubit[2] q;\ncx q[0], q[0];\n", r"line 3: gate 'cx' repeats a qubit"),
        ("OPENQASM 3.0;\n", r"declares no qubits"),
    ],
)
def test_bad_files_give_one_line_errors(source, message):
    with pytest.raises(UserInputError, match=message) as info:
        parse_qasm(source, filename="x.qasm")
    assert "\n" not in str(info.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(UserInputError, match="no such file"):
        load_qasm(tmp_path / "nope.qasm")
    with pytest.raises(UserInputError, match="is a folder"):
        load_qasm(tmp_path)
    bad = tmp_path / "bad.qasm"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UserInputError, match="not UTF-8"):
        load_qasm(bad)


def test_missing_parser_gives_the_install_hint(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("openqasm3"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(UserInputError) as info:
        parse_qasm("OPENQASM 3.0; qubit q;")
    assert str(info.value) == QASM_EXTRA_MESSAGE
