"""The concurrent, message-driven protocol stack of the hub (layers talking by classical messages).

One module per job:

- :mod:`protocols.stack.messages` — message headers and the transport interface (who may send
  what to whom, over which classical channel);
- :mod:`protocols.stack.transport` — that transport over a hub network's classical fibres;
- :mod:`protocols.stack.resources` — the orchestrator's own map of the hub's resources
  (busy QPU ports, lanes, devices, communication qubits), with time-weighted busy counters;
- :mod:`protocols.stack.scheduler` — the replaceable scheduling layer (:class:`Scheduler`:
  ``fifo``, ``edf``, ``orchestrated``, ``adaptive``);
- :mod:`protocols.stack.orchestrator` — admission and scheduling (:class:`StackOrchestrator`),
  driven only by messages: it never reads a memory or a quantum state;
- :mod:`protocols.stack.link` — the hub's link layer (:class:`LinkLayer`): executes generation
  commands on the physical layer and sends heralds;
- :mod:`protocols.stack.application` — message-driven teleportation and teleported CNOT;
- :mod:`protocols.stack.agent` — the per-QPU agent (:class:`QpuAgent`): submits requests,
  receives heralds, runs the application layer.

The network layer assembles them (:func:`modenhub_net.network.stack_run.run_stack`).
"""

from protocols.stack.messages import Headers
from protocols.stack.orchestrator import ADMISSION_MODES, Job, StackOrchestrator
from protocols.stack.resources import ResourceMap
from protocols.stack.scheduler import (
    SCHEDULERS,
    AdaptiveScheduler,
    EdfScheduler,
    FifoScheduler,
    OrchestratedScheduler,
    Scheduler,
    make_scheduler,
)

__all__ = [
    "ADMISSION_MODES",
    "SCHEDULERS",
    "AdaptiveScheduler",
    "EdfScheduler",
    "FifoScheduler",
    "Headers",
    "Job",
    "OrchestratedScheduler",
    "ResourceMap",
    "Scheduler",
    "StackOrchestrator",
    "make_scheduler",
]
