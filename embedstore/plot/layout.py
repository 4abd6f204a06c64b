"""What a picture holds, in pixels: markers, lines, labels and a legend (a :class:`Scene`);
where item names go is :mod:`.placement`'s part.

A scene is drawn the same by matplotlib (PNG, SVG) and by the HTML writer, so every format
shows the same labels in the same places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CHARACTER_WIDTH = 0.62
"""Width of an average character of DejaVu Sans, in font sizes (a safe over-estimate)."""
LINE_HEIGHT = 1.25
GAP = 2.0
MARGIN = 24.0
TITLE_HEIGHT = 34.0
LEGEND_WIDTH = 190.0
LEGEND_STEP = 18.0
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)
"""Group colours (matplotlib's tab10 then the light half of tab20); more groups cycle."""
NO_GROUP = "#b0b0b0"
TEXT = "#222222"


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    radius: float
    fill: str | None
    stroke: str | None
    title: str


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    width: float


@dataclass(frozen=True)
class Label:
    """A text whose box is vertically centred on ``y``; ``anchor`` is ``start`` (text runs
    right from ``x``), ``end`` or ``middle``."""

    text: str
    x: float
    y: float
    anchor: str
    size: float
    color: str
    bold: bool = False


@dataclass(frozen=True)
class LegendEntry:
    text: str
    fill: str | None
    stroke: str | None


@dataclass(frozen=True)
class Scene:
    width: float
    height: float
    title: str
    markers: list[Marker]
    segments: list[Segment]
    labels: list[Label]
    legend: list[LegendEntry]
    legend_size: float


@dataclass(frozen=True)
class Frame:
    """Where the square of map coordinates [-1, 1]^2 sits in the picture (y grows down)."""

    side: float

    @property
    def width(self) -> float:
        return self.side + 2 * MARGIN + LEGEND_WIDTH

    @property
    def height(self) -> float:
        return self.side + 2 * MARGIN + TITLE_HEIGHT

    def pixels(self, x: float, y: float) -> tuple[float, float]:
        half = self.side / 2
        return (round(MARGIN + half * (1 + x), 2),
                round(TITLE_HEIGHT + MARGIN + half * (1 - y), 2))


def frame_for(n_points: int) -> Frame:
    """A bigger square for more points: 560 px up to 100 points, 1000 px beyond."""
    return Frame(side=560.0 if n_points <= 100 else 1000.0)


def font_size_for(n_points: int) -> float:
    return 11.0 if n_points <= 100 else 8.0


def text_box(label: Label) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) that ``label`` is estimated to cover."""
    width = CHARACTER_WIDTH * label.size * len(label.text) * (1.08 if label.bold else 1.0)
    half_height = LINE_HEIGHT * label.size / 2
    left = {"start": label.x, "end": label.x - width, "middle": label.x - width / 2}[label.anchor]
    return left, label.y - half_height, left + width, label.y + half_height


def legend_position(scene: Scene, index: int) -> tuple[float, float]:
    """The centre of the marker of legend entry ``index`` (its text starts 10 px right)."""
    return scene.width - LEGEND_WIDTH + 10, TITLE_HEIGHT + MARGIN + LEGEND_STEP * index


def colour_of(groups: Sequence[str], group: str | None) -> str:
    """The colour of ``group`` (its place in ``groups`` picks it); grey for no group."""
    if group is None:
        return NO_GROUP
    return PALETTE[list(groups).index(group) % len(PALETTE)]
