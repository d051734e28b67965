"""The shared figure style: both formats written, the no-data marker, shared bins, colour maps."""

from __future__ import annotations

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.reporting import style


def _figure_with_empty_panel():
    with style.use_style():
        fig, (ax, empty) = style.new_figure(width="double", ncols=2)
        style.errorbar_ci(ax, [1, 2, 4], [0.5, 0.6, np.nan], [0.4, 0.5, np.nan],
                          [0.6, 0.7, np.nan], label="Monte Carlo")
        ax.set_xlabel(style.LOG2_N)
        ax.set_ylabel(style.axis_label("latency", "us"))
        style.legend_outside(ax, where="below")
        style.mark_no_data(empty, "no successes")
    return fig, ax, empty


def test_save_figure_writes_pdf_and_png(tmp_path):
    fig, _, _ = _figure_with_empty_panel()
    paths = style.save_figure(fig, tmp_path, "demo")
    assert [p.name for p in paths] == ["demo.pdf", "demo.png"]
    assert (tmp_path / "demo.pdf").read_bytes().startswith(b"%PDF")
    png = (tmp_path / "demo.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    # PNG pixel size: double-column width (7 in) at >= 200 dpi, minus the tight-box trim
    width = int.from_bytes(png[16:20], "big")
    assert width >= 0.9 * style.DOUBLE_WIDTH_IN * 200
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_pdf_is_reproducible(tmp_path):
    for folder in ("a", "b"):
        fig, _, _ = _figure_with_empty_panel()
        style.save_figure(fig, tmp_path / folder, "demo", formats=("pdf",))
    assert (tmp_path / "a/demo.pdf").read_bytes() == (tmp_path / "b/demo.pdf").read_bytes()


def test_no_data_marker_present_and_labels_typeset():
    _, ax, empty = _figure_with_empty_panel()
    assert style.has_no_data_marker(empty) and not style.has_no_data_marker(ax)
    assert [t.get_text() for t in empty.texts] == ["no successes"]
    assert ax.get_ylabel() == "latency (µs)" and ax.get_xlabel() == r"$\log_2 N$"
    assert ax.get_legend() is not None


def test_text_is_at_least_seven_points():
    fig, ax, _ = _figure_with_empty_panel()
    fig.canvas.draw()
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    assert sizes and min(sizes) >= style.MIN_FONT_PT


def test_shared_bins_cover_every_sample():
    rng = np.random.default_rng(1)
    a, b = rng.exponential(1.0, 500), rng.exponential(3.0, 200)
    edges = style.shared_bins(a, b, bins=25)
    assert len(edges) == 26 and edges[0] <= min(a.min(), b.min()) and edges[-1] >= max(a.max(), b.max())
    counts_a, _ = np.histogram(a, edges)
    counts_b, _ = np.histogram(b, edges)
    assert counts_a.sum() == a.size and counts_b.sum() == b.size
    log_edges = style.shared_bins(a, b, [0.0, -1.0, np.nan], bins=10, log=True)
    assert np.all(np.diff(np.log(log_edges)) == pytest.approx(np.diff(np.log(log_edges))[0]))
    assert style.shared_bins([], bins=4).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_sequential_map_for_non_negative_data():
    cmap, norm = style.cmap_for([0.0, 0.3, 2.0])
    assert cmap.name == style.SEQUENTIAL_CMAP and (norm.vmin, norm.vmax) == (0.0, 2.0)
    cmap, norm = style.cmap_for([-1.0, 0.5])
    assert cmap.name == style.DIVERGING_CMAP and norm.vcenter == 0.0


@pytest.mark.parametrize(("call", "field"), [
    (lambda: style.shared_bins([1.0], bins=True), "bins"),
    (lambda: style.shared_bins([1.0], bins=0), "bins"),
    (lambda: style.new_figure(width="wide"), "width"),
    (lambda: style.mark_no_data(None, ""), "text"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(UserInputError, match=field):
        call()


def test_save_figure_checks_its_options(tmp_path):
    fig, _, _ = _figure_with_empty_panel()
    with pytest.raises(UserInputError, match="dpi"):
        style.save_figure(fig, tmp_path, "x", dpi=120)
    with pytest.raises(UserInputError, match="stem"):
        style.save_figure(fig, tmp_path, "../x")
    assert not any(tmp_path.iterdir())


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("where", ["right", "below", "above"])
def test_legend_outside_does_not_cover_the_data(where):
    with style.use_style():
        fig, ax = style.new_figure()
        for i in range(4):
            style.errorbar_ci(ax, [1, 2, 3], [i, i + 1, i + 2], [i - 0.1] * 3, [i + 2.1] * 3,
                              series=i, label=f"series {i}")
        legend = style.legend_outside(ax, where=where)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        assert not _overlaps(legend.get_window_extent(renderer), ax.get_window_extent(renderer))


def test_fig3_written_in_both_formats_with_its_legend_off_the_panels(tmp_path):
    import pandas as pd

    from modenhub_net.aggregate import AggregateModel, run_study
    from modenhub_net.plotting.fig3 import plot_fig3, save_fig3

    summary = run_study(AggregateModel(), n_qpus=[2, 4, 8], strategies=["naive", "orchestrated"],
                        trials=50, seed=1).summary
    paths = save_fig3(summary, tmp_path)
    assert sorted(p.name for p in paths) == ["fig3.pdf", "fig3.png"]
    fig = plot_fig3(pd.DataFrame(summary))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    assert not any(_overlaps(legend, ax.get_window_extent(renderer)) for ax in fig.axes)
    assert fig.axes[0].get_xscale() == "log"
