"""The optional ``circuits`` extra: one message for every missing package it provides.

``pip install 'modenhub-net[circuits]'`` installs ``openqasm3[parser]`` (OpenQASM input),
``networkx`` (Kernighan-Lin partitioning), ``pymetis`` (METIS partitioning) and ``stim``
(stabilizer simulation beyond the density matrix).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from modenhub_net.errors import UserInputError

__all__ = ["CIRCUITS_EXTRA", "missing_extra_message", "require"]

#: the command that installs the optional packages of the distributed-circuit code
CIRCUITS_EXTRA = "pip install 'modenhub-net[circuits]'"


def missing_extra_message(package: str, feature: str) -> str:
    """The one-line error shown when ``package`` (needed for ``feature``) is not installed."""
    return f"{feature} needs the optional package {package}: {CIRCUITS_EXTRA}"


def require(module: str, *, package: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`UserInputError` with :func:`missing_extra_message`."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserInputError(missing_extra_message(package, feature)) from None
