"""Presentation shared by every study: one figure style and the report templates.

- :mod:`modenhub_net.reporting.style` -- the matplotlib style (column widths, >= 7-pt text,
  mathtext labels and units, a colour-blind-safe palette with markers, sequential colour maps
  for non-negative data), :func:`~modenhub_net.reporting.style.save_figure` (PDF + PNG,
  atomically), explicit "no data" markers, legends outside the data, shared histogram bins and
  confidence-interval error bars.
- :mod:`modenhub_net.reporting.report` -- ``REPORT.md`` templates (Jinja2, in
  ``reporting/templates/*.md.j2``), :func:`~modenhub_net.reporting.report.render_report` and
  :func:`~modenhub_net.reporting.report.markdown_table`.

Compute modules never import matplotlib; plotting modules import this package. Importing it
does not import matplotlib or Jinja2 (they load on first use).
"""

from __future__ import annotations

__all__ = ["render_report", "save_figure"]


def __getattr__(name: str):  # lazy: keep ``import modenhub_net.reporting`` cheap
    if name == "save_figure":
        from modenhub_net.reporting.style import save_figure

        return save_figure
    if name == "render_report":
        from modenhub_net.reporting.report import render_report

        return render_report
    raise AttributeError(name)
