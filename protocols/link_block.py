"""Blocks of link rounds whose pairs are used at delivery: the multi-round link API.

A *block* is a run of back-to-back rounds of heralded generation between two QPUs whose
every pair is used as soon as it is delivered: handed over at the herald, its Pauli
correction applied at the correcting QPU, its state read, both memory slots freed, and the
next round started as soon as the QPUs are ready. That is the link-level workload of link
characterisation, entanglement-rate and QKD-style studies and of the two-node benchmark
(``benchmarks/bench_two_node_link.py``, whose per-round consumer does exactly this).

:meth:`modenhub_net.network.builder.HubNetwork.link_block` runs a block and returns a
:class:`PairBlock`: one row per delivered pair (time stamps, heralded Bell state, memory
slots, the pair's state at delivery and its fidelity with Phi+), as arrays.

Two ways to run a block, with the same result:

- :func:`consume_rounds` (any link mode and scheme): one :meth:`round` after the other,
  each pair waited for, accessed, read and freed through the components, as a per-round
  consumer does.
- The sampled link mode's fast path
  (:meth:`protocols.generation_sampled_block.SampledBlocks.block`, ``detection_in_hub`` and
  ``source_in_hub``): the block's rounds are drawn in one step with the same uniforms, in
  the same order, as the per-round path draws them, so the same seed gives the same pairs;
  time advances once per block; a pair's state at delivery is the *simulated* state of its
  history (emission, storage in each memory, correction gate with its error, storage up to
  use), computed by :func:`replay_history` with the memories' and the QPU's own channels,
  once per distinct history (all pairs with the same heralded Bell state and the same
  delivery offset in their round share one history), and indexed per pair.

While a block runs it holds what its rounds use: the switch lane of the pair, ``k`` BSM
stations and ``k`` communication slots per QPU (:meth:`hardware_models.QuantumMemory.reserve`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modenhub_net.config.base import check_count, check_number
from modenhub_net.errors import UserInputError
from protocols import qops

__all__ = [
    "PairBlock",
    "check_attempts",
    "check_block_arguments",
    "consume_rounds",
    "correction_duration_ns",
    "replay_history",
]


@dataclass(frozen=True)
class PairBlock:
    """The pairs of a block of rounds, each used at delivery (one array entry per pair).

    Attributes
    ----------
    node_a, node_b : int
        QPU indices, ``node_a < node_b``; ``node_b`` applies the Pauli corrections.
    attempts_per_round : int
        Parallel attempts ``k`` of every round of the block.
    rounds : int
        Rounds played.
    start_ns, end_ns : float
        Start of the first round and the time the block ended (the last pair used, or the
        last round's hand-over), in ns.
    pair_id, round_index : numpy.ndarray of int64
        The network's pair id and the round (0-based within the block) of each pair.
    heralded_ns, delivered_ns : numpy.ndarray of float
        When the hub heralded the pair and when it was used (handed over and corrected), ns.
    emitted_a_ns, emitted_b_ns : numpy.ndarray of float
        When each half was emitted / stored in its memory, ns (storage time =
        ``delivered_ns - emitted_x_ns``).
    bell_index : numpy.ndarray of int8
        Heralded Bell state before the correction (0..3: Phi+, Phi-, Psi+, Psi-).
    slot_a, slot_b : numpy.ndarray of int64
        Communication slots that held the halves.
    state_index : numpy.ndarray of int64
        Row of :attr:`states` holding the pair's state at delivery.
    states : numpy.ndarray of complex, shape (m, 4, 4)
        The distinct two-qubit states at delivery (qubit of ``node_a`` first), after the
        correction and all storage noise.
    fidelity : numpy.ndarray of float
        Fidelity of each pair's state at delivery with Phi+.
    """

    node_a: int
    node_b: int
    attempts_per_round: int
    rounds: int
    start_ns: float
    end_ns: float
    pair_id: np.ndarray
    round_index: np.ndarray
    heralded_ns: np.ndarray
    delivered_ns: np.ndarray
    emitted_a_ns: np.ndarray
    emitted_b_ns: np.ndarray
    bell_index: np.ndarray
    slot_a: np.ndarray
    slot_b: np.ndarray
    state_index: np.ndarray
    states: np.ndarray
    fidelity: np.ndarray

    @property
    def n_pairs(self) -> int:
        """Pairs delivered."""
        return int(self.pair_id.size)

    @property
    def attempts(self) -> int:
        """Attempts launched (``rounds * attempts_per_round``)."""
        return self.rounds * self.attempts_per_round

    @property
    def storage_a_ns(self) -> np.ndarray:
        """Storage time of each ``node_a`` half, emission to use, ns."""
        return self.delivered_ns - self.emitted_a_ns

    @property
    def storage_b_ns(self) -> np.ndarray:
        """Storage time of each ``node_b`` half, emission to use, ns."""
        return self.delivered_ns - self.emitted_b_ns

    def bell_coefficients(self) -> np.ndarray:
        """Each pair's weights on Phi+, Phi-, Psi+, Psi- at delivery, shape ``(n_pairs, 4)``."""
        bell = np.array([[1, 0, 0, 1], [1, 0, 0, -1], [0, 1, 1, 0], [0, 1, -1, 0]]) / math.sqrt(2)
        table = np.real(np.einsum("bi,mij,bj->mb", bell.conj(), self.states, bell))
        return table[self.state_index]

    def to_frame(self) -> Any:
        """The pairs as a :class:`pandas.DataFrame`, one row per pair (times in ns)."""
        import pandas as pd

        return pd.DataFrame({
            "pair_id": self.pair_id, "round": self.round_index,
            "heralded_ns": self.heralded_ns, "delivered_ns": self.delivered_ns,
            "storage_a_ns": self.storage_a_ns, "storage_b_ns": self.storage_b_ns,
            "bell_index": self.bell_index, "slot_a": self.slot_a, "slot_b": self.slot_b,
            "fidelity": self.fidelity,
        })


def check_block_arguments(rounds: Any, until_ns: Any, k: Any, *,
                          now_ns: float) -> tuple[int | None, float, int | None]:
    """Validate :meth:`~modenhub_net.network.builder.HubNetwork.link_block`'s options.

    ``rounds``: an int >= 0 or None; ``until_ns``: a number >= now (ns; inf only with
    ``rounds``, so that a block ends) or None; at least one of the two. ``k``: None or an
    int >= 1 (its upper bound, the free resources, is checked when the block starts:
    :func:`check_attempts`). Returns ``(rounds, until_ns, k)`` with ``until_ns = inf`` when
    not given.

    Raises
    ------
    UserInputError
        Naming the option, its value and the allowed range.
    """
    if rounds is None and until_ns is None:
        raise UserInputError("link_block: give rounds (an int >= 0) or until_ns (ns), or both")
    n_rounds = None if rounds is None else check_count("rounds", rounds)
    until = math.inf if until_ns is None else check_number(
        "until_ns", until_ns, low=now_ns, allow_inf=rounds is not None)
    return n_rounds, until, None if k is None else check_count("k", k, low=1)


def check_attempts(k: int | None, *, cap: int) -> int:
    """Attempts per round of a block: ``k`` (checked against ``cap``), or ``cap`` if None.

    Raises
    ------
    UserInputError
        If no resources are free (``cap < 1``) or ``k > cap``.
    """
    if cap < 1:
        raise UserInputError(f"link_block: no free resources for a round (attempt cap {cap})")
    return cap if k is None else check_count("k", k, low=1, high=cap)


def replay_history(make: Callable[[], tuple[Any, Any]], *, memory_a: Any, memory_b: Any, qpu_b: Any,
                   gates: Sequence[np.ndarray], corrected_after_ns: float,
                   used_after_a_ns: float, used_after_b_ns: float) -> tuple[np.ndarray, float]:
    """The state at use of a heralded pair with a given history, simulated once.

    A fresh pair from ``make`` (its heralded state); the ``node_b`` half is stored for
    ``corrected_after_ns`` in ``memory_b``, corrected by ``gates`` on ``qpu_b`` (each with the
    QPU's gate error, :meth:`hardware_models.QPU.apply_gate_to`), then stored until use;
    the ``node_a`` half is stored for ``used_after_a_ns`` in ``memory_a``; ``used_after_b_ns``
    is the ``node_b`` half's whole storage time. The channels are the memories' own
    (:meth:`hardware_models.QuantumMemory.apply_storage_noise`), applied in the order the
    per-round path applies them (the ``node_b`` half at its correction, both halves at use).

    Returns
    -------
    (state, fidelity)
        The 4x4 density matrix (``node_a`` qubit first) and its fidelity with Phi+.
    """
    qa, qb = make()
    memory_b.apply_storage_noise(qb, corrected_after_ns)
    for gate in gates:
        qpu_b.apply_gate_to(gate, [qb])
    memory_a.apply_storage_noise(qa, used_after_a_ns)
    memory_b.apply_storage_noise(qb, used_after_b_ns - corrected_after_ns)
    fidelity = qops.pair_fidelity(qa, qb)
    state = np.array(qops.qb_module.reduced_dm([qa, qb]), dtype=complex)
    qops.discard(qa)
    qops.discard(qb)
    return state, fidelity


def correction_duration_ns(make: Callable[[], tuple[Any, Any]], *, qpu_b: Any,
                           gates: Sequence[np.ndarray]) -> float:
    """How long ``qpu_b`` takes to apply ``gates`` (its gate durations, ns)."""
    qa, qb = make()
    duration = 0.0
    for gate in gates:
        duration += qpu_b.apply_gate_to(gate, [qb])
    qops.discard(qa)
    qops.discard(qb)
    return duration


class _Rows:
    """Per-pair columns of a block being filled, and its distinct states."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in (
            "pair_id", "round_index", "heralded_ns", "delivered_ns", "emitted_a_ns",
            "emitted_b_ns", "bell_index", "slot_a", "slot_b", "state_index", "fidelity")}
        self.states: list[np.ndarray] = []
        self._index: dict[bytes, int] = {}

    def state_row(self, state: np.ndarray) -> int:
        """Row of ``state`` in the table of distinct states (added if new)."""
        key = state.tobytes()
        row = self._index.get(key)
        if row is None:
            row = self._index[key] = len(self.states)
            self.states.append(state)
        return row

    def block(self, *, a: int, b: int, k: int, rounds: int, start_ns: float,
              end_ns: float) -> PairBlock:
        c = self.columns
        floats = {name: np.asarray(c[name], dtype=float) for name in (
            "heralded_ns", "delivered_ns", "emitted_a_ns", "emitted_b_ns", "fidelity")}
        ints = {name: np.asarray(c[name], dtype=np.int64) for name in (
            "pair_id", "round_index", "slot_a", "slot_b", "state_index")}
        states = np.array(self.states, dtype=complex).reshape(-1, 4, 4)
        return PairBlock(node_a=a, node_b=b, attempts_per_round=k, rounds=rounds,
                         start_ns=start_ns, end_ns=end_ns,
                         bell_index=np.asarray(c["bell_index"], dtype=np.int8),
                         states=states, **floats, **ints)


def consume_rounds(net: Any, a: int, b: int, *, k: int, rounds: int | None,
                   until_ns: float) -> Generator[Any, Any, PairBlock]:
    """A block played one round at a time through the components (any mode and scheme).

    The lane is already joined and held by the caller. A round is started while fewer than
    ``rounds`` were played and it ends by ``until_ns`` (its start, when the QPUs are ready,
    :meth:`protocols.generation_base._Base.ready_at_ns`, plus the budget's attempt period).
    Each heralded pair is waited for (its correction), both halves accessed (storage noise
    up to now), its state and fidelity read from the simulated qubits, and both slots
    freed, in herald order.
    """
    sim = net.sim
    gen = net.generation
    rows = _Rows()
    c = rows.columns
    period = net.budget(a, b).attempt_period_ns
    played = 0
    start = gen.ready_at_ns(a, b)
    while (rounds is None or played < rounds) and gen.ready_at_ns(a, b) + period <= until_ns:
        outcome = yield from gen.round(a, b, k)
        for pair in outcome.pairs:
            if pair.status == "pending":
                yield net.corrections.wait_ready(pair)
            qa = net.access(pair.node_a, pair.slot_a)
            qb = net.access(pair.node_b, pair.slot_b)
            c["pair_id"].append(pair.pair_id)
            c["round_index"].append(played)
            c["heralded_ns"].append(pair.heralded_ns)
            c["delivered_ns"].append(sim.now_ns)
            c["emitted_a_ns"].append(net.qpus[pair.node_a].comm.stored_at_ns(pair.slot_a))
            c["emitted_b_ns"].append(net.qpus[pair.node_b].comm.stored_at_ns(pair.slot_b))
            c["bell_index"].append(pair.bell_index)
            c["slot_a"].append(pair.slot_a)
            c["slot_b"].append(pair.slot_b)
            c["fidelity"].append(qops.pair_fidelity(qa, qb))
            c["state_index"].append(rows.state_row(
                np.array(qops.qb_module.reduced_dm([qa, qb]), dtype=complex)))
            pair.mark("served")
            net.free(pair.node_a, pair.slot_a)
            net.free(pair.node_b, pair.slot_b)
        played += 1
    return rows.block(a=a, b=b, k=k, rounds=played, start_ns=start, end_ns=sim.now_ns)
