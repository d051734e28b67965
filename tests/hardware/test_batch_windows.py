"""The detection windows of :meth:`hardware_models.BsmStation.process_batch`.

``process_batch`` resolves each station's windows in one of two ways: a single pass when no
dark count can occur and no dead time applies (the counts are the registered photons; for
double click the whole batch is one pass, ``_double_click_without_dark_counts``), and the
general per-detector path otherwise (dark counts, number resolution, dead time). Checked
here: both paths give identical outcomes and counters when the dead time cannot bite, and
with a dead time a detector never clicks twice within it (the blind windows are counted).
"""

from __future__ import annotations

import numpy as np
import pytest

from hardware_models import BsmParams, BsmStation, DetectorParams, MemoryParams, QuantumMemory
from modenhub_net.simulation import Simulation

N_STATIONS = 40


def _run(*, dead_time_ns: float, apply_dead_time: bool, times_ns: list[float], dark_hz: float = 0.0,
         seed: int = 11, number_resolving: bool = False):
    det = DetectorParams(efficiency=0.8, dark_count_rate_hz=dark_hz, window_ns=20.0,
                         dead_time_ns=dead_time_ns, number_resolving=number_resolving)
    bsm = BsmParams(scheme="double_click", visibility=0.9, detector=det)
    sim = Simulation(seed=seed)
    stations = [BsmStation(f"bsm{j}", sim=sim, params=bsm, detector_dead_time=apply_dead_time)
                for j in range(N_STATIONS)]
    qubits = []
    for i in (0, 1):
        memory = QuantumMemory(f"m{i}", sim=sim, n_slots=1, params=MemoryParams())
        qubits += list(memory.emit(0))
    instrument = stations[0].instrument(*qubits)
    rng = sim.rng("draws")
    labels = []
    present = np.ones(N_STATIONS, dtype=bool)
    for t in times_ns:
        out = BsmStation.process_batch(stations, present, present, instrument=instrument, rng=rng,
                                       now_ns=t)
        labels.append(list(out.labels))
    counters = [[(d.n_windows, d.n_clicks, d.n_dark_clicks, d.n_dead_time_misses, d.n_photons_in,
                  d.n_photons_registered) for d in st.detectors.values()] for st in stations]
    return labels, counters


@pytest.mark.parametrize("number_resolving", [False, True])
def test_general_path_equals_the_single_pass_when_the_dead_time_cannot_bite(number_resolving) -> None:
    # windows 1 us apart, dead time 1 ns: the general path runs (dead time applied) but no
    # window is blind; no dark counts, so both paths draw the same numbers
    times = [0.0, 1_000.0, 2_000.0, 3_000.0]
    fast = _run(dead_time_ns=1.0, apply_dead_time=False, times_ns=times,
                number_resolving=number_resolving)
    general = _run(dead_time_ns=1.0, apply_dead_time=True, times_ns=times,
                   number_resolving=number_resolving)
    assert fast == general
    labels, counters = fast
    assert any(label != -1 for row in labels for label in row)  # some heralds
    assert all(c[3] == 0 for st in counters for c in st)


def test_a_detector_is_blind_within_its_dead_time() -> None:
    # both photons at every station in every window; windows at 0 and 10 ns fall within one
    # dead time (50 ns), the window at 200 ns does not
    labels, counters = _run(dead_time_ns=50.0, apply_dead_time=True, times_ns=[0.0, 10.0, 200.0],
                            dark_hz=2.0e6)
    dead = 0
    for station in counters:
        for windows, clicks, dark, misses, _photons, _registered in station:
            assert windows == 3
            assert clicks <= 2  # at most one click in the first two windows
            assert dark <= clicks
            dead += misses
    assert dead > 0
    # without the dead time the same draws give more clicks
    _, free = _run(dead_time_ns=50.0, apply_dead_time=False, times_ns=[0.0, 10.0, 200.0],
                   dark_hz=2.0e6)
    clicks_dead = sum(c[1] for st in counters for c in st)
    clicks_free = sum(c[1] for st in free for c in st)
    assert clicks_free == clicks_dead + dead
