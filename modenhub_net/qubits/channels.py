"""Noise channels on single qubits: depolarising, dephasing, amplitude damping, Pauli,
T1/T2 memory decoherence over an elapsed time, and loss.

All single-qubit channels are applied through their 4x4 Liouville matrix on the target axis
(see :mod:`modenhub_net.qubits.state`), i.e. exactly ``sum_K K rho K^dagger``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from modenhub_net.config.base import check_number
from modenhub_net.errors import UserInputError
from modenhub_net.qubits.state import Qubit, _remove, apply_pauli_channel, apply_superoperator

__all__ = [
    "depolarise",
    "dephase",
    "amplitude_damp",
    "pauli_channel",
    "t1t2_noise",
    "t1t2_liouville",
    "depolarise_for_time",
    "discard",
    "lose",
]


def _liouville_pauli(p_x: float, p_y: float, p_z: float) -> np.ndarray:
    """Liouville matrix of rho -> (1-px-py-pz) rho + px X rho X + py Y rho Y + pz Z rho Z."""
    p_i = 1.0 - p_x - p_y - p_z
    diag_same = p_i + p_z  # rho00 -> rho00 weight
    diag_swap = p_x + p_y  # rho11 -> rho00 weight
    coh_same = p_i - p_z  # rho01 -> rho01 weight
    coh_swap = p_x - p_y  # rho10 -> rho01 weight
    return np.array(
        [
            [diag_same, 0, 0, diag_swap],
            [0, coh_same, coh_swap, 0],
            [0, coh_swap, coh_same, 0],
            [diag_swap, 0, 0, diag_same],
        ],
        dtype=np.complex128,
    )


def pauli_channel(qubit: Qubit, p_x: float, p_y: float, p_z: float) -> None:
    """General Pauli channel: ``rho -> p_I rho + p_x X rho X + p_y Y rho Y + p_z Z rho Z``.

    Parameters
    ----------
    p_x, p_y, p_z : float
        Probabilities in [0, 1] with ``p_x + p_y + p_z <= 1``.
    """
    for name, value in (("p_x", p_x), ("p_y", p_y), ("p_z", p_z)):
        check_number(name, value, low=0.0, high=1.0)
    if p_x + p_y + p_z > 1.0 + 1e-12:
        raise UserInputError(f"p_x + p_y + p_z = {p_x + p_y + p_z!r} must be <= 1")
    if not apply_pauli_channel(qubit, p_x, p_y, p_z):  # O(1) on a Bell-diagonal state
        apply_superoperator(qubit, _liouville_pauli(p_x, p_y, p_z))


def depolarise(qubit: Qubit, p: float) -> None:
    """Depolarising channel ``rho -> (1-p) rho + p I/2`` on one qubit.

    Equivalent to the Pauli channel with ``p_x = p_y = p_z = p/4``; one qubit of ``|Phi+>``
    keeps fidelity ``1 - 3p/4`` (Nielsen & Chuang, *Quantum Computation and Quantum
    Information*, §8.3.4).

    Parameters
    ----------
    p : float
        Probability in [0, 1] that the qubit is replaced by the maximally mixed state.
    """
    check_number("p", p, low=0.0, high=1.0)
    if p and not apply_pauli_channel(qubit, p / 4, p / 4, p / 4):
        apply_superoperator(qubit, _liouville_pauli(p / 4, p / 4, p / 4))


def dephase(qubit: Qubit, p: float) -> None:
    """Dephasing channel ``rho -> (1-p) rho + p Z rho Z`` (N&C §8.3.6); ``p`` in [0, 1]."""
    check_number("p", p, low=0.0, high=1.0)
    if p and not apply_pauli_channel(qubit, 0.0, 0.0, p):
        apply_superoperator(qubit, _liouville_pauli(0.0, 0.0, p))


def _liouville_damp_dephase(gamma: float, coherence: float) -> np.ndarray:
    """rho00 += gamma rho11, rho11 *= 1-gamma, off-diagonals *= coherence."""
    return np.array(
        [
            [1, 0, 0, gamma],
            [0, coherence, 0, 0],
            [0, 0, coherence, 0],
            [0, 0, 0, 1 - gamma],
        ],
        dtype=np.complex128,
    )


def amplitude_damp(qubit: Qubit, gamma: float) -> None:
    """Amplitude damping with Kraus operators ``diag(1, sqrt(1-g))`` and ``sqrt(g)|0><1|``.

    (N&C §8.3.5.) ``gamma`` in [0, 1] is the decay probability of ``|1>`` to ``|0>``.
    """
    check_number("gamma", gamma, low=0.0, high=1.0)
    if gamma:
        apply_superoperator(qubit, _liouville_damp_dephase(gamma, math.sqrt(1.0 - gamma)))


def t1t2_liouville(elapsed_ns: float, *, t1_ns: float, t2_ns: float) -> np.ndarray | None:
    """Liouville matrix of T1/T2 decoherence (see :func:`_t1t2_liouville_cached`); read-only."""
    return _t1t2_liouville_cached(
        check_number("elapsed_ns", elapsed_ns, low=0.0),
        check_number("t1_ns", t1_ns, low=0.0, low_inclusive=False, allow_inf=True),
        check_number("t2_ns", t2_ns, low=0.0, low_inclusive=False, allow_inf=True),
    )


@functools.lru_cache(maxsize=4096)
def _t1t2_liouville_cached(elapsed_ns: float, t1_ns: float, t2_ns: float) -> np.ndarray | None:
    """Liouville matrix of T1/T2 decoherence for ``elapsed_ns``, or None if it is the identity.

    Amplitude damping with ``gamma = 1 - exp(-t/T1)`` followed by dephasing chosen so that
    coherences decay as ``exp(-t/T2)`` in total: the damping alone leaves
    ``sqrt(1-gamma) = exp(-t/(2 T1))``, so the dephasing factor is
    ``exp(-t/T2 + t/(2 T1)) <= 1``, which requires ``T2 <= 2 T1`` (Nielsen & Chuang §8.3;
    the same construction as NetSquid's ``T1T2NoiseModel``, Coopmans et al., Commun. Phys.
    4, 164 (2021)). ``math.inf`` switches a process off.
    """
    if t2_ns > 2 * t1_ns:  # (the arguments were checked by t1t2_liouville)
        raise UserInputError(
            f"t2_ns = {t2_ns!r} exceeds 2 * t1_ns = {2 * t1_ns!r}: physical memories have T2 <= 2 T1"
        )
    if elapsed_ns == 0 or (math.isinf(t1_ns) and math.isinf(t2_ns)):
        return None
    gamma = 0.0 if math.isinf(t1_ns) else -math.expm1(-elapsed_ns / t1_ns)
    coherence = 1.0 if math.isinf(t2_ns) else math.exp(-elapsed_ns / t2_ns)
    liouville = _liouville_damp_dephase(gamma, coherence)
    liouville.setflags(write=False)
    return liouville


def t1t2_noise(qubit: Qubit, elapsed_ns: float, *, t1_ns: float, t2_ns: float) -> None:
    """Memory decoherence over ``elapsed_ns`` with relaxation ``t1_ns`` and coherence ``t2_ns``.

    See :func:`t1t2_liouville`. For one qubit of ``|Phi+>`` with ``T1 = inf`` the fidelity
    decays as ``F(t) = (1 + exp(-t/T2)) / 2``.

    Parameters
    ----------
    elapsed_ns : float
        Storage time in ns, >= 0.
    t1_ns, t2_ns : float
        Relaxation and coherence times in ns, > 0 (``math.inf``: none), ``T2 <= 2 T1``.
    """
    liouville = t1t2_liouville(elapsed_ns, t1_ns=t1_ns, t2_ns=t2_ns)
    if liouville is None:
        return
    # T1 = inf: pure dephasing, the Pauli channel with p_z = (1 - exp(-t/T2))/2 (its
    # coherence factor 1 - 2 p_z is exp(-t/T2)); O(1) on a Bell-diagonal state
    if math.isinf(t1_ns) and apply_pauli_channel(qubit, 0.0, 0.0, -math.expm1(-elapsed_ns / t2_ns) / 2):
        return
    apply_superoperator(qubit, liouville)


def depolarise_for_time(qubit: Qubit, elapsed_ns: float, *, depolar_time_ns: float) -> None:
    """Depolarising memory noise: ``p = 1 - exp(-t / T_dep)`` (NetSquid's ``DepolarNoiseModel``).

    Parameters
    ----------
    elapsed_ns : float
        Storage time in ns, >= 0.
    depolar_time_ns : float
        Depolarising time constant in ns, > 0 (``math.inf``: none).
    """
    check_number("elapsed_ns", elapsed_ns, low=0.0)
    check_number("depolar_time_ns", depolar_time_ns, low=0.0, low_inclusive=False, allow_inf=True)
    if elapsed_ns and not math.isinf(depolar_time_ns):
        depolarise(qubit, -math.expm1(-elapsed_ns / depolar_time_ns))


def discard(qubit: Qubit) -> None:
    """Trace the qubit out of its state; its partners keep their reduced state."""
    _remove(qubit)


def lose(qubit: Qubit) -> None:
    """Loss: the qubit is traced out and marked ``is_lost`` (e.g. a photon absorbed in fibre)."""
    _remove(qubit)
    qubit.is_lost = True
