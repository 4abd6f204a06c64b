"""Where item names go on a picture: beside their dot where there is room, further out with a
leader line where it is crowded, and one joint name for dots that coincide.

One placement serves every format (PNG, SVG and HTML draw the same :class:`~.layout.Scene`),
so it works in the scene's pixels with the estimated text boxes of :func:`~.layout.text_box`
rather than with a drawing library's renderer. It is greedy and deterministic: labels are
placed in priority order, each at the first free spot of a fixed list of candidates, so the
same map always gives the same picture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .layout import GAP, LINE_HEIGHT, Label, Marker, Segment, text_box

LEADER_COLOUR = "#9a9a9a"
LEADER_WIDTH = 0.7
RING_STEP = 11.0
"""Pixels between the rings of places a label with a leader line may take."""
ANGLES = 24
"""Directions tried on each ring."""
COINCIDE = 1.0
"""Dots whose centres are closer than this many pixels are drawn as one and named together."""


def joint_labels(markers: Sequence[Marker], wanted: Sequence[Label | None]
                 ) -> list[Label | None]:
    """``wanted`` with the labels of coinciding dots merged into the first one's label
    (``cat, dog, kitten, puppy``, in priority order); the others become None."""
    merged: list[Label | None] = list(wanted)
    first_at: dict[tuple[int, int], int] = {}
    names: dict[int, list[str]] = {}
    for index, label in enumerate(wanted):
        if label is None:
            continue
        marker = markers[index]
        key = (int(marker.x // COINCIDE), int(marker.y // COINCIDE))
        near = [first_at[(key[0] + dx, key[1] + dy)] for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                if (key[0] + dx, key[1] + dy) in first_at]
        same = [i for i in near if np.hypot(markers[i].x - marker.x,
                                            markers[i].y - marker.y) < COINCIDE]
        if same:
            names[same[0]].append(label.text)
            merged[index] = None
        else:
            first_at.setdefault(key, index)
            names[index] = [label.text]
    for index, group in names.items():
        label = wanted[index]
        if len(group) > 1 and label is not None:
            merged[index] = Label(", ".join(group), label.x, label.y, label.anchor, label.size,
                                  label.color, label.bold)
    return merged


def place_labels(markers: Sequence[Marker], wanted: Sequence[Label | None],
                 bounds: tuple[float, float], *, leaders: bool = False
                 ) -> tuple[list[Label], list[Segment]]:
    """Labels that overlap neither each other nor a dot, in priority order, and the leader
    lines of those placed away from their dot.

    ``wanted[i]`` is the label of ``markers[i]`` (None: no label), placed at the marker's
    centre; earlier labels win; dots that coincide get one joint label
    (:func:`joint_labels`). Each label tries right, left, above, below and the four diagonals
    of its dot; with ``leaders``, then rings of places ever further out, joined to the dot by
    a line that crosses no placed label if there is such a place. A label with no free
    place inside ``bounds`` (width, height) is left out, which with ``leaders`` happens only
    when the picture is full.
    """
    boxes = np.zeros((len(markers) + len(wanted), 4))
    grid = _Grid()
    for index, m in enumerate(markers):
        boxes[index] = (m.x - m.radius, m.y - m.radius, m.x + m.radius, m.y + m.radius)
        grid.add(index, boxes[index])
    used = len(markers)
    placed: list[Label] = []
    lines: list[Segment] = []
    reach = max(bounds) if leaders else 0.0
    for index, label in enumerate(joint_labels(markers, wanted)):
        if label is None:
            continue
        marker = markers[index]
        candidates = _candidates(marker, label, reach)
        spots = np.array([text_box(candidate) for candidate, _ in candidates])
        others = boxes[[i for i in grid.near(spots.min(axis=0)[:2], spots.max(axis=0)[2:])
                        if i != index]]
        overlaps = ((others[None, :, 0] < spots[:, None, 2])
                    & (others[None, :, 2] > spots[:, None, 0])
                    & (others[None, :, 1] < spots[:, None, 3])
                    & (others[None, :, 3] > spots[:, None, 1]))
        free = (~overlaps.any(axis=1) & (spots[:, 0] >= 0) & (spots[:, 1] >= 0)
                & (spots[:, 2] <= bounds[0]) & (spots[:, 3] <= bounds[1]))
        choice = _first_clear(candidates, np.nonzero(free)[0], boxes[len(markers):used])
        if choice is None:
            continue
        candidate, leader = candidates[choice]
        placed.append(candidate)
        if leader is not None:
            lines.append(leader)
        boxes[used] = spots[choice]
        grid.add(used, boxes[used])
        used += 1
    return placed, lines


def _first_clear(candidates: list[tuple[Label, Segment | None]], free: np.ndarray,
                 labels: np.ndarray) -> int | None:
    """The first of the ``free`` candidates whose leader line crosses none of the ``labels``
    placed; else the first free one (a dot walled in by names still gets its own); None
    when none is free."""
    for choice in free:
        leader = candidates[choice][1]
        if leader is None or not _crosses(leader, labels):
            return int(choice)
    return int(free[0]) if len(free) else None


def _candidates(marker: Marker, label: Label, reach: float
                ) -> list[tuple[Label, Segment | None]]:
    """Places for ``label`` in order of preference: beside the dot, then (up to ``reach``
    pixels away) on rings around it, each with its leader line."""
    def at(x: float, y: float, anchor: str) -> Label:
        return Label(label.text, x, y, anchor, label.size, label.color, label.bold)

    near = GAP + marker.radius
    half_height = LINE_HEIGHT * label.size / 2
    diagonal = marker.radius * 0.7 + half_height
    found: list[tuple[Label, Segment | None]] = [
        (at(marker.x + dx, marker.y + dy, anchor), None) for dx, dy, anchor in (
            (near, 0.0, "start"), (-near, 0.0, "end"), (0.0, -(near + half_height), "middle"),
            (0.0, near + half_height, "middle"), (near * 0.7, -diagonal, "start"),
            (near * 0.7, diagonal, "start"), (-near * 0.7, -diagonal, "end"),
            (-near * 0.7, diagonal, "end"))]
    angles = _angle_order()
    distance = near + RING_STEP
    while distance <= reach:
        for angle in angles:
            dx, dy = np.cos(angle), -np.sin(angle)
            x, y = marker.x + distance * dx, marker.y + distance * dy
            if abs(dx) > 0.35:
                spot = at(x, y, "start" if dx > 0 else "end")
            else:
                y += half_height if dy > 0 else -half_height
                spot = at(x, y, "middle")
                y += -half_height if dy > 0 else half_height
            start = (marker.x + marker.radius * dx, marker.y + marker.radius * dy)
            found.append((spot, Segment(round(start[0], 2), round(start[1], 2), round(x, 2),
                                        round(y, 2), LEADER_COLOUR, LEADER_WIDTH)))
        distance += RING_STEP
    return found


def _angle_order() -> list[float]:
    """The ring's directions, right and left first, then ever closer to vertical."""
    steps = np.arange(ANGLES) * 2 * np.pi / ANGLES
    return sorted(steps.tolist(), key=lambda angle: (round(abs(np.sin(angle)), 6),
                                                     np.cos(angle) < 0, np.sin(angle) < 0))


