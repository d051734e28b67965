"""``REPORT.md`` from Jinja2 templates: the prose of a study lives in a template, not in code.

A study's template is ``modenhub_net/reporting/templates/<name>.md.j2``; the study's report
module (or its compute module) gathers the numbers into a context and calls
:func:`render_report`::

    text = render_report("hardware_scenarios", scenario=scenario, table=table, ...)

Templates see these filters besides Jinja2's own:

``fmt(value, spec=".4g")``
    A number formatted with a Python format spec; NaN/None -> ``"n/a"``.
``pct(value, digits=1)``
    ``0.123`` -> ``"12.3 %"``.
``table(frame, floatfmt=".4g")``
    A pandas DataFrame as a Markdown table (:func:`markdown_table`).

Undefined names raise (``StrictUndefined``), so a template cannot silently print an empty
value. Jinja2 is a declared runtime dependency (``pyproject.toml``; ``distributed`` needs it
too); it is imported only when a report is rendered. The templates ship inside the package
(``[tool.setuptools.package-data]``), so a study renders its report from an installed wheel.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

from modenhub_net.errors import UserInputError

__all__ = ["TEMPLATE_DIR", "available_templates", "markdown_table", "render_report"]

#: folder holding the ``*.md.j2`` templates
TEMPLATE_DIR = Path(__file__).with_name("templates")


def _fmt(value: Any, spec: str = ".4g") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{100.0 * float(value):.{digits}f} %"


def markdown_table(frame: Any, *, floatfmt: str = ".4g", index: bool = False) -> str:
    """A pandas DataFrame as a GitHub-flavoured Markdown table (floats with ``floatfmt``).

    Examples
    --------
    >>> import pandas as pd
    >>> print(markdown_table(pd.DataFrame({"n": [2], "p": [0.123456]})))
    | n | p |
    |---|---|
    | 2 | 0.1235 |
    """
    if index:
        frame = frame.reset_index()
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [_fmt(v, floatfmt) if isinstance(v, float) else str(v).replace("|", "\\|")
                 for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    env.filters["pct"] = _pct
    env.filters["table"] = lambda frame, floatfmt=".4g": markdown_table(frame, floatfmt=floatfmt)
    return env


def available_templates() -> list[str]:
    """Names of the shipped report templates (without ``.md.j2``)."""
    return sorted(p.name[: -len(".md.j2")] for p in TEMPLATE_DIR.glob("*.md.j2"))


def render_report(name: str, /, **context: Any) -> str:
    """Render ``templates/<name>.md.j2`` with ``context``.

    Parameters
    ----------
    name : str
        Template name, e.g. ``"hardware_scenarios"``.
    **context
        Values the template uses (DataFrames, the validated scenario, figures, notes).

    Returns
    -------
    str
        The Markdown text, ending in one newline.

    Raises
    ------
    UserInputError
        If there is no such template (the message lists the available ones).
    """
    if name not in available_templates():
        raise UserInputError(f"report template {name!r} does not exist (available: "
                             f"{', '.join(available_templates())})")
    text = _environment().get_template(f"{name}.md.j2").render(**context)
    return text.rstrip("\n") + "\n"
