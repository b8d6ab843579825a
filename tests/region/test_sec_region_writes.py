"""Class 2 of issue 26 for region runs: area names map to folders by one injective rule, a
previous run's area folders are removed, inputs inside ``--out`` are never replaced, and no
output goes through a linked area folder; a sibling folder's checksum tree never changes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from carecover.errors import InputError
from carecover.region.options import RegionOptions
from carecover.region.run import run_region
from carecover.region.specs import safe_name

from .conftest import CORE, SPLIT_LON

pytestmark = pytest.mark.slow
LONG = "长" * 300


def tree(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = ("link:" + os.readlink(p) if p.is_symlink() else
                                            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
    return out


def areas_file(d: Path, region_inputs: Path, monaco_pbf: Path, names: list[str], register: Path | None = None) -> Path:
    w, s, e, n = CORE
    boxes = [(w, s, SPLIT_LON, n), (SPLIT_LON, s, e, n)]
    regs = [register or region_inputs / "west.csv", region_inputs / "east.csv"]
    text = f'[shared]\nnetwork = "{monaco_pbf}"\ntotal_population = 20000\n'
    for name, box, reg in zip(names, boxes, regs, strict=False):
        text += f"[[areas]]\nname = {json.dumps(name)}\nbbox = {list(box)}\nfacilities = [{json.dumps(str(reg))}]\n"
    p = d / f"areas_{len(list(d.glob('areas_*')))}.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def setup(region_inputs, monaco_pbf, tmp_path_factory):
    d = tmp_path_factory.mktemp("sec_region")
    sibling = d / "sibling"
    sibling.mkdir()
    (sibling / "keep.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return d, sibling, d / "cache"


def test_folder_names_are_injective_and_stale_areas_removed(setup, region_inputs, monaco_pbf, cluster_client):
    d, sibling, cache = setup
    before = tree(sibling)
    out = d / "out"
    opts = RegionOptions(areas=areas_file(d, region_inputs, monaco_pbf, ["a/b", "a_b"]), out=out, cache=cache)
    run_region(opts, client=cluster_client)
    folders = sorted(p.name for p in (out / "areas").iterdir())
    assert folders == sorted([safe_name("a/b"), "a_b"]) and len(set(folders)) == 2
    assert {json.loads((out / "areas" / f / "summary.json").read_text(encoding="utf-8"))["area"] for f in folders} \
        == {"a/b", "a_b"}
    # the next run has other areas: the folder of "a/b" (no longer an area) goes, a long name fits
    opts = RegionOptions(areas=areas_file(d, region_inputs, monaco_pbf, [LONG, "a_b"]), out=out, cache=cache)
    run_region(opts, client=cluster_client)
    folders = sorted(p.name for p in (out / "areas").iterdir())
    assert folders == sorted([safe_name(LONG), "a_b"]) and len(safe_name(LONG).encode()) < 255
    assert tree(sibling) == before


def test_inputs_inside_out_and_linked_area_folders_are_refused(setup, region_inputs, monaco_pbf, cluster_client):
    d, sibling, cache = setup
    before = tree(sibling)
    out = d / "out2"
    (out / "areas" / "west").mkdir(parents=True)
    register = out / "areas" / "west" / "facilities.csv"
    register.write_bytes((region_inputs / "west.csv").read_bytes())
    opts = RegionOptions(areas=areas_file(d, region_inputs, monaco_pbf, ["west", "east"], register), out=out,
                         cache=cache)
    with pytest.raises(InputError, match="would replace the input"):
        run_region(opts, client=cluster_client)
    assert register.read_bytes() == (region_inputs / "west.csv").read_bytes()
    out3 = d / "out3"
    (out3 / "areas").mkdir(parents=True)
    (out3 / "areas" / "east").symlink_to(sibling, target_is_directory=True)
    opts = RegionOptions(areas=areas_file(d, region_inputs, monaco_pbf, ["west", "east"]), out=out3, cache=cache)
    with pytest.raises(InputError, match="is a link"):
        run_region(opts, client=cluster_client)
    assert tree(sibling) == before
