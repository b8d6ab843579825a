"""Elderly rasters as they come (issue 22, item 2): WorldPop's aged-60+ groups as ten files or
as one ten-band file, summed; a multi-band population raster refused without ``--band/--bands``.

Real data: WorldPop 100 m age-sex rasters of central Wuhan (``tests/data/wuhan/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from carecover.errors import InputError
from carecover.inputs.population import from_raster
from carecover.inputs.population.bands import parse_bands

DATA = Path(__file__).resolve().parents[1] / "data" / "wuhan"
GROUPS = [f"{a}_{s}" for a in (60, 65, 70, 75, 80) for s in ("f", "m")]
FILES = [DATA / f"pop_{g}_wuhan.tif" for g in GROUPS]
TOTAL = DATA / "pop_20plus_wuhan.tif"
AREA = shapely.box(114.240, 30.602, 114.272, 30.634)  # inside the 48 × 48 pixel window


@pytest.fixture(scope="module")
def stacked(tmp_path_factory) -> Path:
    """The ten groups as one ten-band WorldPop-format GeoTIFF (band descriptions = group)."""
    out = tmp_path_factory.mktemp("wp") / "wuhan_60plus_agesex.tif"
    with rasterio.open(FILES[0]) as src:
        prof = src.profile.copy()
    prof.update(count=len(FILES))
    with rasterio.open(out, "w", **prof) as dst:
        for i, f in enumerate(FILES, start=1):
            with rasterio.open(f) as src:
                dst.write(src.read(1), i)
            dst.set_band_description(i, f"pop_{GROUPS[i - 1]}")
    return out


@pytest.fixture(scope="module")
def per_file() -> list[float]:
    """The aged-60+ residents of each group's file in the area."""
    return [float(from_raster(f, AREA).points["pop"].sum()) for f in FILES]


class TestRealWorld:
    def test_multiband_population_without_bands_is_refused(self, stacked):
        with pytest.raises(InputError) as e:
            from_raster(stacked, AREA)
        msg = str(e.value)
        assert "10 bands" in msg and "--band" in msg and "1: pop_60_f" in msg and "10: pop_80_m" in msg
        assert e.value.file == str(stacked)

    def test_bands_are_summed_and_named(self, stacked, per_file):
        d = from_raster(stacked, AREA, bands=parse_bands("1-10"))
        assert d.points["pop"].sum() == pytest.approx(sum(per_file), rel=1e-9)
        assert d.source["bands"] == list(range(1, 11)) and d.source["band_count"] == 10
        assert d.source["band_descriptions"][0] == "1: pop_60_f"
        # one band only: a tenth or so of the aged 60+
        one = from_raster(stacked, AREA, band=1).points["pop"].sum()
        assert one < 0.25 * d.points["pop"].sum()

    def test_elderly_as_ten_files_or_one_ten_band_file(self, stacked, per_file):
        by_files = from_raster(TOTAL, AREA, elderly_raster=FILES)
        by_bands = from_raster(TOTAL, AREA, elderly_raster=stacked)
        want = sum(per_file)
        assert by_files.points["elderly"].sum() == pytest.approx(want, rel=1e-6)
        assert by_bands.points["elderly"].sum() == pytest.approx(want, rel=1e-6)
        assert np.allclose(by_files.points["elderly"], by_bands.points["elderly"])
        assert [Path(f["file"]).name for f in by_files.source["elderly"]["files"]] == [f.name for f in FILES]
        assert by_bands.source["elderly"]["bands"] == list(range(1, 11))
        # aged 60+ are a share of the aged 20+ a planner can believe
        share = want / by_files.points["pop"].sum()
        assert 0.1 < share < 0.4

    def test_elderly_bands_chosen(self, stacked, per_file):
        women = from_raster(TOTAL, AREA, elderly_raster=stacked, elderly_bands=(1, 3, 5, 7, 9))
        want = sum(per_file[::2])
        assert women.points["elderly"].sum() == pytest.approx(want, rel=1e-6)


class TestSynthetic:
    @pytest.mark.parametrize("text, want", [("3", (3,)), ("14,15,16", (14, 15, 16)), ("14-16", (14, 15, 16)),
                                            ("2, 2,3", (2, 3))])
    def test_parse_bands(self, text, want):
        assert parse_bands(text) == want

    @pytest.mark.parametrize("text", ["0", "a", "", "-1"])
    def test_parse_bands_refuses(self, text):
        with pytest.raises(InputError, match="bands"):
            parse_bands(text)


class TestWithoutTotal:
    def test_elderly_rasters_alone_are_the_residents(self, tmp_path, per_file):
        """No total raster: the ten aged-60+ files are the population, all of it elderly."""
        from carecover.plan import PlanOptions, inputs, resolve
        from carecover.plan.area import Boundaries, StudyArea

        reg = tmp_path / "r.csv"
        reg.write_text("名称,层级,经度,纬度\n甲,社区站,114.257,30.619\n", encoding="utf-8")
        net = Path(__file__).resolve().parents[1] / "data" / "golden" / "nanjing" / "register.csv"  # any file
        p = resolve(PlanOptions(network=net, facilities=(reg,), elderly_raster=tuple(FILES), out=tmp_path / "o",
                                cache=False))
        d = inputs.read_demand(p, StudyArea(Boundaries(), AREA, AREA))
        assert d.points["pop"].sum() == pytest.approx(sum(per_file), rel=1e-6)
        assert np.allclose(d.points["pop"], d.points["elderly"]) and d.source["total_unknown"]
