"""Draw a :class:`Scene` as one self-contained HTML page: inline SVG, no script, no links.

Every dot carries its item's name as an SVG ``<title>``, which browsers show on hover, and
the map's data is embedded as JSON for scripts that want it. Needs no library beyond the
standard one.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from .layout import MARGIN, TEXT, TITLE_HEIGHT, Scene, legend_position

STYLE = """body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 1em; color: #222; }
svg text { font-family: "DejaVu Sans", Verdana, sans-serif; }
svg circle.item:hover { stroke: #000; stroke-width: 2px; }
svg text.label { pointer-events: none; }"""


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def svg_of(scene: Scene) -> str:
    """The scene as an ``<svg>`` element for an HTML page."""
    width, height = _number(scene.width), _number(scene.height)
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for segment in scene.segments:
        parts.append(f'<line x1="{_number(segment.x1)}" y1="{_number(segment.y1)}" '
                     f'x2="{_number(segment.x2)}" y2="{_number(segment.y2)}" '
                     f'stroke="{segment.color}" stroke-width="{_number(segment.width)}"/>')
    for marker in scene.markers:
        stroke = (f' stroke="{marker.stroke}" stroke-width="1.2"' if marker.stroke else "")
        parts.append(f'<circle class="item" cx="{_number(marker.x)}" cy="{_number(marker.y)}" '
                     f'r="{_number(marker.radius)}" fill="{marker.fill or "none"}"{stroke}>'
                     f"<title>{escape(marker.title)}</title></circle>")
    for label in scene.labels:
        weight = ' font-weight="bold"' if label.bold else ""
        parts.append(f'<text class="label" x="{_number(label.x)}" y="{_number(label.y)}" '
                     f'font-size="{_number(label.size)}" fill="{label.color}" '
                     f'text-anchor="{label.anchor}" dominant-baseline="central"{weight}>'
                     f"{escape(label.text)}</text>")
    parts.append(f'<text x="{_number(MARGIN)}" y="{_number(TITLE_HEIGHT / 2 + 4)}" '
                 f'font-size="12" fill="{TEXT}" dominant-baseline="central">'
                 f"{escape(scene.title)}</text>")
    for index, entry in enumerate(scene.legend):
        x, y = legend_position(scene, index)
        if entry.fill is not None or entry.stroke is not None:
            stroke = f' stroke="{entry.stroke}" stroke-width="1.2"' if entry.stroke else ""
            parts.append(f'<circle cx="{_number(x)}" cy="{_number(y)}" r="4.5" '
                         f'fill="{entry.fill or "none"}"{stroke}/>')
        parts.append(f'<text x="{_number(x + 10)}" y="{_number(y)}" '
                     f'font-size="{_number(scene.legend_size)}" fill="{TEXT}" '
                     f'dominant-baseline="central">{escape(entry.text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def html_page(scene: Scene, data: dict[str, Any]) -> str:
    """A complete HTML page showing ``scene``, with ``data`` (the map as JSON) embedded."""
    embedded = json.dumps(data, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(scene.title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n"
        f"{svg_of(scene)}\n"
        "<p>Hover over a dot to see its item.</p>\n"
        f'<script type="application/json" id="map-data">{embedded}</script>\n'
        "</body>\n</html>\n"
    )
