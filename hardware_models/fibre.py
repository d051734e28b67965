"""Optical fibre: transmission, delay and optional depolarisation of photonic qubits.

Physics (DESIGN.md §3)
----------------------
* Transmission of a span of length ``L`` (km) with attenuation ``alpha`` (dB/km) and a fixed
  insertion loss ``loss_db`` (connectors, splices):
  ``eta = 10 ** (-(alpha * L + loss_db) / 10)`` (Agrawal, *Fiber-Optic Communication Systems*,
  4th ed., §2.5; ITU-T G.652 gives ~0.2 dB/km at 1550 nm).
* Delay ``L / v`` with ``v`` ~ 200,000 km/s in silica (group index ~1.47, Agrawal §2.1).
* Optional depolarisation of a surviving photonic qubit:
  ``p = 1 - exp(-depolar_rate_per_km * L)``; the qubit is replaced by the maximally mixed
  state with probability ``p`` (the length-based depolarising model of NetSquid's
  ``FibreDepolarizeModel``, Coopmans et al., Commun. Phys. 4, 164 (2021)).

Loss removes the photon: a lost qubit is traced out (:func:`modenhub_net.qubits.lose`) and
the message carries ``None`` in its place. Photons sent in *presence* encoding
(``message.meta["encoding"] == "presence"``: ``|0>`` = no photon, ``|1>`` = one photon, as used
by single-click heralding) are instead amplitude damped with ``gamma = 1 - eta``, which is the
exact action of a beam-splitter loss on a photon-number qubit (Nielsen & Chuang §8.3.5).
The depolarisation is *not* applied to them: it models drift of the photon's polarisation
(or time-bin) qubit, a degree of freedom that carries no information in photon-number
encoding and cannot change the photon number. Depolarising the ``{|0>, |1>}`` qubit instead
would create a photon from the vacuum with probability ``p/2`` (false heralds). In the
single-click scheme (Cabrillo et al., PRA 59, 1025 (1999)) a polarisation mismatch of the two
photons only lowers their interference visibility, which is the BSM's ``visibility`` parameter
(:class:`hardware_models.bsm.BsmParams`); the link budget
(:func:`hardware_models.link_budget.detection_in_hub_budget`) treats it the same way.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import Field

from hardware_models.draws import UniformBlocks, device_uniforms
from modenhub_net.components import ClassicalChannel, Message, QuantumChannel
from modenhub_net.components.models import LengthDelayModel
from modenhub_net.config import ParamsModel
from modenhub_net.errors import check_range
from modenhub_net.simulation import Simulation

__all__ = [
    "ClassicalFibre",
    "DepolarNoiseModel",
    "Fibre",
    "FibreParams",
    "TransmissionLossModel",
    "fibre_delay_ns",
    "fibre_depolar_probability",
    "fibre_transmission",
]


class FibreParams(ParamsModel):
    """Parameters of one fibre span.

    Parameters
    ----------
    length_km : float
        Length in km, >= 0. Default 0 (a hardware preset leaves it 0; the hub scenario
        sets per-QPU lengths).
    attenuation_db_per_km : float
        Attenuation in dB/km, in [0, 10]. Default 0.2 dB/km: standard single-mode fibre at
        1550 nm (ITU-T G.652; Agrawal, *Fiber-Optic Communication Systems*, §2.5).
    loss_db : float
        Fixed insertion loss in dB (connectors, splices), in [0, 100]. Default 0.
    speed_km_per_s : float
        Signal (group) speed in km/s, in (0, 299792.458]. Default 200,000 km/s: silica,
        group index ~1.47 (Agrawal §2.1).
    depolar_rate_per_km : float
        Depolarising rate in 1/km, >= 0; a surviving photonic (polarisation/time-bin) qubit
        is depolarised with ``p = 1 - exp(-rate * length_km)``; a photon-number
        ("presence") qubit of single-click heralding is not (module notes). Default 0
        (polarisation/time-bin drift actively compensated). Model: NetSquid
        ``FibreDepolarizeModel`` (Coopmans et al., Commun. Phys. 4, 164 (2021)).
    """

    length_km: float = Field(0.0, ge=0.0, le=1.0e5)
    attenuation_db_per_km: float = Field(0.2, ge=0.0, le=10.0)
    loss_db: float = Field(0.0, ge=0.0, le=100.0)
    speed_km_per_s: float = Field(200_000.0, gt=0.0, le=299_792.458)
    depolar_rate_per_km: float = Field(0.0, ge=0.0)


def fibre_transmission(params: FibreParams) -> float:
    """Transmission ``eta = 10 ** (-(alpha * L + loss_db) / 10)``, in [0, 1].

    Source: Agrawal, *Fiber-Optic Communication Systems*, §2.5 (attenuation in dB).

    Examples
    --------
    >>> round(fibre_transmission(FibreParams(length_km=50.0)), 6)
    0.1
    """
    return 10.0 ** (-(params.attenuation_db_per_km * params.length_km + params.loss_db) / 10.0)


def fibre_delay_ns(params: FibreParams) -> float:
    """Propagation delay ``L / v`` in ns.

    Examples
    --------
    >>> fibre_delay_ns(FibreParams(length_km=10.0))
    50000.0
    """
    return params.length_km / params.speed_km_per_s * 1e9


def fibre_depolar_probability(params: FibreParams) -> float:
    """Depolarising probability ``p = 1 - exp(-depolar_rate_per_km * L)`` of a surviving photon."""
    return -math.expm1(-params.depolar_rate_per_km * params.length_km)


class TransmissionLossModel:
    """Each item survives independently with probability ``transmission``.

    Parameters
    ----------
    transmission : float
        Survival probability in [0, 1].
    """

    __slots__ = ("transmission",)

    def __init__(self, transmission: float) -> None:
        self.transmission = check_range("transmission", transmission, low=0.0, high=1.0)

    def survives(self, *, rng: np.random.Generator, item: Any) -> bool:
        return self.transmission >= 1.0 or rng.random() < self.transmission


class DepolarNoiseModel:
    """Depolarise each surviving qubit with a fixed probability ``p`` (``rho -> (1-p) rho + p I/2``).

    Parameters
    ----------
    probability : float
        Depolarising probability in [0, 1] (see :func:`fibre_depolar_probability`).
    """

    __slots__ = ("probability",)

    def __init__(self, probability: float) -> None:
        self.probability = check_range("probability", probability, low=0.0, high=1.0)

    def apply(self, qubit: Any, *, elapsed_ns: float, rng: np.random.Generator) -> None:
        if self.probability > 0.0:
            from modenhub_net.qubits import depolarise

            depolarise(qubit, self.probability)


@lru_cache(maxsize=256)
def _cached_link(params: FibreParams) -> tuple[float, float, float]:
    return fibre_transmission(params), fibre_delay_ns(params), fibre_depolar_probability(params)


class Fibre(QuantumChannel):
    """A one-way quantum fibre with ports ``send`` and ``recv``.

    Each photon (qubit item of a message) survives with ``fibre_transmission(params)``; a lost
    photon is traced out and replaced by ``None``; survivors arrive after
    ``fibre_delay_ns(params)`` and are depolarised with ``fibre_depolar_probability(params)``.
    Messages with ``meta["encoding"] == "presence"`` carry photon-number qubits: their
    qubits are amplitude damped with ``gamma = 1 - eta`` instead of being removed.

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : FibreParams
        Fibre parameters.
    extra_transmission : float, optional
        Additional transmission in [0, 1] multiplied into ``eta`` (e.g. a switch pass or an
        emitter's coupling), default 1.

    Notes
    -----
    Counters (read-only properties, also :meth:`counters`): :attr:`n_sent`, :attr:`n_lost`,
    :attr:`n_delivered`, :attr:`n_presence_modes`.

    Examples
    --------
    >>> from modenhub_net.simulation import Simulation
    >>> fibre = Fibre("f", sim=Simulation(seed=1), params=FibreParams(length_km=20.0))
    >>> round(fibre.transmission, 4), fibre.delay_ns
    (0.3981, 100000.0)
    """

    def __init__(
        self,
        name: str,
        *,
        sim: Simulation,
        params: FibreParams,
        extra_transmission: float = 1.0,
    ) -> None:
        eta, delay, p_dep = _cached_link(params)
        eta *= check_range("extra_transmission", extra_transmission, low=0.0, high=1.0)
        super().__init__(
            name,
            sim=sim,
            delay_model=LengthDelayModel(params.length_km, speed_km_per_s=params.speed_km_per_s),
            loss_model=TransmissionLossModel(eta),
            noise_model=DepolarNoiseModel(p_dep) if p_dep > 0.0 else None,
        )
        self.params = params
        self.transmission = eta
        self._blocks: UniformBlocks | None = None  # transmit_list's draws (made on first use)
        self.delay_ns = delay
        self._n_sent = 0
        self._n_modes = 0

    # -- counters (read-only) ---------------------------------------------------------
    @property
    def n_sent(self) -> int:
        """Photons (non-``None`` items) that entered ``send``, presence-encoded modes included."""
        return self._n_sent

    @property
    def n_lost(self) -> int:
        """Photons removed by the fibre's loss (sampled per photon)."""
        return self.qubits_lost

    @property
    def n_delivered(self) -> int:
        """Photons that survived and leave ``recv`` after the delay (``n_sent - n_lost``).

        A presence-encoded photon-number mode (single click) always travels on: its loss is
        the coherent amplitude damping of its ``|1>`` amplitude, so it counts as delivered.
        """
        return self._n_sent - self.qubits_lost

    @property
    def n_presence_modes(self) -> int:
        """Presence-encoded photon-number modes among :attr:`n_sent` (damped, never dropped)."""
        return self._n_modes

    def counters(self) -> dict[str, int]:
        """All counters of this fibre as a plain dict (names as the properties)."""
        return {
            "n_sent": self.n_sent,
            "n_lost": self.n_lost,
            "n_delivered": self.n_delivered,
            "n_presence_modes": self._n_modes,
        }

    def count(self, *, sent: int = 0, lost: int = 0, presence_modes: int = 0) -> None:
        """Add to the counters in bulk (photons handled outside a message, e.g. by
        :meth:`transmit_batch`); ``presence_modes`` counts the presence-encoded modes among
        ``sent``. Every value is an int >= 0."""
        self._n_sent += sent
        self.qubits_lost += lost
        self._n_modes += presence_modes

    def transmit_batch(self, present: np.ndarray, *, rng: np.random.Generator | None = None) -> np.ndarray:
        """Photons entering the fibre, one per entry of ``present`` (False: no photon), as one
        array step: each survives with :attr:`transmission` (the same law as a message
        through the fibre, :class:`Fibre`); the counters are updated.

        Only for a noise-free fibre (``fibre_depolar_probability == 0``): a depolarised photon
        needs its qubit (send a message instead).

        Parameters
        ----------
        present : numpy.ndarray of bool
            Photons at the input.
        rng : numpy.random.Generator, optional
            Stream of the loss draws; default the fibre's own.

        Returns
        -------
        numpy.ndarray of bool
            Photons at the output.
        """
        if self.noise_model is not None:
            raise ValueError(f"{self.full_name}: transmit_batch needs a noise-free fibre")
        present = np.asarray(present, dtype=bool)
        n_in = int(present.sum())
        self._n_sent += n_in
        if n_in == 0 or self.transmission >= 1.0:
            return present
        rng = self.rng if rng is None else rng
        out = present & (rng.random(present.shape[0]) < self.transmission)
        self.qubits_lost += n_in - int(out.sum())
        return out

    def transmit_list(self, present: list[bool], *, rng: np.random.Generator | None = None) -> list[bool]:
        """:meth:`transmit_batch` on plain lists (the same law and counters).

        For a round of a few attempts, where numpy's per-call cost would dominate: the loss
        draws come from the fibre's own stream in blocks (:class:`hardware_models.draws.UniformBlocks`),
        or, with ``rng``, from one ``rng.random(len(present))`` call.
        """
        if self.noise_model is not None:
            raise ValueError(f"{self.full_name}: transmit_list needs a noise-free fibre")
        n_in = sum(present)
        self._n_sent += n_in
        eta = self.transmission
        if n_in == 0 or eta >= 1.0:
            return list(present)
        u = device_uniforms(self, len(present), rng)
        out = [p and x < eta for p, x in zip(present, u, strict=True)]
        self.qubits_lost += n_in - sum(out)
        return out

    def damp_presence(self, qubit: Any, *, count: bool = False) -> None:
        """The fibre's effect on one photon-number ("presence") qubit: amplitude damping with
        ``gamma = 1 - eta`` (a beam splitter to the environment, Nielsen & Chuang §8.3.5);
        the fibre's polarisation depolarisation does not act on a photon-number qubit (module
        notes). With ``count`` the mode is counted as sent (and as a presence mode)."""
        from modenhub_net.qubits import amplitude_damp

        amplitude_damp(qubit, 1.0 - self.transmission)
        if count:
            self._n_sent += 1
            self._n_modes += 1

    def _transmit(self, message: Message, delay_ns: float) -> Message | None:
        n_in = sum(1 for q in message.items if q is not None)
        self._n_sent += n_in
        if message.meta.get("encoding") != "presence":
            return super()._transmit(message, delay_ns)
        from modenhub_net.qubits import amplitude_damp

        self._n_modes += n_in

        gamma = 1.0 - self.transmission
        for qubit in message.items:  # loss only: polarisation noise leaves photon number alone
            if qubit is not None:
                amplitude_damp(qubit, gamma)
        return Message(tuple(message.items), dict(message.meta))


class ClassicalFibre(ClassicalChannel):
    """A one-way classical channel over fibre: latency ``L / v + processing_ns``, no loss.

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : FibreParams
        Fibre parameters (only ``length_km`` and ``speed_km_per_s`` are used).
    processing_ns : float, optional
        Fixed processing/serialisation time in ns, >= 0, default 0.
    """

    def __init__(
        self, name: str, *, sim: Simulation, params: FibreParams, processing_ns: float = 0.0
    ) -> None:
        model = LengthDelayModel(
            params.length_km, speed_km_per_s=params.speed_km_per_s, processing_ns=processing_ns
        )
        super().__init__(name, sim=sim, delay_model=model)
        self.params = params
        self.latency_ns = model.delay
