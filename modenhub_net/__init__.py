"""modenhub-net: a quantum-network simulator for the Modular Entanglement Hub.

NetSquid-style physics on SimPy and numpy: time in nanoseconds, lengths in km,
components with ports, generator-style protocols, memory noise applied at access time.
"""

from modenhub_net.errors import UserInputError
from modenhub_net.simulation import Simulation, stream_seed_sequence

__all__ = ["Simulation", "UserInputError", "stream_seed_sequence", "__version__"]

__version__ = "0.7.0"
