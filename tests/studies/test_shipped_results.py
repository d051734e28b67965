"""The shipped results of the studies: every figure as PDF and PNG, reports that name them."""

from __future__ import annotations

from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[2] / "results"

#: study folders whose figures are drawn in the shared style
FOLDERS = ("hardware_scenarios", "cache_decoherence", "peff_validation")


@pytest.mark.parametrize("name", FOLDERS)
def test_every_figure_in_both_formats_and_in_the_report(name: str) -> None:
    folder = RESULTS / name
    pngs = {p.stem for p in folder.glob("*.png")}
    pdfs = {p.stem for p in folder.glob("*.pdf")}
    assert pngs and pngs == pdfs
    for stem in pngs:
        png = (folder / f"{stem}.png").read_bytes()
        # at least 200 dpi at a single-column width of 3.4 in
        assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") >= 680
        assert (folder / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
    report = (folder / "REPORT.md").read_text(encoding="utf-8")
    assert all(f"({stem}.png)" in report for stem in pngs)
    assert "What changed since version" in report
