"""The figure of a report's overview map, and its streets drawn once as a picture.

The streets of a city are tens of thousands of segments; drawn as vectors they were the largest
part of drawing each tier's overview map, although every tier's map of a report shows the same
streets at the same extent. :func:`street_layer` draws them once per figure layout and extent
(alone, on a white figure of the map's size) and puts the drawn pixels under each map's axes:
pixel for pixel what drawing the segments there gives, because the streets are the bottom
layer over a white background. Where the figure is drawn at another size (e.g. ``savefig`` with
``bbox_inches="tight"``) the layer draws the segments as vectors instead.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from carecover.outputs.report.charts import DPI

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Street classes: (major?, line width, colour); minor streets first (drawn below).
STREET_STYLES = ((False, 0.35, "#c9c9c9"), (True, 0.9, "#a9a9a9"))


class Layout(NamedTuple):
    """An overview map's figure: its size in inches, the axes' place in it (figure fractions:
    left, right, top, bottom) and the width of its area layers in pixels."""

    size: tuple[float, float]
    box: tuple[float, float, float, float]
    columns: int


def layout(extent: tuple[float, float, float, float]) -> Layout:
    """The figure of an overview map of ``extent``: 7.6 inches of map across, its height as the
    extent's (3.8 to 9 inches), an inch each side for a legend wider than the map and 1.1 inches
    below for the legend (the picture is cropped to what is drawn).

    Parameters
    ----------
    extent
        ``(xmin, xmax, ymin, ymax)`` in the map's CRS.

    Returns
    -------
    Layout
    """
    width, side = 7.6, 1.0
    height = float(np.clip(width * (extent[3] - extent[2]) / (extent[1] - extent[0]), 3.8, 9.0))
    margin = (side + 0.02 * width) / (width + 2 * side)
    return Layout((width + 2 * side, height + 1.1),
                  (margin, 1 - margin, 1 - 0.45 / (height + 1.1), 1.1 / (height + 1.1)), int(round(width * DPI)))


def new_figure(lay: Layout) -> tuple[Figure, Axes]:
    """A figure of ``lay`` with its one axes in place."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=lay.size)
    left, right, top, bottom = lay.box
    fig.subplots_adjust(left=left, right=right, top=top, bottom=bottom)
    return fig, ax


def set_limits(ax: Axes, extent: tuple[float, float, float, float]) -> None:
    """The map's extent on ``ax``, equal scales."""
    xmin, xmax, ymin, ymax = extent
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")


def _collections(xy: np.ndarray, major: np.ndarray, extent: tuple[float, float, float, float]) -> list:
    """The street segments reaching into ``extent``, one collection per class."""
    from matplotlib.collections import LineCollection

    xmin, xmax, ymin, ymax = extent
    x, y = xy[:, :, 0], xy[:, :, 1]
    inside = (x.max(1) >= xmin) & (x.min(1) <= xmax) & (y.max(1) >= ymin) & (y.min(1) <= ymax)
    return [LineCollection(xy[sel], colors=c, linewidths=lw, zorder=1)
            for is_major, lw, c in STREET_STYLES if (sel := (major == is_major) & inside).any()]


class _Picture(NamedTuple):
    pixels: np.ndarray  # the drawn figure, RGBA, row 0 at the bottom
    axes_box: tuple[float, float, float, float]  # the axes' pixels when it was drawn


def _picture(xy: np.ndarray, major: np.ndarray, extent: tuple[float, float, float, float], lay: Layout) -> _Picture:
    import matplotlib.pyplot as plt

    fig, ax = new_figure(lay)
    set_limits(ax, extent)
    ax.set_axis_off()
    for c in _collections(xy, major, extent):
        ax.add_collection(c)
    fig.canvas.draw()
    pic = _Picture(np.array(fig.canvas.buffer_rgba())[::-1], tuple(ax.bbox.bounds))
    plt.close(fig)
    return pic


def street_layer(ax: Axes, streets: tuple[np.ndarray, np.ndarray], extent: tuple[float, float, float, float],
                 lay: Layout, cache: dict) -> bool:
    """Put the streets under the map on ``ax`` (a figure of ``lay``); whether there were any.

    Parameters
    ----------
    ax
        The map's axes (their background is hidden: the picture holds the white).
    streets
        Segment coordinates ``(n, 2, 2)`` in the map's CRS and the major-street mask.
    extent
        ``(xmin, xmax, ymin, ymax)`` of the map.
    lay
        The figure's layout.
    cache
        The pictures drawn so far, by extent and layout (one per report: its maps share them).

    Returns
    -------
    bool
    """
    xy, major = streets
    if not len(xy):
        return False
    key = (extent, lay)
    if key not in cache:
        cache[key] = _picture(xy, major, extent, lay)
    ax.patch.set_visible(False)
    ax.figure.add_artist(_artist_class()(ax, cache[key], lambda: _collections(xy, major, extent)))
    return True


@functools.cache
def _artist_class() -> type:
    """:class:`StreetArtist` (made on first use: matplotlib is imported only when a report draws)."""
    from matplotlib.artist import Artist

    class StreetArtist(Artist):
        """The street picture under the axes; the segments themselves where the figure is drawn
        at another size or place than the picture was."""

        def __init__(self, ax: Axes, picture: _Picture, vectors) -> None:
            super().__init__()
            self.ax_under, self.picture, self.vectors = ax, picture, vectors
            self.set_zorder(-1)  # below the axes
            self.set_in_layout(False)  # not in the cropped picture's bounds: the axes are

        def draw(self, renderer) -> None:
            _draw(self, renderer)

    return StreetArtist


def _draw(artist, renderer) -> None:
    """Copy the picture into the renderer, or draw the segments clipped to the axes."""
    ax, pixels = artist.ax_under, artist.picture.pixels
    if (renderer.get_canvas_width_height() == (pixels.shape[1], pixels.shape[0])
            and tuple(ax.bbox.bounds) == artist.picture.axes_box):
        gc = renderer.new_gc()
        renderer.draw_image(gc, 0, 0, pixels)
        gc.restore()
        return
    for c in artist.vectors():
        c.set_transform(ax.transData)
        c.set_clip_box(ax.bbox)
        c.set_clip_path(ax.patch)
        c.set_figure(ax.figure)
        c.draw(renderer)
