"""DataCollector: rows on protocol signals and on demand, stamped with the simulation time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from modenhub_net import Simulation, UserInputError
from modenhub_net.collector import CollectedEvent, DataCollector
from modenhub_net.protocol import Protocol, Signals

PERIOD_NS = 1_000.0


class Attempts(Protocol):
    """Heralded attempts: one every ``PERIOD_NS``, success with probability ``p``."""

    def __init__(self, sim: Simulation, *, p: float, count: int) -> None:
        super().__init__(sim, name="attempts")
        self.p, self.count = p, count

    def run(self):
        rng = self.sim.rng("attempts")
        for attempt in range(self.count):
            yield self.await_timer(PERIOD_NS)
            if rng.random() < self.p:
                self.send_signal(Signals.SUCCESS, attempt)
            else:
                self.send_signal(Signals.FAIL, attempt)
        return self.count


def test_herald_times_follow_the_geometric_law() -> None:
    """Heralds of Bernoulli(p) attempts: count ~ Binomial(n, p); gaps have mean PERIOD / p."""
    p, n = 0.2, 20_000
    sim = Simulation(seed=11)
    source = Attempts(sim, p=p, count=n)
    heralds = DataCollector(sim, lambda e: {"attempt": e.result}).collect_on(source)
    source.start()
    sim.run()
    frame = heralds.dataframe
    assert list(frame.columns) == ["time_ns", "source", "label", "attempt"]
    assert (frame.source == "attempts").all() and (frame.label == "success").all()
    # each row is stamped when its attempt ends: time = (attempt + 1) * period, exactly
    np.testing.assert_array_equal(frame.time_ns.to_numpy(), (frame.attempt.to_numpy() + 1) * PERIOD_NS)
    z_count = (len(frame) - n * p) / math.sqrt(n * p * (1 - p))
    assert abs(z_count) < 5
    gaps = np.diff(frame.time_ns.to_numpy()) / PERIOD_NS  # geometric(p): mean 1/p, var (1-p)/p^2
    z_gap = (gaps.mean() - 1 / p) / (math.sqrt(1 - p) / p / math.sqrt(len(gaps)))
    assert abs(z_gap) < 5


def test_every_label_and_same_instant_signals() -> None:
    sim = Simulation(seed=0)

    class Burst(Protocol):
        def run(self):
            yield self.await_timer(5.0)
            self.send_signal("a", 1)
            self.send_signal("a", 2)  # same instant, same label: both collected
            self.send_signal("b", 3)

    burst = Burst(sim, name="burst")
    every = DataCollector(sim, lambda e: {"value": e.result}).collect_on(burst, label=None)
    only_a = DataCollector(sim, lambda e: {"value": e.result}).collect_on(burst, label="a")
    burst.start()
    sim.run()
    assert every.rows == [
        {"time_ns": 5.0, "source": "burst", "label": "a", "value": 1},
        {"time_ns": 5.0, "source": "burst", "label": "a", "value": 2},
        {"time_ns": 5.0, "source": "burst", "label": "b", "value": 3},
        {"time_ns": 5.0, "source": "burst", "label": "finished", "value": None},
    ]
    assert only_a.dataframe.value.tolist() == [1, 2]
    assert every.dataframe.value.isna().tolist() == [False, False, False, True]


def test_on_demand_rows_none_skips_stop_and_reset() -> None:
    sim = Simulation(seed=0)
    seen: list[CollectedEvent] = []

    def odd_only(event: CollectedEvent):
        seen.append(event)
        return {"x": event.result} if event.result % 2 else None

    dc = DataCollector(sim, odd_only, include_source=False)

    def driver():
        for i in range(4):
            yield sim.timeout(2.0)
            dc.collect(i)

    sim.process(driver())
    sim.run()
    assert dc.dataframe.to_dict("records") == [{"time_ns": 4.0, "x": 1}, {"time_ns": 8.0, "x": 3}]
    assert len(seen) == 4 and seen[0].source is None and seen[0].label is None

    source = Attempts(sim, p=1.0, count=3)
    dc.collect_on(source, label=Signals.SUCCESS)
    dc.stop()  # no longer listening: the run adds nothing
    source.start()
    sim.run()
    assert len(dc) == 2
    dc.reset()
    assert dc.dataframe.empty and list(dc.dataframe.columns) == ["time_ns"]


def test_bad_use_names_the_problem() -> None:
    sim = Simulation(seed=0)
    with pytest.raises(UserInputError, match="get_data = 3 must be a function"):
        DataCollector(sim, 3)  # type: ignore[arg-type]
    dc = DataCollector(sim, lambda e: {"time_ns": 1.0})
    with pytest.raises(UserInputError, match="'time_ns' is reserved"):
        dc.collect()
    with pytest.raises(UserInputError, match="protocol = 'p' must be"):
        dc.collect_on("p")  # type: ignore[arg-type]
    with pytest.raises(UserInputError, match="label = 1 must be"):
        dc.collect_on(Protocol(sim, name="q"), label=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="returned list"):
        DataCollector(sim, lambda e: [1]).collect()  # type: ignore[arg-type, return-value]


def test_listener_removal_is_idempotent_and_waits_still_work() -> None:
    """The listener hook leaves await_signal unchanged; removing twice is harmless."""
    sim = Simulation(seed=0)
    source = Attempts(sim, p=1.0, count=2)
    calls: list[tuple[str, object]] = []
    remove = source.add_signal_listener(Signals.SUCCESS, lambda proto, label, r: calls.append((label, r)))

    class Waiter(Protocol):
        def run(self):
            value = yield self.await_signal(source, Signals.SUCCESS)
            return value

    waiter = Waiter(sim, name="waiter").start()
    source.start()
    sim.run(until_ns=1_500.0)
    remove()
    remove()
    sim.run()
    assert calls == [("success", 0)]
    assert waiter.get_signal_result(Signals.FINISHED) == 0
    assert isinstance(DataCollector(sim, lambda e: {}).dataframe, pd.DataFrame)


def test_readme_collector_example_states_what_it_prints(capsys) -> None:
    """The README's two-node-link example: it prints what the README says, and its measured
    per-attempt success agrees with the closed form eta_A eta_B / 2 within 5 binomial SE."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S)
                if "DataCollector" in b]
    exec(compile(block, "README.md[collector]", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.strip()
    assert f"# {printed}" in block
    pairs, attempts, p_hat, p = re.search(
        r"(\d+) pairs in (\d+) attempts: p = ([0-9.]+) \(closed form eta_A eta_B / 2 = ([0-9.]+)\)",
        printed).groups()
    assert abs(int(pairs) / int(attempts) - float(p_hat)) < 5e-4
    se = math.sqrt(float(p) * (1 - float(p)) / int(attempts))
    assert abs(int(pairs) / int(attempts) - float(p)) < 5 * se
