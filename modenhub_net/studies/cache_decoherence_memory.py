"""Part 1 of the ``cache_decoherence`` study: fidelity of a stored pair against its age.

A Phi+ pair with one or both halves written into a
:class:`hardware_models.memory.QuantumMemory` at t = 0 and read at the age (the memory applies
its channel lazily at access), its fidelity computed from the density matrix, next to the
closed form :func:`hardware_models.memory.stored_pair_fidelity`; for each preset's T1/T2
memory and a depolarising memory with the same time constant (the single-coherence-time
convention of Avis et al., npj Quantum Inf. 9, 100 (2023)).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hardware_models.memory import MemoryParams, QuantumMemory, stored_pair_fidelity
from hardware_models.presets import load_preset
from modenhub_net import qubits as qb
from modenhub_net.simulation import Simulation

if TYPE_CHECKING:  # pragma: no cover
    from modenhub_net.studies.cache_decoherence import MemorySection

__all__ = ["characteristic_time_ns", "memory_curves", "simulated_pair_fidelity"]

_PHI_PLUS = np.array([1, 0, 0, 1], dtype=complex) / math.sqrt(2)


def characteristic_time_ns(params: MemoryParams) -> float:
    """The shortest finite of T1, T2, T_dep in ns (1 s if all are infinite)."""
    finite = [t for t in (params.t1_ns, params.t2_ns, params.depolar_time_ns) if math.isfinite(t)]
    return min(finite) if finite else 1e9


def simulated_pair_fidelity(
    params: MemoryParams, age_ns: float, *, both_qubits: bool, seed: int = 0
) -> float:
    """Store half (or both halves) of Phi+ in event-driven memories, access at ``age_ns``.

    The memory applies its channel lazily at access (:class:`QuantumMemory`); the returned
    fidelity is computed from the resulting density matrix.
    """
    sim = Simulation(seed=seed)
    memory = QuantumMemory("memory", sim=sim, params=params, n_slots=2)
    qa, qb_ = qb.create_qubits(2)
    qb.assign_state([qa, qb_], _PHI_PLUS)
    memory.store(0, qa, apply_efficiency=False)
    if both_qubits:
        memory.store(1, qb_, apply_efficiency=False)
    if age_ns > 0:
        sim.run(until_ns=float(age_ns))
    memory.access(0)
    if both_qubits:
        memory.access(1)
    return float(qb.fidelity([qa, qb_], _PHI_PLUS))


def memory_curves(section: MemorySection) -> pd.DataFrame:
    """Part 1 table: simulated and closed-form fidelity vs age, per preset, model and storage."""
    rows = []
    for name in section.presets:
        mem = load_preset(name).memory
        t_c = characteristic_time_ns(mem)
        models = {
            "t1t2": MemoryParams(t1_ns=mem.t1_ns, t2_ns=mem.t2_ns),
            "depolarising": MemoryParams(depolar_time_ns=t_c if math.isfinite(mem.t2_ns) else math.inf),
        }
        for model, params in models.items():
            for both in (False, True):
                for a in section.ages_over_t:
                    age = a * t_c
                    rows.append(
                        dict(
                            preset=name,
                            model=model,
                            stored="both" if both else "one",
                            time_constant_ns=t_c,
                            t1_ns=params.t1_ns,
                            t2_ns=params.t2_ns,
                            depolar_time_ns=params.depolar_time_ns,
                            age_over_t=a,
                            age_ns=age,
                            fidelity_sim=simulated_pair_fidelity(params, age, both_qubits=both),
                            fidelity_closed=stored_pair_fidelity(age, params, both_qubits=both),
                        )
                    )
    frame = pd.DataFrame(rows)
    frame["abs_diff"] = (frame["fidelity_sim"] - frame["fidelity_closed"]).abs()
    return frame
