"""The one ``run_scenario`` skeleton behind every scenario kind.

A new study kind is **a short compute module plus a template**::

    # modenhub_net/studies/my_study.py
    from modenhub_net.studies.skeleton import Progress, Study, StudyOutput

    class MyScenario(StrictModel):             # validated, frozen, rejects unknown keys
        kind: Literal["my_study"]
        name: str
        seed: int
        ...

    def load_scenario(document, *, source, seed=None, trials=None) -> MyScenario:
        ...                                    # apply --seed / --trials, then validate

    def compute(scenario: MyScenario, progress: Progress) -> StudyOutput:
        rows = progress.map(_one_point, points, label="points")   # serial/processes/dask
        table = pd.DataFrame(rows)
        return StudyOutput(tables={"table": table}, summary=table[["n_qpus", "rate"]])

    STUDY = Study(kind="my_study", load=load_scenario, compute=compute,
                  plot=my_study_plots.draw,     # optional: (scenario, output, folder) -> paths
                  template="my_study")          # reporting/templates/my_study.md.j2
    run_scenario = STUDY.run_scenario

and one line ``"my_study": "modenhub_net.studies.my_study"`` in
:data:`modenhub_net.studies.STUDY_MODULES`.

What :meth:`Study.run_scenario` does, in this order:

1. **validate**: ``load(document, source=, seed=, trials=)``; a bad document raises
   :class:`~modenhub_net.errors.UserInputError` naming the field, before anything is written;
   the output folder (``out_dir``, default ``results/<name>``) is checked the same way
   (:func:`modenhub_net.output.check_output_dir`) before the computation starts;
2. **compute**: ``compute(scenario, progress)`` returns a :class:`StudyOutput` (DataFrames and
   the numbers the report needs); compute never writes files and never prints to stdout --
   progress bars and notes go to stderr through :class:`Progress` (silent with ``--quiet``);
   parallel work goes through :func:`modenhub_net.parallel.parallel_map` (``progress.map``),
   whose results do not depend on the backend or the worker count;
3. **write**, atomically (:func:`modenhub_net.output.atomic_output_dir`: all files appear at
   once or none do): every table as ``<name>.csv`` (and ``.parquet`` if asked), the figures
   (``plot(scenario, output, staging)``, drawn inside the shared style
   :mod:`modenhub_net.reporting.style`, PDF + PNG each), ``scenario.json`` (canonical JSON of
   the validated scenario, overrides included) and ``REPORT.md`` rendered from
   ``reporting/templates/<template>.md.j2``;
4. **print results**: ``output.summary`` (a DataFrame) on stdout unless ``quiet``; nothing
   else ever goes to stdout.

The template receives ``scenario``, ``tables`` (the dict of DataFrames), ``figures`` (file
names written), ``other_files`` (the names of ``output.files``), ``elapsed_s`` (seconds
per stage, from :meth:`Progress.stage`), ``version`` (``modenhub_net.__version__``),
``source`` (the scenario file) and every entry of ``output.context``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from modenhub_net.output import atomic_output_dir, atomic_write_bytes, atomic_write_text, check_output_dir

__all__ = ["Progress", "Study", "StudyOutput", "with_overrides", "write_tables"]


def with_overrides(document: Mapping[str, Any], *, seed: int | None, trials: int | None,
                   trials_at: Iterable[str] = ("trials",)) -> dict[str, Any]:
    """A deep copy of ``document`` with the ``--seed`` / ``--trials`` flags applied.

    ``seed`` replaces the top-level ``seed``; ``trials`` replaces each dotted key of
    ``trials_at`` (e.g. ``"workload.requests"``), creating a missing section. A section that
    is not a table is left alone, so validation reports it. Used by every study's
    ``load_scenario`` before validation.

    Examples
    --------
    >>> with_overrides({"seed": 1, "stream": {"requests": 5}}, seed=2, trials=9,
    ...                trials_at=("stream.requests",))
    {'seed': 2, 'stream': {'requests': 9}}
    """
    import copy

    doc = copy.deepcopy(dict(document))
    if seed is not None:
        doc["seed"] = seed
    if trials is not None:
        for dotted in trials_at:
            *sections, key = dotted.split(".")
            part: Any = doc
            for name in sections:
                if part.get(name) is None:
                    part[name] = {}
                part = part[name]
                if not isinstance(part, dict):
                    break
            else:
                part[key] = trials
    return doc


@dataclass(frozen=True)
class StudyOutput:
    """What a study's ``compute`` returns.

    Attributes
    ----------
    tables : mapping of str to pandas.DataFrame
        Written as ``<name>.csv`` (names: letters, digits, ``_``); also given to the plots
        and the template.
    context : mapping of str to object
        Further values for the report template (headline numbers, findings, notes).
    summary : pandas.DataFrame, optional
        The few result columns printed on stdout (unless ``quiet``).
    files : mapping of str to bytes or str
        Other files to write as they are (file name -> content), e.g. a Parquet file of
        per-request records.
    """

    tables: Mapping[str, pd.DataFrame]
    context: Mapping[str, Any] = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    files: Mapping[str, bytes | str] = field(default_factory=dict)


class Progress:
    """Progress reporting of one run, on stderr only (silent when ``quiet``).

    Parameters
    ----------
    quiet : bool
        No bars and no notes.
    stream : file, optional
        Where notes go (default ``sys.stderr``).
    scheduler : str, optional
        Default backend of :meth:`map`: ``"serial"`` (default), ``"processes"``, ``"dask"`` or
        a Dask scheduler address (:func:`modenhub_net.parallel.parallel_map`).
    workers : int, optional
        Default worker count of :meth:`map` (None: one per usable core).
    """

    def __init__(self, *, quiet: bool, stream: TextIO | None = None, scheduler: str = "serial",
                 workers: int | None = None) -> None:
        from modenhub_net.parallel import check_scheduler

        self.quiet = bool(quiet)
        self._stream = stream
        self.scheduler = check_scheduler(scheduler)
        self.workers = workers
        #: seconds spent in each :meth:`stage`, in order
        self.elapsed_s: dict[str, float] = {}

    def note(self, text: str) -> None:
        """One line on stderr (a remark for the person running the study, not a result)."""
        if not self.quiet:
            print(text, file=self._stream or sys.stderr, flush=True)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a named part of the computation (recorded in :attr:`elapsed_s`)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.elapsed_s[name] = self.elapsed_s.get(name, 0.0) + time.perf_counter() - start

    def map(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        *,
        label: str,
        scheduler: str | None = None,
        workers: int | None = None,
    ) -> list[Any]:
        """:func:`modenhub_net.parallel.parallel_map` with a progress bar labelled ``label``.

        ``scheduler`` / ``workers`` default to this run's (:class:`Progress` arguments). ``fn``
        must be a module-level function (or a ``functools.partial`` of one) and every seed must
        travel inside its item, so that serial and parallel runs agree.
        """
        from modenhub_net.parallel import parallel_map

        return parallel_map(fn, items, scheduler=scheduler or self.scheduler,
                            workers=workers if workers is not None else self.workers,
                            progress=None if self.quiet else label)


def write_tables(folder: Path, tables: Mapping[str, pd.DataFrame], *,
                 formats: Iterable[str] = ("csv",)) -> list[str]:
    """Write each table as ``<name>.<format>`` (CSV with 6 significant digits; Parquet exact).

    Returns the file names written.
    """
    names = []
    for name, frame in tables.items():
        for fmt in formats:
            if fmt == "csv":
                text = frame.to_csv(index=False, float_format="%.6g", lineterminator="\n")
                atomic_write_text(folder / f"{name}.csv", text)
            elif fmt == "parquet":
                import io

                buffer = io.BytesIO()
                frame.to_parquet(buffer, index=False)
                atomic_write_bytes(folder / f"{name}.parquet", buffer.getvalue())
            else:  # pragma: no cover - programming error of a study module
                raise ValueError(f"unknown table format {fmt!r}")
            names.append(f"{name}.{fmt}")
    return names


@dataclass(frozen=True)
class Study:
    """A scenario kind: how to validate it, compute it, draw it and report it.

    Attributes
    ----------
    kind : str
        The scenario ``kind``.
    load : callable
        ``load(document, *, source, seed, trials) -> scenario`` (validated, with
        ``name`` and ``canonical_json()``); raises ``UserInputError``.
    compute : callable
        ``compute(scenario, progress) -> StudyOutput``.
    plot : callable, optional
        ``plot(scenario, output, folder) -> iterable of Path`` writing the figures (with
        :func:`modenhub_net.reporting.style.save_figure`); run inside the shared style.
    template : str, optional
        Name of the ``REPORT.md`` template; None writes no report.
    table_formats : tuple of str
        ``("csv",)`` (default), optionally with ``"parquet"``.
    markdown_tables : mapping of str to str
        Markdown copies to write: ``{file stem: key}``, the key naming a table of
        ``output.tables`` or a DataFrame of ``output.context`` (e.g. ``{"table": "table"}``
        writes ``table.md``).
    """

    kind: str
    load: Callable[..., Any]
    compute: Callable[[Any, Progress], StudyOutput]
    plot: Callable[[Any, StudyOutput, Path], Iterable[Path]] | None = None
    template: str | None = None
    table_formats: tuple[str, ...] = ("csv",)
    markdown_tables: Mapping[str, str] = field(default_factory=dict)

    def run_scenario(
        self,
        document: Mapping[str, Any],
        *,
        source: str,
        out_dir: Path | None,
        seed: int | None,
        trials: int | None,
        quiet: bool,
        scheduler: str = "serial",
        workers: int | None = None,
        progress_stream: TextIO | None = None,
    ) -> Path:
        """Validate, compute, write atomically, print the summary; return the output folder.

        ``scheduler`` and ``workers`` choose the backend of the study's parallel maps (they
        change the wall time, never the results).

        Raises
        ------
        UserInputError
            Bad scenario or output folder; nothing is written.
        """
        scenario = self.load(document, source=source, seed=seed, trials=trials)
        out = Path(out_dir) if out_dir is not None else Path("results") / scenario.name
        check_output_dir(out)
        progress = Progress(quiet=quiet, stream=progress_stream, scheduler=scheduler,
                            workers=workers)
        start = time.perf_counter()
        output = self.compute(scenario, progress)
        progress.elapsed_s.setdefault("total", time.perf_counter() - start)
        with atomic_output_dir(out) as staging:
            self._write(scenario, output, progress, staging, source=source)
        if not quiet and output.summary is not None:
            print(output.summary.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        return out

    def _write(self, scenario: Any, output: StudyOutput, progress: Progress, staging: Path,
               *, source: str) -> None:
        from modenhub_net.reporting.report import markdown_table

        write_tables(staging, output.tables, formats=self.table_formats)
        for name, content in output.files.items():
            if isinstance(content, str):
                atomic_write_text(staging / name, content)
            else:
                atomic_write_bytes(staging / name, content)
        for stem, key in self.markdown_tables.items():
            frame = output.tables[key] if key in output.tables else output.context[key]
            atomic_write_text(staging / f"{stem}.md", markdown_table(frame) + "\n")
        figures: list[str] = []
        if self.plot is not None:
            from modenhub_net.reporting.style import use_style

            with use_style():
                figures = [Path(p).name for p in self.plot(scenario, output, staging)]
        atomic_write_text(staging / "scenario.json", scenario.canonical_json() + "\n")
        if self.template is not None:
            import modenhub_net
            from modenhub_net.reporting.report import render_report

            text = render_report(
                self.template, scenario=scenario, tables=output.tables, figures=figures,
                other_files=sorted(output.files), elapsed_s=dict(progress.elapsed_s),
                version=modenhub_net.__version__, source=source, **dict(output.context),
            )
            atomic_write_text(staging / "REPORT.md", text)
