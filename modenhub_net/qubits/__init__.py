"""Density-matrix qubits: shared states, gates, channels, measurements and fidelity.

Example: teleport ``|+>`` through a perfect pair.

>>> import numpy as np
>>> from modenhub_net.qubits import (create_qubits, create_bell_pair, operate, H,
...     bell_measure, bell_correction, fidelity)
>>> rng = np.random.default_rng(1)
>>> (data,) = create_qubits(1)
>>> operate([data], H)
>>> alice, bob = create_bell_pair(0)
>>> outcome = bell_measure(data, alice, rng)
>>> for gate in bell_correction(outcome):
...     operate([bob], gate)
>>> round(fidelity([bob], np.array([1, 1]) / np.sqrt(2)), 12)
1.0
"""

from modenhub_net.qubits import operators as _operators
from modenhub_net.qubits.bell import (
    BELL_LABELS,
    bell_correction,
    bell_dm,
    bell_state,
    create_bell_pair,
    create_werner_pair,
    werner_dm,
)
from modenhub_net.qubits.bell_diagonal import (
    bell_coefficients,
    bell_diagonal_matrix,
    bell_fidelity,
    create_bell_diagonal_pair,
    is_bell_diagonal,
    trusted_bell_diagonal_pair,
)
from modenhub_net.qubits.channels import (
    amplitude_damp,
    dephase,
    depolarise,
    depolarise_for_time,
    discard,
    lose,
    pauli_channel,
    t1t2_liouville,
    t1t2_noise,
)
from modenhub_net.qubits.fidelity import fidelity
from modenhub_net.qubits.measurement import bell_measure, bell_outcome_probabilities, measure
from modenhub_net.qubits.operators import CNOT, CZ, SWAP, H, I, S, T, X, Y, Z, superoperator
from modenhub_net.qubits.state import (
    BellDiagonalState,
    QState,
    Qubit,
    apply_kraus,
    apply_superoperator,
    assign_state,
    assign_trusted_state,
    create_qubits,
    operate,
    reduced_dm,
)

_operators._register_trusted()

__all__ = [
    "BELL_LABELS", "CNOT", "CZ", "BellDiagonalState", "H", "I", "QState", "Qubit", "S", "SWAP", "T", "X", "Y",
    "Z", "amplitude_damp", "apply_kraus", "apply_superoperator", "assign_state", "assign_trusted_state",
    "bell_coefficients", "bell_correction", "bell_diagonal_matrix", "bell_dm", "bell_fidelity",
    "create_bell_diagonal_pair", "is_bell_diagonal", "bell_measure", "bell_outcome_probabilities",
    "bell_state", "create_bell_pair", "create_qubits", "create_werner_pair", "dephase", "depolarise",
    "depolarise_for_time", "discard", "fidelity", "lose", "measure", "operate", "pauli_channel", "reduced_dm",
    "superoperator", "t1t2_liouville", "t1t2_noise", "trusted_bell_diagonal_pair", "werner_dm",
]
