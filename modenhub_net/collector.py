"""Collect rows of data from your own protocols into a ``pandas.DataFrame``.

A :class:`DataCollector` is the counterpart of NetSquid's ``DataCollector`` for this kernel:
give it a function that turns an event into a row (a dict), tell it *when* to collect, and
read :attr:`DataCollector.dataframe` after (or during) the run. Each row gets the simulation
time ``time_ns`` and, if any, the ``source`` (the protocol's name) and ``label`` (the signal).

When to collect:

- :meth:`DataCollector.collect_on` a protocol's named signal (``Signals.SUCCESS`` by default,
  or any label, or every label with ``label=None``): the collector listens through
  :meth:`modenhub_net.protocol.Protocol.add_signal_listener`, so two signals at the same
  instant give two rows and the protocol needs no change;
- :meth:`DataCollector.collect` called by your own code (a port's input handler, a
  component's callback, a protocol's loop): the collector's function is called on what you
  pass it.

Nothing is global: a collector belongs to one :class:`~modenhub_net.simulation.Simulation`.
See ARCHITECTURE.md §1 and the README ("Collecting your own data").

Examples
--------
>>> from modenhub_net import Simulation
>>> from modenhub_net.protocol import Protocol, Signals
>>> sim = Simulation(seed=0)
>>> class Ticker(Protocol):
...     def run(self):
...         for i in range(3):
...             yield self.await_timer(10.0)
...             self.send_signal(Signals.SUCCESS, i)
>>> ticker = Ticker(sim, name="ticker")
>>> dc = DataCollector(sim, lambda event: {"tick": event.result})
>>> _ = dc.collect_on(ticker)
>>> _ = ticker.start()
>>> sim.run()
>>> dc.dataframe
   time_ns  source    label  tick
0     10.0  ticker  success     0
1     20.0  ticker  success     1
2     30.0  ticker  success     2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modenhub_net.errors import UserInputError
from modenhub_net.protocol import Protocol, Signals

if TYPE_CHECKING:
    import pandas as pd

    from modenhub_net.simulation import Simulation

__all__ = ["CollectedEvent", "DataCollector"]

#: columns every row starts with (a row of the function may not use these names)
RESERVED = ("time_ns", "source", "label")


@dataclass(frozen=True)
class CollectedEvent:
    """What the collector's function receives.

    Attributes
    ----------
    time_ns : float
        Simulation time of the event, ns.
    source : Protocol or None
        The protocol that sent the signal (None for :meth:`DataCollector.collect` without one).
    label : str or None
        The signal label (None for :meth:`DataCollector.collect` without one).
    result : object
        The signal's result, or the value passed to :meth:`DataCollector.collect`.
    """

    time_ns: float
    source: Protocol | None
    label: str | None
    result: Any


class DataCollector:
    """Rows of data collected on protocol signals or on demand, as a DataFrame.

    Parameters
    ----------
    sim : Simulation
        The simulation whose clock stamps the rows.
    get_data : callable
        ``get_data(event: CollectedEvent) -> dict | None``: the row to add (column name ->
        value), or None to add nothing for this event. It may not use the column names
        ``time_ns``, ``source``, ``label``.
    include_source : bool, optional
        Add the ``source`` and ``label`` columns (default True); ``time_ns`` is always there.

    Raises
    ------
    UserInputError
        If ``get_data`` is not callable.
    """

    def __init__(self, sim: Simulation, get_data: Callable[[CollectedEvent], Mapping[str, Any] | None],
                 *, include_source: bool = True) -> None:
        if not callable(get_data):
            raise UserInputError(f"get_data = {get_data!r} must be a function of one "
                                 "CollectedEvent returning a dict (or None)")
        self.sim = sim
        self.get_data = get_data
        self.include_source = bool(include_source)
        self._rows: list[dict[str, Any]] = []
        self._removers: list[Callable[[], None]] = []

    # -- when to collect ----------------------------------------------------------------
    def collect_on(self, protocol: Protocol, label: str | None = Signals.SUCCESS) -> DataCollector:
        """Collect a row every time ``protocol`` sends ``label`` (None: every label).

        Returns the collector, so calls chain.

        Raises
        ------
        UserInputError
            If ``protocol`` is not a :class:`~modenhub_net.protocol.Protocol` or ``label`` is
            neither a string nor None.
        """
        if not isinstance(protocol, Protocol):
            raise UserInputError(f"protocol = {protocol!r} must be a modenhub_net.protocol.Protocol")
        if label is not None and not isinstance(label, str):
            raise UserInputError(f"label = {label!r} must be a signal label (str) or None "
                                 "(every label)")
        self._removers.append(protocol.add_signal_listener(label, self._on_signal))
        return self

    def collect(self, result: Any = None, *, source: Protocol | None = None,
                label: str | None = None) -> dict[str, Any] | None:
        """Collect one row now, from ``result`` (your own trigger).

        Returns the row added (None if the function returned None).
        """
        return self._add(CollectedEvent(self.sim.now_ns, source, label, result))

    def stop(self) -> None:
        """Stop listening to every signal given to :meth:`collect_on` (rows are kept)."""
        removers, self._removers = self._removers, []
        for remove in removers:
            remove()

    def reset(self) -> None:
        """Forget the rows collected so far (the subscriptions stay)."""
        self._rows.clear()

    # -- results ------------------------------------------------------------------------
    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows collected so far (a copy)."""
        return [dict(row) for row in self._rows]

    @property
    def dataframe(self) -> pd.DataFrame:
        """The rows as a DataFrame: ``time_ns`` (ns), ``source``, ``label``, then the
        function's columns in order of first appearance (missing values are NaN/None)."""
        import pandas as pd

        base = ["time_ns", "source", "label"] if self.include_source else ["time_ns"]
        columns = list(base)
        for row in self._rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        return pd.DataFrame(self._rows, columns=columns)

    def __len__(self) -> int:
        return len(self._rows)

    # -- internals ----------------------------------------------------------------------
    def _on_signal(self, protocol: Protocol, label: str, result: Any) -> None:
        self._add(CollectedEvent(self.sim.now_ns, protocol, label, result))

    def _add(self, event: CollectedEvent) -> dict[str, Any] | None:
        data = self.get_data(event)
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise TypeError(f"{getattr(self.get_data, '__name__', self.get_data)!r} returned "
                            f"{type(data).__name__}, not a dict (or None)")
        clash = [key for key in data if key in RESERVED]
        if clash:
            raise UserInputError(f"collected column {clash[0]!r} is reserved (the collector "
                                 f"adds {', '.join(RESERVED)}); rename it")
        row: dict[str, Any] = {"time_ns": event.time_ns}
        if self.include_source:
            row["source"] = None if event.source is None else event.source.name
            row["label"] = event.label
        row.update(data)
        self._rows.append(row)
        return row
