"""Closed forms for distributed circuits with imperfect ebits (the executor's validation targets).

Teleported CNOT with a Werner resource
--------------------------------------
The EJPP protocol (Eisert, Jacobs, Papadopoulos & Plenio, PRA 62, 052317 (2000); see
:mod:`protocols.circuits.compiler`) is linear in its resource state. A Werner state
``rho_F = w |Phi+><Phi+| + (1 - w) I/4`` with ``w = (4F - 1)/3`` (Werner, PRA 40, 4277
(1989)) therefore gives ``E = w CX + (1 - w) E_mix``, where ``E_mix`` is the protocol run on
the maximally mixed pair. With ``I/4`` the halves are independent uniform bits: ``CX(c, e_A)``
on a mixed ``e_A = (|+><+| + |-><-|)/2`` kicks ``Z`` back onto ``c`` with probability 1/2 (``c``
is fully dephased); ``e_B`` after its X correction is a uniform bit independent of ``c``, so
``CX(e_B, t)`` applies ``X_t`` with probability 1/2 and nothing else (the final Z correction
on ``c`` is again uniformly random). Hence

``E(rho) = w CX rho CX + (1 - w) D_Z^c D_X^t(rho)``, ``D_P(rho) = (rho + P rho P)/2``.

Its entanglement (process) fidelity with CX is ``F_e = sum_k |Tr(CX^dag K_k)|^2 / d^2``
(Nielsen, Phys. Lett. A 303, 249 (2002)). The Kraus operators of ``D_Z^c D_X^t`` are
``{II, ZI, IX, ZX}/2`` and ``CX = (II + ZI + IX - ZX)/2``, so each term is ``|Tr|^2 = 1`` and
``F_e(E_mix) = 4/16 = 1/4``; ``F_e(E) = w + (1 - w)/4 = F``: **the process fidelity of the
teleported CNOT equals the ebit's fidelity**, and its average gate fidelity is
``(d F_e + 1)/(d + 1) = (4F + 1)/5`` (Horodecki, Horodecki & Horodecki, PRA 60, 1888 (1999)).

GHZ ladder across n QPUs
------------------------
``H`` on qubit 0 and ``CX(i, i+1)``, one qubit per QPU, n - 1 teleported CNOTs with
independent Werner ebits: expand each gate as ``w CX + (1-w) D_Z^c D_X^t``. With no failure the
output is GHZ (fidelity 1). The first failure dephases the chain built so far and replaces
the next qubit by a uniform random bit, so after m >= 1 failures the state is a classical
mixture of m + 1 independent uniform segments, ``P(0^n) = P(1^n) = 2^{-(m+1)}``, fidelity
``(P(0^n) + P(1^n))/2 = 2^{-(m+1)}``. Summing over m (binomial, n - 1 gates):

``F_GHZ(n) = [((1 + w)/2)^{n-1} + w^{n-1}] / 2`` (n = 2 gives F).
"""

from __future__ import annotations

from modenhub_net.errors import check_range

__all__ = [
    "fan_out_fidelity",
    "ghz_ladder_fidelity",
    "teleported_cnot_average_fidelity",
    "teleported_cnot_process_fidelity",
    "werner_parameter",
]


def werner_parameter(fidelity: float) -> float:
    """``w = (4F - 1)/3`` of a Werner state of fidelity F in [0.25, 1]."""
    f = check_range("fidelity", fidelity, low=0.25, high=1.0)
    return (4.0 * f - 1.0) / 3.0


def teleported_cnot_process_fidelity(fidelity: float) -> float:
    """Process (entanglement) fidelity of an EJPP CNOT with a Werner ebit: F (module notes)."""
    return (1.0 + 3.0 * werner_parameter(fidelity)) / 4.0


def teleported_cnot_average_fidelity(fidelity: float) -> float:
    """Average gate fidelity of an EJPP CNOT with a Werner ebit: ``(4F + 1)/5`` (module notes)."""
    return (4.0 * teleported_cnot_process_fidelity(fidelity) + 1.0) / 5.0


def ghz_ladder_fidelity(n_qubits: int, fidelity: float) -> float:
    """GHZ-n ladder across n QPUs with Werner ebits: ``[((1+w)/2)^{n-1} + w^{n-1}]/2`` (module notes).

    Examples
    --------
    >>> round(ghz_ladder_fidelity(2, 0.9), 12)
    0.9
    """
    w = werner_parameter(fidelity)
    return 0.5 * (((1.0 + w) / 2.0) ** (n_qubits - 1) + w ** (n_qubits - 1))


def fan_out_fidelity(fidelity: float, *, shared: bool) -> float:
    """GHZ-3 as a fan-out ``H(0); CX(0,1); CX(0,2)`` with qubit 0 on QPU A, qubits 1, 2 on QPU B.

    ``shared=False``: two independent Werner ebits. Both gates succeed (``w^2``): GHZ; exactly
    one fails (``2 w (1-w)``): a classical mixture with ``P(000) = P(111) = 1/4``, fidelity 1/4;
    both fail (``(1-w)^2``): qubit 0 dephased and two independent random bits, fidelity 1/8.
    ``F = w^2 + w(1-w)/2 + (1-w)^2/8``.

    ``shared=True``: one ebit for both gates (a cat-entangled copy of qubit 0 on B,
    Andres-Martinez & Heunen, PRA 100, 032308 (2019)). With the mixed part the copy is one
    random bit that flips *both* targets together and qubit 0 is dephased: ``P(000) =
    P(111) = 1/4``, fidelity 1/4; ``F = w + (1-w)/4`` = the ebit's fidelity.
    """
    w = werner_parameter(fidelity)
    if shared:
        return w + (1.0 - w) / 4.0
    return w * w + w * (1.0 - w) / 2.0 + (1.0 - w) ** 2 / 8.0
