"""The trusted constructors (no validation) give the same states as the checked ones.

:func:`assign_trusted_state` against :func:`assign_state`, :func:`trusted_bell_diagonal_pair`
against :func:`create_bell_diagonal_pair`, and the protocols' adapter
(:func:`protocols.qops.pair_maker`, :func:`protocols.qops.make_pair`) that uses them, compared
on the state they build and after the same operations (to 1e-12). Also: no module outside
``modenhub_net/qubits`` imports a private name from it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from modenhub_net.qubits import (
    CNOT,
    H,
    X,
    assign_state,
    assign_trusted_state,
    bell_fidelity,
    create_bell_diagonal_pair,
    create_qubits,
    dephase,
    depolarise,
    is_bell_diagonal,
    measure,
    operate,
    reduced_dm,
    trusted_bell_diagonal_pair,
)
from protocols import qops

ROOT = Path(__file__).resolve().parents[2]
ATOL = 1e-12


def _random_dm(rng: np.random.Generator, n: int) -> np.ndarray:
    """A full-rank random density matrix of ``n`` qubits (Ginibre ensemble)."""
    g = rng.normal(size=(1 << n, 1 << n)) + 1j * rng.normal(size=(1 << n, 1 << n))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def _evolve(pair: tuple, seed: int) -> tuple[np.ndarray, int]:
    """The same sequence on a pair: Pauli noise, a general gate, a measurement; the remaining
    qubit's matrix and the outcome."""
    a, b = pair
    dephase(a, 0.2)
    depolarise(b, 0.1)
    operate([b], X)
    operate([a], H)
    operate([a, b], CNOT)
    outcome = measure(a, np.random.default_rng(seed))
    return reduced_dm([b]), outcome


@pytest.mark.parametrize("n", [1, 2, 3])
def test_assign_trusted_state_equals_assign_state(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    rho = _random_dm(rng, n)
    checked = create_qubits(n)
    assign_state(checked, rho)
    trusted = create_qubits(n)
    state = assign_trusted_state(trusted, checked[0].state.dm.copy())
    assert all(q.state is state for q in trusted)
    assert state.qubits == trusted
    np.testing.assert_allclose(reduced_dm(trusted), reduced_dm(checked), atol=ATOL, rtol=0)
    np.testing.assert_allclose(reduced_dm(trusted), rho, atol=ATOL, rtol=0)
    if n == 2:
        got, want = _evolve(tuple(trusted), seed=5), _evolve(tuple(checked), seed=5)
        assert got[1] == want[1]
        np.testing.assert_allclose(got[0], want[0], atol=ATOL, rtol=0)


def test_assign_trusted_state_takes_the_matrix_without_copy_or_check() -> None:
    dm = np.diag([0.5, 0.5, 0.0, 0.0]).astype(np.complex128)
    qubits = create_qubits(2)
    assert assign_trusted_state(qubits, dm).dm is dm  # owned, as documented
    bad = np.diag([2.0, 0.0, 0.0, 0.0]).astype(np.complex128)  # trace 2: not a state
    assign_trusted_state(create_qubits(2), bad)  # trusted: no check, no error
    with pytest.raises(Exception, match="trace"):
        assign_state(create_qubits(2), bad)


@pytest.mark.parametrize(
    "coefficients",
    [[1.0, 0.0, 0.0, 0.0], [0.1, 0.1, 0.7, 0.1], [0.61, 0.07, 0.2, 0.12], [0.25, 0.25, 0.25, 0.25]],
)
def test_trusted_bell_diagonal_pair_equals_create_bell_diagonal_pair(coefficients: list[float]) -> None:
    trusted = trusted_bell_diagonal_pair(coefficients)
    checked = create_bell_diagonal_pair(coefficients)
    assert is_bell_diagonal(trusted[0]) and trusted[0].state is trusted[1].state
    assert [q.name for q in trusted] == [q.name for q in checked] == ["q0", "q1"]
    np.testing.assert_allclose(reduced_dm(list(trusted)), reduced_dm(list(checked)), atol=ATOL, rtol=0)
    for index in range(4):
        assert abs(bell_fidelity(*trusted, index) - coefficients[index]) <= ATOL
    got, want = _evolve(trusted, seed=3), _evolve(checked, seed=3)
    assert got[1] == want[1]
    np.testing.assert_allclose(got[0], want[0], atol=ATOL, rtol=0)


def test_trusted_bell_diagonal_pair_copies_the_coefficients() -> None:
    c = [0.7, 0.1, 0.1, 0.1]
    first = trusted_bell_diagonal_pair(c)
    c[0], c[1] = 0.1, 0.7
    second = trusted_bell_diagonal_pair(c)
    assert bell_fidelity(*first) == 0.7 and bell_fidelity(*second) == 0.1
    assert first[0].state is not second[0].state


@pytest.mark.parametrize("bell_diagonal", [True, False])
def test_qops_pairs_equal_the_checked_path(bell_diagonal: bool) -> None:
    """``pair_maker`` (lazy Bell-diagonal or trusted density matrix) and
    ``make_pair(trusted=True)`` give the state that ``assign_state`` gives."""
    if bell_diagonal:
        ket = qops.PHI_PLUS_KET
        rho = 0.9 * np.outer(ket, ket.conj()) + 0.1 * np.eye(4) / 4  # a Werner state
    else:
        rho = _random_dm(np.random.default_rng(7), 2)
    dm = qops.checked_state(rho)
    reference = create_qubits(2)
    assign_state(reference, rho)
    pairs = [qops.pair_maker(dm)(), qops.pair_maker(dm)(), qops.make_pair(dm, trusted=True)]
    assert is_bell_diagonal(pairs[0][0]) is bell_diagonal
    assert pairs[0][0].state is not pairs[1][0].state  # a new pair per call
    for pair in pairs:
        np.testing.assert_allclose(reduced_dm(list(pair)), reduced_dm(reference), atol=ATOL, rtol=0)
    assert pairs[2][0].state.dm is not dm  # make_pair copies the matrix it is given


def _private_qubits_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("modenhub_net.qubits"):
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}"
                      for alias in node.names if alias.name.startswith("_")]
    return found


def test_no_private_qubits_names_imported_from_outside() -> None:
    files = [p for folder in ("modenhub_net", "protocols", "hardware_models")
             for p in (ROOT / folder).rglob("*.py") if "qubits" not in p.relative_to(ROOT).parts]
    assert len(files) > 50
    offenders = [hit for p in files for hit in _private_qubits_imports(p)]
    assert offenders == []
