"""Pictures of the space: 2-D maps of a version, or of how a neighbourhood moved.

:func:`map_points` and :func:`diff_map` return the maps as plain data (what a web page
fetches as JSON); :func:`write_plot` draws them to PNG, SVG (matplotlib, in the ``plot``
extra) or self-contained HTML (no extra needed).
"""

from __future__ import annotations

from .diffmap import DiffMap, DiffPoint, diff_map
from .output import render, save_picture, write_plot
from .points import ItemMap, MapPoint, map_points

__all__ = ["DiffMap", "DiffPoint", "ItemMap", "MapPoint", "diff_map", "map_points", "render",
           "save_picture", "write_plot"]
