"""The console's charts: pygal draws them as SVG on the server, shown as images (no script
runs in them, and the page needs no JavaScript). Each page also lists the numbers in a table."""

from __future__ import annotations

import base64
import sys
from collections.abc import Sequence
from datetime import date

import pygal
from pygal.style import Style

# pygal appends an old-style import hook for its map plugins to sys.meta_path; it has no
# find_spec, so every import that misses elsewhere warns (ImportWarning), and Python 3.12 drops
# such hooks. The console draws no maps: the hook goes.
sys.meta_path[:] = [finder for finder in sys.meta_path
                    if type(finder).__module__ != "pygal"]

STYLE = Style(background="white", plot_background="white", font_family="sans-serif",
              colors=("#2f6fb0", "#d9822b", "#3a9b5c", "#c23b3b", "#7a5cb0", "#6b7785"))


def _chart(kind: type[pygal.Graph], title: str, **options: object) -> pygal.Graph:
    settings: dict[str, object] = {"width": 800, "height": 380, **options}
    return kind(title=title, style=STYLE, js=[], disable_xml_declaration=True,
                no_data_text="no calls in this period", print_values=False, **settings)


def _image(chart: pygal.Graph) -> str:
    """A data: URI, so the chart needs no second request and can run nothing in the page."""
    svg: str = chart.render()
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def calls_per_bucket(unit: str, buckets: Sequence[tuple[date, int]]) -> str:
    """Calls per day or per week (``unit``), each bucket labelled by its first day."""
    chart = _chart(pygal.Bar, f"Calls per {unit}", show_legend=False, x_label_rotation=45,
                   show_minor_x_labels=len(buckets) <= 31,
                   x_labels_major_every=max(len(buckets) // 12, 1))
    chart.x_labels = [day.strftime("%d/%m") for day, _ in buckets]
    chart.add("calls", [n for _, n in buckets])
    return _image(chart)


def calls_per_hour(hours: Sequence[tuple[int, int]]) -> str:
    chart = _chart(pygal.Bar, "Calls per hour of the day (all days of the period)",
                   show_legend=False)
    chart.x_labels = [f"{hour:02d}h" for hour, _ in hours]
    chart.add("calls", [n for _, n in hours])
    return _image(chart)


def shares(title: str, parts: Sequence[tuple[str, int]]) -> str:
    chart = _chart(pygal.Pie, title, inner_radius=0.45, truncate_legend=-1, legend_at_bottom=True)
    for label, n in parts:
        chart.add(label, n)
    return _image(chart)


def stacked(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
            *, horizontal: bool = False) -> str:
    kind = pygal.HorizontalStackedBar if horizontal else pygal.StackedBar
    chart = _chart(kind, title, x_label_rotation=0 if horizontal else 30,
                   height=max(380, 28 * len(labels) + 120) if horizontal else 380)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _image(chart)


def grouped(title: str, labels: Sequence[str],
            series: Sequence[tuple[str, Sequence[int]]]) -> str:
    chart = _chart(pygal.HorizontalBar, title, height=max(380, 34 * len(labels) + 120))
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _image(chart)
