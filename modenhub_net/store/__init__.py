"""Resumable result store of parameter sweeps: one atomically written file per finished point.

See :class:`ResultStore` (layout, atomicity, resume) and :func:`load_summary` (the table of a
store in one call).
"""

from modenhub_net.store.keys import canonical_json, point_key, source_digest
from modenhub_net.store.result_store import (
    PointRecord,
    ResultStore,
    UnverifiedPointsWarning,
    content_checksum,
    load_summary,
)

__all__ = ["PointRecord", "ResultStore", "UnverifiedPointsWarning", "canonical_json",
           "content_checksum", "load_summary", "point_key", "source_digest"]
