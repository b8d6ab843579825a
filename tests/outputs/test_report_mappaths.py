"""The report's heavy map layers drawn as pictures (:mod:`carecover.outputs.report.mappaths`):
hand-checked squares and holes, lon/lat layers on a UTM map, the composite of layers, and the
overview map of the Monaco bundle (its coverage lies where the isochrones are)."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import shapely
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.report.charts import chart_style, png_bytes
from carecover.outputs.report.mappaths import (
    composite,
    pixel_grid,
    polygon_path,
    polygon_raster,
    raster_alpha,
)
from carecover.outputs.report.overview import coverage_polygon, map_base, overview_figure
from pyproj import CRS, Transformer

UTM50 = CRS.from_epsg(32650)  # Hohhot's zone (metres)
WGS84 = CRS.from_epsg(4326)


class TestSynthetic:
    """A 100 m square with a 20 m hole on a map of 1 m pixels (hand-checked areas)."""

    @staticmethod
    def square_with_hole(hole_clockwise: bool) -> shapely.Polygon:
        hole = [(40, 40), (60, 40), (60, 60), (40, 60)]
        # the same orientation as the exterior when not clockwise: the drawing orients the rings
        return shapely.Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [hole[::-1] if hole_clockwise else hole])

    @pytest.mark.parametrize("hole_clockwise", [True, False])
    def test_area_and_hole(self, hole_clockwise: bool) -> None:
        grid = pixel_grid((-50.0, 150.0, -50.0, 150.0), 200, UTM50, UTM50)
        cover = polygon_raster([self.square_with_hole(hole_clockwise)], grid)
        assert cover.shape == (200, 200)
        assert cover.sum() == pytest.approx(100 * 100 - 20 * 20, rel=0.01)
        # row 0 is the top (y = 149.5); column 0 the left (x = -49.5)
        at = lambda x, y: cover[int(149.5 - y), int(x + 49.5)]  # noqa: E731
        assert at(10, 10) == 1.0 and at(50, 50) == 0.0 and at(-20, 50) == 0.0 and at(50, 120) == 0.0
        assert at(20, 90) == 1.0

    def test_nothing_to_draw(self) -> None:
        grid = pixel_grid((0.0, 10.0, 0.0, 10.0), 10, UTM50, UTM50)
        assert polygon_raster([None, shapely.Point(1, 1), shapely.Polygon()], grid) is None
        assert polygon_path([shapely.LineString([(0, 0), (1, 1)])], UTM50, UTM50) is None

    def test_outline_closes_holes_of_a_pixel(self) -> None:
        cover = np.zeros((9, 9), np.float32)
        cover[1:8, 1:8] = 1.0
        cover[4, 4] = 0.0  # a hole of one pixel: a light speck, not a ring
        alpha = raster_alpha(cover, 0.3, 1.0)
        ring = np.zeros((9, 9), bool)
        ring[1:8, 1:8] = True
        ring[2:7, 2:7] = False
        assert np.array_equal(alpha == 1.0, ring)
        assert alpha[4, 4] == 0.0 and alpha[3, 3] == pytest.approx(0.3) and alpha[0, 0] == 0.0

    def test_composite_over(self) -> None:
        a = np.full((2, 2), 0.5, np.float32)
        rgba = composite([("#ff0000", a), ("#0000ff", a)])
        # alpha 0.5 + 0.5 × 0.5; red weighs 0.25 and blue 0.5 of 0.75
        assert rgba[0, 0].tolist() == [85, 0, 170, 191]
        empty = composite([("#ff0000", np.zeros((1, 1), np.float32))])
        assert empty[0, 0, 3] == 0


class TestLonLat:
    """A layer in lon/lat drawn on the UTM map lies where it is projected."""

    def test_projected_area(self) -> None:
        square = shapely.box(111.60, 40.80, 111.62, 40.815)  # about 1.7 × 1.7 km in Hohhot
        to_utm = Transformer.from_crs(WGS84, UTM50, always_xy=True)
        projected = shapely.transform(square, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
        xmin, ymin, xmax, ymax = projected.bounds
        extent = (xmin - 500, xmax + 500, ymin - 500, ymax + 500)
        grid = pixel_grid(extent, 270, UTM50, WGS84)  # 10 m pixels
        cover = polygon_raster([square], grid)
        px = (extent[1] - extent[0]) / 270
        assert cover.sum() * px * px == pytest.approx(projected.area, rel=0.02)
        # the projected square's centre is covered, a point 200 m outside it is not
        cx, cy = projected.centroid.x, projected.centroid.y
        col = lambda x: int((x - extent[0]) / px)  # noqa: E731
        row = lambda y: int((extent[3] - y) / px)  # noqa: E731
        assert cover[row(cy), col(cx)] == 1.0 and cover[row(cy), col(xmax + 200)] == 0.0


class TestMonacoOverview:
    """The overview map of a real bundle: coverage drawn under the isochrones, a small palette PNG."""

    def test_coverage_where_the_isochrones_are(self, monaco_bundle: PlanBundle) -> None:
        bundle = monaco_bundle
        base = map_base(bundle)
        with chart_style("en") as zh:
            fig, legend = overview_figure(dataclasses.replace(bundle, lang="en"), bundle.params, "street_centre", zh,
                                          base)
        image = fig.axes[0].get_images()
        assert len(image) == 1 and "Reached within 15 min walk" in legend
        rgba = image[0].get_array()
        xmin, xmax, ymin, ymax = image[0].get_extent()
        rows, cols = rgba.shape[:2]
        # the isochrone's representative point, in the map's CRS, is painted in the tier's colour
        cover = coverage_polygon(bundle, "street_centre", 15.0)
        pt = cover.to_crs(base.crs).representative_point().iloc[0]
        r, c = int((ymax - pt.y) / (ymax - ymin) * rows), int((pt.x - xmin) / (xmax - xmin) * cols)
        assert rgba[r, c, 3] > 0 and rgba[r, c, 2] > rgba[r, c, 0]  # blue (#1f77b4), not the red of the gaps
        png = png_bytes(fig, tight=True)
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            assert im.mode == "P" and im.size[0] > 500
