"""The menu as a diagram: Graphviz's ``dot`` (Debian's ``graphviz`` package) lays out the tree
and draws it as SVG, each node a link to its numbers when ``link`` is given."""

from __future__ import annotations

import logging
from collections.abc import Callable

import graphviz

from ivr.menu import Menu
from ivr.menu.schema import Node

log = logging.getLogger(__name__)

SHAPES = {"menu": "box", "transfer": "ellipse", "message": "note", "voicemail": "cylinder",
          "ticket_status": "component", "ouvidoria": "component", "survey": "component"}
FILL = {"menu": "#e8f0fa", "transfer": "#fdf0e2", "message": "#eef6ee", "voicemail": "#f3eef9",
        "ticket_status": "#fff8dc", "ouvidoria": "#fff8dc", "survey": "#fff8dc"}


class DiagramUnavailable(Exception):
    """``dot`` is missing or failed; ``str()`` says what to do."""


def menu_graph(menu: Menu, link: Callable[[str], str] | None = None) -> graphviz.Digraph:
    graph = graphviz.Digraph("menu", graph_attr={"rankdir": "LR", "fontname": "sans-serif",
                                                 "fontsize": "11"},
                             node_attr={"fontname": "sans-serif", "fontsize": "11",
                                        "style": "filled"},
                             edge_attr={"fontname": "sans-serif", "fontsize": "10"})
    settings = menu.settings
    for name, node in menu.spec.nodes.items():
        login = ", login" if node.auth else ""
        main = " (start)" if name == settings.main_menu else ""
        graph.node(name, label=f"{name}{main}\n{node.type.replace('_', ' ')}{login}",
                   shape=SHAPES.get(node.type, "box"), fillcolor=FILL.get(node.type, "white"),
                   penwidth="2" if name == settings.main_menu else "1",
                   **({"URL": link(name), "target": "_top", "tooltip": f"numbers of {name}"}
                      if link else {}))
    for name, node in menu.spec.nodes.items():
        for label, target, dashed in _edges(node):
            if target in menu.spec.nodes:
                graph.edge(name, target, label=label, style="dashed" if dashed else "solid")
    return graph


def _edges(node: Node) -> list[tuple[str, str, bool]]:
    """(label, target, is a fallback) of the node's ways out."""
    return [(f"key {way.label}" if way.kind == "key" else way.label, way.target,
             way.kind == "fallback") for way in node.exits()]


def render_svg(graph: graphviz.Digraph) -> str:
    """The ``<svg>`` element, without the XML prolog, to place inside a page."""
    try:
        svg = graph.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        raise DiagramUnavailable("Graphviz is not installed: apt-get install graphviz") from None
    except Exception as error:  # a diagram never breaks the page
        log.exception("dot failed")
        raise DiagramUnavailable(f"Graphviz could not draw the menu: {error}") from None
    return svg[svg.index("<svg"):]


_DRAWN: dict[tuple[str, str], str] = {}


def live_diagram(menu: Menu, link_prefix: str) -> str:
    """The served menu's diagram, drawn once per version (``dot`` is a process per drawing)."""
    key = (menu.version, link_prefix)
    svg = _DRAWN.get(key)
    if svg is None:
        if len(_DRAWN) >= 8:
            _DRAWN.clear()
        svg = _DRAWN[key] = render_svg(menu_graph(menu, lambda name: f"{link_prefix}{name}"))
    return svg
