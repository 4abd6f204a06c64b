"""Draw a :class:`Scene` to PNG or SVG with matplotlib's object-oriented API and Agg.

matplotlib is imported only here, when a picture is drawn; no pyplot, so no global figure
state. The SVG keeps text as text (item names are searchable) and carries no date, so the
same scene always gives the same bytes.
"""

from __future__ import annotations

from typing import IO

from ..errors import EmbedstoreError
from .layout import MARGIN, TEXT, TITLE_HEIGHT, Scene, legend_position

DPI = 72
"""One pixel of a scene is one point, so font sizes in pixels are font sizes in points."""
PNG_SCALE = 2
"""PNG pixels per scene pixel (sharper text)."""
ALIGN = {"start": "left", "end": "right", "middle": "center"}


def draw(scene: Scene, output: IO[bytes], file_format: str) -> None:
    """Write ``scene`` to ``output`` as ``png`` or ``svg``."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure
    except ImportError:
        raise EmbedstoreError("PNG and SVG maps need matplotlib: pip install "
                              "'embedstore[plot]' (or write .html, which needs nothing)"
                              ) from None
    figure = Figure(figsize=(scene.width / DPI, scene.height / DPI), dpi=DPI,
                    facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, scene.width)
    axes.set_ylim(scene.height, 0)
    axes.set_axis_off()
    if scene.segments:
        axes.add_collection(LineCollection(
            [((s.x1, s.y1), (s.x2, s.y2)) for s in scene.segments],
            colors=[s.color for s in scene.segments],
            linewidths=[s.width for s in scene.segments], zorder=1))
    if scene.markers:
        axes.scatter([m.x for m in scene.markers], [m.y for m in scene.markers],
                     s=[(2 * m.radius) ** 2 for m in scene.markers],
                     facecolors=[m.fill or "none" for m in scene.markers],
                     edgecolors=[m.stroke or "none" for m in scene.markers],
                     linewidths=[1.2 if m.stroke else 0.0 for m in scene.markers], zorder=2)
    for label in scene.labels:
        axes.text(label.x, label.y, label.text, fontsize=label.size, color=label.color,
                  ha=ALIGN[label.anchor], va="center_baseline",
                  fontweight="bold" if label.bold else "normal", zorder=3)
    axes.text(MARGIN, TITLE_HEIGHT / 2 + 4, scene.title, fontsize=12, color=TEXT,
              ha="left", va="center")
    for index, entry in enumerate(scene.legend):
        legend_x, y = legend_position(scene, index)
        if entry.fill is not None or entry.stroke is not None:
            axes.scatter([legend_x], [y], s=[81.0], facecolors=[entry.fill or "none"],
                         edgecolors=[entry.stroke or "none"],
                         linewidths=[1.2 if entry.stroke else 0.0])
        axes.text(legend_x + 10, y, entry.text, fontsize=scene.legend_size, color=TEXT,
                  ha="left", va="center_baseline")
    with matplotlib.rc_context({"svg.hashsalt": "embedstore", "svg.fonttype": "none"}):
        if file_format == "png":
            figure.savefig(output, format="png", dpi=DPI * PNG_SCALE)
        else:
            figure.savefig(output, format="svg", metadata={"Date": None})
