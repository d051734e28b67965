"""Per-request records of the hub (re-exported from :mod:`protocols.records`, where the
orchestrator that writes them lives; dependencies point from the network to the protocols)."""

from protocols.records import (
    RECORD_COLUMNS,
    SUMMARY_COLUMNS,
    RequestRecord,
    records_frame,
    summarise_records,
)

__all__ = ["RequestRecord", "RECORD_COLUMNS", "records_frame", "summarise_records", "SUMMARY_COLUMNS"]
