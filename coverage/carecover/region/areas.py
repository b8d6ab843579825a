"""The areas file of ``carecover region``: which areas a region run covers and their inputs.

区域文件：一次区域运行包括哪些区县/城市及其输入。

A TOML file in one of two forms (paths relative to the file; an input may be a URL that
fsspec reads, see :mod:`carecover.region.sources`)::

    # form 1: a list of areas, each with its own inputs ([shared] fills what an area omits)
    tile_km = 3                       # optional: areas wider than this are split into tiles
    [shared]
    network = "province.osm.pbf"
    [[areas]]
    name = "新城区"
    boundary = "xincheng.geojson"     # or bbox = [west, south, east, north] (WGS-84)
    facilities = ["xincheng.csv"]
    population = "worldpop.tif"       # or total_population = 200000 (over OSM buildings)
    config = "hohhot.toml"
    planned = { street_centre = 2 }

    # form 2: one boundary file, one feature per area, shared inputs
    [boundaries]
    file = "counties.geojson"
    name_field = "name"
    [shared]
    network = "province.osm.pbf"
    facilities = ["register.csv"]
    population = "worldpop.tif"

Areas keep their order in the file: a resident on a border shared by two areas is counted in
the first of them (:mod:`carecover.region.tiles`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely

from carecover.errors import InputError
from carecover.filelimits import read_toml
from carecover.inputs.boundaries import read_boundaries
from carecover.tiers import tier_key, visible

__all__ = ["AreaSpec", "Areas", "read_areas", "INPUT_KEYS"]

#: Smallest and largest tile (km): below, an area splits into more tasks than any cluster runs
#: usefully (each task reads a halo as wide as the walk threshold); above, tiles are pointless.
MIN_TILE_KM, MAX_TILE_KM = 0.5, 1000.0
#: Largest share of the smaller of two areas that may overlap the other (digitising slivers on
#: shared borders); more is a nested or repeated area, refused.
MAX_OVERLAP_SHARE = 0.01

#: Keys an area (or ``[shared]``) may give.
INPUT_KEYS = ("network", "facilities", "population", "population_field", "total_population", "config",
              "planned", "boundary", "bbox", "name", "tile_km")


@dataclass(frozen=True)
class AreaSpec:
    """One area of a region run and its inputs.

    Attributes
    ----------
    name
        Unique name (the county, league or city).
    index
        Position in the areas file (0-based): the tie rule on shared borders.
    geometry
        WGS-84 (multi)polygon of the area.
    network
        Street network file (path or URL).
    facilities
        Facility registers (paths or URLs).
    population, population_field, total_population
        Population raster/vector, its field, or a total spread over OSM buildings.
    config
        City config TOML, or ``None``.
    planned
        New sites per tier planned for this area (``{tier key: count}``).
    tile_m
        Tile size in metres (``None``: the area is one task).
    population_group
        Areas with the same group read their population together: a ``total_population``
        given in ``[shared]`` is spread over all of them at once (``"shared"``); otherwise
        each area is its own group (its name).
    """

    name: str
    index: int
    geometry: Any
    network: str
    facilities: tuple[str, ...]
    population: str | None = None
    population_field: str | None = None
    total_population: float | None = None
    config: str | None = None
    planned: dict[str, int] = field(default_factory=dict)
    tile_m: float | None = None
    population_group: str = ""


@dataclass(frozen=True)
class Areas:
    """The areas of a region run.

    Attributes
    ----------
    path
        The areas file.
    areas
        Each :class:`AreaSpec`, in file order.
    """

    path: Path
    areas: tuple[AreaSpec, ...]

    def __len__(self) -> int:
        return len(self.areas)

    def names(self) -> list[str]:
        return [a.name for a in self.areas]


def _is_url(text: str) -> bool:
    return "://" in text


def _resolve(base: Path, value: Any) -> str:
    text = str(value)
    return text if _is_url(text) else str((base / text).resolve())


def _err(path: Path, message: str, field_: str, row: int | None = None, expected: str | None = None) -> InputError:
    return InputError(message, file=path, row=row, field=field_, expected=expected)


def _geometry(path: Path, base: Path, entry: dict, row: int) -> Any:
    """An area's polygon from ``boundary`` (file, every feature unioned) or ``bbox``."""
    if "boundary" in entry:
        frame = read_boundaries(_resolve(base, entry["boundary"]))
        return shapely.union_all(frame.geometry.values)
    bbox = entry.get("bbox")
    if bbox is None:
        raise _err(path, "area has no boundary / 区域缺少边界", "boundary", row, "boundary = FILE or bbox = [w, s, e, n]")
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise _err(path, f"bad bbox {bbox!r}", "bbox", row, "[west, south, east, north]") from exc
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise _err(path, f"bbox {bbox!r} is not west < east, south < north in degrees", "bbox", row,
                   "[west, south, east, north]")
    return shapely.box(w, s, e, n)


def _planned(path: Path, value: Any, row: int) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _err(path, "planned must be a table of tier = count", "planned", row, "{ street_centre = 2 }")
    out = {}
    for name, count in value.items():
        key = tier_key(name)
        if key is None:
            raise _err(path, f"unknown tier '{visible(name)}' in planned", "planned", row)
        if not isinstance(count, int) or count < 0:
            raise _err(path, f"planned count of {name} must be a whole number >= 0, got {count!r}", "planned", row)
        out[key] = count
    return out


