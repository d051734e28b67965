"""The shared run_scenario skeleton: validation before writing, atomic output, stdout = results."""

from __future__ import annotations

import json
from typing import Literal

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from modenhub_net.config import StrictModel, validate_document
from modenhub_net.errors import UserInputError
from modenhub_net.reporting import style
from modenhub_net.reporting.report import available_templates, markdown_table, render_report
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput


class DemoScenario(StrictModel):
    kind: Literal["demo"]
    name: str = Field(pattern=r"^[a-z_]+$")
    seed: int = Field(ge=0, strict=True)
    points: int = Field(3, ge=1, le=100, strict=True)


def _load(document, *, source, seed=None, trials=None):
    doc = dict(document)
    if seed is not None:
        doc["seed"] = seed
    if trials is not None:
        doc["points"] = trials
    return validate_document(DemoScenario, doc, source=source)


def _square(item):
    index, seed = item
    return {"i": index, "rate": float(np.random.default_rng(seed).random()) + index}


def _compute(scenario, progress: Progress) -> StudyOutput:
    progress.note("computing the demo")
    with progress.stage("points"):
        rows = progress.map(_square, [(i, scenario.seed + i) for i in range(scenario.points)],
                            label="points")
    table = pd.DataFrame(rows)
    return StudyOutput(tables={"table": table}, context={"mean_rate": table["rate"].mean()},
                       summary=table[["i", "rate"]])


def _plot(scenario, output, folder):
    fig, ax = style.new_figure()
    style.mark_no_data(ax, "not measured")
    return style.save_figure(fig, folder, "demo")


STUDY = Study(kind="demo", load=_load, compute=_compute, plot=_plot, template="skeleton_demo",
              markdown_tables={"table": "table"})


def _doc(**changes):
    return {"kind": "demo", "name": "demo", "seed": 4, **changes}


def test_writes_everything_atomically(tmp_path, capsys):
    out = STUDY.run_scenario(_doc(), source="d.toml", out_dir=tmp_path / "r", seed=None,
                             trials=None, quiet=False)
    names = sorted(p.name for p in out.iterdir())
    assert names == [".modenhub-output.json", "REPORT.md", "demo.pdf", "demo.png",
                     "scenario.json", "table.csv", "table.md"]
    table = pd.read_csv(out / "table.csv")
    assert json.loads((out / "scenario.json").read_text()) == {"kind": "demo", "name": "demo",
                                                               "seed": 4, "points": 3}
    report = (out / "REPORT.md").read_text()
    assert f"mean rate {table['rate'].mean():.3f}" in report and "demo.pdf, demo.png" in report
    captured = capsys.readouterr()
    # stdout carries only the summary table; the study's note is on stderr
    assert captured.out.splitlines()[0].split() == ["i", "rate"]
    assert len(captured.out.splitlines()) == 1 + 3
    assert "computing the demo" in captured.err and "computing" not in captured.out


def test_quiet_prints_nothing(tmp_path, capsys):
    STUDY.run_scenario(_doc(), source="d.toml", out_dir=tmp_path / "r", seed=None, trials=2,
                       quiet=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(("doc", "field"), [
    (_doc(points=0), "points"), (_doc(points=True), "points"), (_doc(extra=1), "extra"),
])
def test_bad_input_writes_nothing(tmp_path, capsys, doc, field):
    calls = []
    study = Study(kind="demo", load=_load,
                  compute=lambda s, p: calls.append(s) or StudyOutput(tables={}))
    with pytest.raises(UserInputError, match=field):
        study.run_scenario(doc, source="d.toml", out_dir=tmp_path / "r", seed=None, trials=None,
                           quiet=False)
    assert calls == [] and list(tmp_path.iterdir()) == []
    assert capsys.readouterr().out == ""


def test_bad_output_folder_refused_before_computing(tmp_path):
    (tmp_path / "user_file").write_text("mine")
    calls = []
    study = Study(kind="demo", load=_load,
                  compute=lambda s, p: calls.append(s) or StudyOutput(tables={}))
    with pytest.raises(UserInputError, match="user_file"):
        study.run_scenario(_doc(), source="d.toml", out_dir=tmp_path / "user_file", seed=None,
                           trials=None, quiet=True)
    assert calls == [] and (tmp_path / "user_file").read_text() == "mine"


def test_failure_while_writing_leaves_no_output(tmp_path):
    def broken_plot(scenario, output, folder):
        raise RuntimeError("plot failed")

    study = Study(kind="demo", load=_load, compute=_compute, plot=broken_plot)
    with pytest.raises(RuntimeError, match="plot failed"):
        study.run_scenario(_doc(), source="d.toml", out_dir=tmp_path / "r", seed=None,
                           trials=None, quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_same_results_serial_and_processes(tmp_path):
    items = [(i, 10 + i) for i in range(4)]
    serial = Progress(quiet=True).map(_square, items, label="x")
    parallel = Progress(quiet=True).map(_square, items, label="x", scheduler="processes",
                                        workers=2)
    assert serial == parallel


def test_render_report_rejects_unknown_template_and_undefined_names():
    assert "skeleton_demo" in available_templates()
    with pytest.raises(UserInputError, match="no_such"):
        render_report("no_such")
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        render_report("skeleton_demo", scenario={"name": "x"}, tables={"table": []}, figures=[],
                      version="0")


def test_markdown_table_formats_floats():
    text = markdown_table(pd.DataFrame({"a": [1, 2], "b": [0.5, float("nan")], "c": ["x|y", "z"]}))
    assert text.splitlines() == ["| a | b | c |", "|---|---|---|", "| 1 | 0.5 | x\\|y |",
                                 "| 2 | n/a | z |"]
