"""Physically detailed device models of the ModEn-Hub data plane, one module per device.

Every parameter model is a frozen :class:`~modenhub_net.config.ParamsModel` documenting unit,
default, valid range and the source of the default; every device is a kernel component with
ports. The package re-exports the public names (each module's ``__all__``) of:

- :mod:`~hardware_models.fibre`, :mod:`~hardware_models.spdc`, :mod:`~hardware_models.detector`,
  :mod:`~hardware_models.bsm`, :mod:`~hardware_models.memory` (memory and emitter),
  :mod:`~hardware_models.switch`, :mod:`~hardware_models.qpu`: the devices, their parameter
  models and their closed forms;
- :mod:`~hardware_models.link_budget`: the closed forms of whole links, the law the sampled
  link mode draws from -- :func:`pair_link_budget` (a QPU pair through the hub, any scheme),
  :func:`preset_link_budget` (the same from a preset), :func:`detection_in_hub_budget`,
  :func:`source_in_hub_budget`, :func:`hub_memory_swap_budget` with its legs
  (:func:`leg_budget`, :class:`LegBudget`) and the swapped state (:func:`swapped_state`,
  :func:`swap_bell_diagonal_fidelity`), the results :class:`LinkBudget` and
  :class:`AttemptTiming` (what an attempt period is made of), and :data:`LINK_SCHEMES`;
- :mod:`~hardware_models.presets`: the cited hardware parameter sets shipped as package data in
  ``hardware_models/preset_data/*.toml`` (:func:`load_preset`, :func:`available_presets`) and
  the table :data:`PRESET_FIELD_USAGE` of the component each preset field reaches.
"""

# Each device module's public names (its ``__all__``) are the package's: star imports keep this
# list in step with the modules' own.
from hardware_models import bsm, detector, fibre, link_budget, memory, presets, qpu, spdc, switch
from hardware_models.bsm import *  # noqa: F403
from hardware_models.detector import *  # noqa: F403
from hardware_models.fibre import *  # noqa: F403
from hardware_models.link_budget import *  # noqa: F403
from hardware_models.memory import *  # noqa: F403
from hardware_models.presets import *  # noqa: F403
from hardware_models.qpu import *  # noqa: F403
from hardware_models.spdc import *  # noqa: F403
from hardware_models.switch import *  # noqa: F403

__all__ = sorted(
    {name for module in (bsm, detector, fibre, link_budget, memory, presets, qpu, spdc, switch)
     for name in module.__all__},
    key=lambda name: (name.lower(), name),
)