def _spec(path: Path, base: Path, entry: dict, index: int, tile_km: Any, geometry: Any = None,
          shared_total: bool = False) -> AreaSpec:
    row = index + 1
    unknown = sorted(set(entry) - set(INPUT_KEYS))
    if unknown:
        raise _err(path, f"unknown key '{unknown[0]}'", unknown[0], row, ", ".join(INPUT_KEYS))
    name = str(entry.get("name", "")).strip()
    if not name:
        raise _err(path, "area has no name / 区域缺少名称", "name", row)
    if "network" not in entry:
        raise _err(path, f"area '{name}' has no network / 缺少路网", "network", row)
    regs = entry.get("facilities", [])
    regs = [regs] if isinstance(regs, str) else list(regs)
    if not regs:
        raise _err(path, f"area '{name}' has no facility register / 缺少设施名录", "facilities", row)
    total = entry.get("total_population")
    if total is not None and (not isinstance(total, (int, float)) or total <= 0):
        raise _err(path, f"total_population must be > 0, got {total!r}", "total_population", row)
    if entry.get("population") is None and total is None:
        raise _err(path, f"area '{name}' has no population / 缺少人口", "population", row,
                   "population = FILE or total_population = N")
    tile = entry.get("tile_km", tile_km)
    if tile is not None and (isinstance(tile, bool) or not isinstance(tile, (int, float))
                             or not MIN_TILE_KM <= tile <= MAX_TILE_KM):
        raise _err(path, f"tile_km 须在 {MIN_TILE_KM} 到 {MAX_TILE_KM} km 之间 / tile_km must be from {MIN_TILE_KM} "
                         f"to {MAX_TILE_KM} km, got {tile!r}", "tile_km", row, f"{MIN_TILE_KM} … {MAX_TILE_KM}")
    return AreaSpec(
        name=name, index=index, geometry=geometry if geometry is not None else _geometry(path, base, entry, row),
        network=_resolve(base, entry["network"]), facilities=tuple(_resolve(base, r) for r in regs),
        population=_resolve(base, entry["population"]) if entry.get("population") is not None else None,
        population_field=entry.get("population_field"),
        total_population=float(total) if total is not None else None,
        config=_resolve(base, entry["config"]) if entry.get("config") else None,
        planned=_planned(path, entry.get("planned"), row),
        tile_m=float(tile) * 1000 if tile is not None else None,
        population_group="shared" if shared_total and entry.get("population") is None else name)


def _from_boundary_file(path: Path, base: Path, doc: dict, shared: dict) -> list[AreaSpec]:
    spec = doc["boundaries"]
    if not isinstance(spec, dict) or "file" not in spec:
        raise _err(path, "[boundaries] needs file = BOUNDARY_FILE", "boundaries.file")
    frame = read_boundaries(_resolve(base, spec["file"]))
    col = spec.get("name_field", "name")
    if col not in frame.columns:
        raise _err(path, f"boundary file has no field '{col}'", "boundaries.name_field", None,
                   ", ".join(map(str, frame.columns)))
    planned = spec.get("planned", {})
    return [_spec(path, base, {**shared, "name": str(name), "planned": planned.get(str(name))}, i,
                  doc.get("tile_km"), geometry=geom, shared_total="total_population" in shared)
            for i, (name, geom) in enumerate(zip(frame[col], frame.geometry, strict=True))]


def _refuse_overlaps(path: Path, specs: list[AreaSpec]) -> None:
    """Refuse two areas that overlap by more than :data:`MAX_OVERLAP_SHARE` of the smaller one
    (a nested area would otherwise silently lose its residents to the earlier one)."""
    geoms = [s.geometry for s in specs]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        a, b = specs[i], specs[j]
        smaller = min(a.geometry.area, b.geometry.area)
        if smaller > 0 and shapely.intersection(a.geometry, b.geometry).area > MAX_OVERLAP_SHARE * smaller:
            raise _err(path, f"区域 '{a.name}' 与 '{b.name}' 重叠（嵌套或重复）/ areas '{a.name}' and '{b.name}' overlap "
                             "(nested or repeated): each resident must belong to one area", "boundary", b.index + 1,
                       "areas that only share borders")


def read_areas(path: str | Path) -> Areas:
    """Read an areas file.

    Parameters
    ----------
    path
        The TOML file (either form of the module docstring).

    Returns
    -------
    Areas

    Raises
    ------
    InputError
        Unreadable TOML, neither or both forms, an area without name, network, register,
        population or boundary, an unknown key or tier, a repeated name (file, area number and
        key named).
    """
    path = Path(path)
    doc = read_toml(path, "areas file / 区域文件", missing="areas file not found / 找不到区域文件")
    base = path.resolve().parent
    shared = doc.get("shared", {})
    if not isinstance(shared, dict):
        raise _err(path, "[shared] must be a table", "shared")
    if ("areas" in doc) == ("boundaries" in doc):
        raise _err(path, "give either [[areas]] or [boundaries] / 须给出 [[areas]] 或 [boundaries] 之一", "areas")
    if "boundaries" in doc:
        specs = _from_boundary_file(path, base, doc, shared)
    else:
        specs = [_spec(path, base, {**shared, **entry}, i, doc.get("tile_km"),
                       shared_total="total_population" in shared and "total_population" not in entry)
                 for i, entry in enumerate(doc["areas"])]
    seen: set[str] = set()
    for s in specs:
        if s.name in seen:
            raise _err(path, f"area name '{s.name}' repeated / 区域名称重复", "name", s.index + 1)
        seen.add(s.name)
    _refuse_overlaps(path, specs)
    if not specs:
        raise _err(path, "no areas / 没有区域", "areas")
    return Areas(path, tuple(specs))
