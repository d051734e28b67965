"""Parameter sweeps: a grid of scenario points times seeds, mapped in parallel, resumable.

- :mod:`~modenhub_net.sweep.spec`: the sweep file model;
- :mod:`~modenhub_net.sweep.grid`: expansion and validation of every point (:func:`plan_sweep`);
- :mod:`~modenhub_net.sweep.runner`: :func:`run_sweep` (serial, local cluster or scheduler, on
  :func:`modenhub_net.parallel.open_executor`);
- :mod:`~modenhub_net.sweep.cli`: the ``modenhub sweep`` command;
- :mod:`~modenhub_net.sweep.testing`: picklable point functions for tests and benchmarks.

Results go to a :class:`modenhub_net.store.ResultStore`.
"""

from modenhub_net.sweep.grid import SweepPlan, SweepPoint, plan_sweep
from modenhub_net.sweep.runner import SweepReport, run_sweep
from modenhub_net.sweep.spec import SweepFile, derive_seeds

__all__ = ["SweepFile", "SweepPlan", "SweepPoint", "SweepReport", "derive_seeds", "plan_sweep",
           "run_sweep"]