def _crosses(segment: Segment, boxes: np.ndarray) -> bool:
    """Whether ``segment`` passes through any of ``boxes`` (rows left, top, right, bottom):
    the segment clipped to each box (Liang-Barsky) is not empty."""
    if not len(boxes):
        return False
    x1, y1 = segment.x1, segment.y1
    dx, dy = segment.x2 - x1, segment.y2 - y1
    low, high = np.zeros(len(boxes)), np.ones(len(boxes))
    inside = np.ones(len(boxes), dtype=bool)
    for delta, start, lower, upper in ((dx, x1, boxes[:, 0], boxes[:, 2]),
                                       (dy, y1, boxes[:, 1], boxes[:, 3])):
        if abs(delta) < 1e-12:
            inside &= (start > lower) & (start < upper)
            continue
        first, second = (lower - start) / delta, (upper - start) / delta
        low = np.maximum(low, np.minimum(first, second))
        high = np.minimum(high, np.maximum(first, second))
    return bool(np.any(inside & (low < high)))


class _Grid:
    """Boxes filed by the square cells they touch, to find the few near a place quickly."""

    CELL = 48.0

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[int]] = {}

    def _keys(self, low: np.ndarray, high: np.ndarray) -> list[tuple[int, int]]:
        columns = range(int(low[0] // self.CELL), int(high[0] // self.CELL) + 1)
        rows = range(int(low[1] // self.CELL), int(high[1] // self.CELL) + 1)
        return [(column, row) for column in columns for row in rows]

    def add(self, index: int, box: np.ndarray) -> None:
        for key in self._keys(box[:2], box[2:]):
            self.cells.setdefault(key, []).append(index)

    def near(self, low: np.ndarray, high: np.ndarray) -> list[int]:
        """Every box touching a cell that the rectangle from ``low`` to ``high`` touches."""
        found: set[int] = set()
        for key in self._keys(low, high):
            found.update(self.cells.get(key, ()))
        return sorted(found)
