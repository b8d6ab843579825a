"""The options of ``carecover plan`` (and the few other commands share), kept apart from
:mod:`carecover.cli` so that module stays a readable size."""

from __future__ import annotations

import argparse
from pathlib import Path

from carecover import settings
from carecover.cli_habits import PLAN_EXAMPLES

__all__ = ["OFFLINE_MAP_HELP", "add_plan_parser", "sheet_arguments", "workers_argument"]

#: ``--offline-map`` is still accepted (old scripts pass it) but changes nothing: every map
#: already carries its scripts and styles inline.
OFFLINE_MAP_HELP = ("无作用：地图总是内嵌脚本与样式，可离线打开（为兼容旧脚本保留）/ no effect: every map "
                    "already carries its scripts and styles inline and opens offline (kept for old scripts)")

def add_plan_parser(sub) -> None:
    """The ``carecover plan`` sub-command and its options."""
    p = sub.add_parser("plan", help="全流程：可达性、覆盖率、空白区、选址、地图与报告 / the whole job",
                       epilog=PLAN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--city", help="城市配置 data/<city>/config.toml / use a shipped city configuration")
    p.add_argument("--config", type=Path, help="城市配置文件 / city config TOML")
    p.add_argument("--network", type=Path, help="OSM 文件 (.osm.pbf/.osm) / OSM extract")
    p.add_argument("--facilities", type=Path, action="append", default=[],
                   help="设施名录 (CSV/XLSX/GeoJSON/GPKG)，可多次 / facility register (repeatable)")
    p.add_argument("--boundary", type=Path, help="区县边界 / county boundaries (GeoJSON/GPKG/SHP)")
    p.add_argument("--population", type=Path, help="人口栅格或矢量 / population raster (GeoTIFF) or vector")
    p.add_argument("--population-field", help="矢量人口字段 / population field (vector, default pop)")
    p.add_argument("--elderly-field", help="矢量老年人口字段 / elderly field (vector)")
    p.add_argument("--elderly-raster", type=Path, action="append", default=[],
                   help="老年人口栅格，可多次（如 WorldPop 各年龄性别组），逐项相加 / elderly population raster, "
                        "repeatable (e.g. WorldPop's age-sex groups), summed")
    p.add_argument("--band", "--bands", dest="bands", metavar="N[,M…]",
                   help="人口栅格的波段，多个则相加（多波段栅格必须指定）/ band(s) of the population raster, summed "
                        "(required for a multi-band raster)")
    p.add_argument("--elderly-bands", metavar="N[,M…]",
                   help="老年人口栅格的波段（默认全部相加）/ bands of the elderly raster(s) (default: all, summed)")
    p.add_argument("--elderly-share", type=float, metavar="SHARE",
                   help="老年人口比例 0–1，用于所有区域（人口栅格即老年人口时为 1）/ elderly share 0–1 for every area "
                        "(1 when --population is itself an aged-60+ raster)")
    p.add_argument("--year", type=int, help="另给出该年预测老年人口的覆盖（配置 [projection]）/ also the projected elderly of YEAR")
    p.add_argument("--candidates", type=Path,
                   help="候选地块 (CSV 经纬度 / GeoJSON …)，默认用路网交叉口 / candidate sites file (default: street junctions)")
    p.add_argument("--candidates-from-osm", metavar="KINDS",
                   help="以路网文件中的公共设施为候选点（一老一小），如 school,kindergarten,clinic,community_centre / "
                        "public facilities of the network file as candidate sites, e.g. school,kindergarten,clinic")
    p.add_argument("--candidates-mix", action="store_true", default=None,
                   help="公共设施候选点与候选地块或路口候选点合并（默认只用公共设施）/ add them to the file's or the "
                        "junction candidates (default: the public facilities alone)")
    p.add_argument("--colocation-min", action="append", default=[], metavar="[KIND=]K",
                   help="至少 K 处建议站点与公共设施同址（KIND=K 针对一类），可多次 / at least K suggested sites "
                        "co-located with a public facility (KIND=K: of that kind); repeatable")
    p.add_argument("--colocation-within", type=float, metavar="M",
                   help="同址距离 m（默认 100）/ distance that counts as co-located (default 100 m)")
    p.add_argument("--min-distance-existing", type=float,
                   help="候选点距现有同级设施最小距离 m / candidates at least this far from existing facilities")
    p.add_argument("--total-population", type=float,
                   help="无人口栅格时按建筑分配的总人口 / total spread over OSM buildings")
    p.add_argument("--suggest", action="append", default=[], metavar="TIER=N",
                   help="新增站点数 / new sites to suggest, e.g. street_centre=8")
    p.add_argument("--units", action="append", default=[], metavar="UNIT=FILE",
                   help="街道/乡镇边界，用于行政覆盖率 / unit boundaries, e.g. township=townships.geojson")
    p.add_argument("--speed", dest="walk_speed_mps", type=float, metavar="SPEED",
                   help=f"步行速度 m/s / walking speed (default {settings.walk_speed_mps:.1f})")
    p.add_argument("--crs", dest="crs_in", help="名录坐标系 wgs84|gcj02|bd09 / register coordinates")
    p.add_argument("--profiles", metavar="P,P+Q",
                   help="出行能力档案并列比较 / mobility profiles side by side: "
                        "elderly,step_free,winter,slope (combine with +)")
    p.add_argument("--dem", type=Path, help="高程数据 (.hgt/.hgt.zip/GeoTIFF) / DEM for the slope profile")
    p.add_argument("--site-profile", metavar="P", help="按出行能力档案选址 / site for a mobility profile, e.g. step_free")
    sheet_arguments(p)
    p.add_argument("--strict", action="store_true", help="名录有任何问题即失败 / fail on any register problem")
    p.add_argument("--osm-facilities", action="store_true", help="补充 OSM 养老设施 / add OSM facilities")
    p.add_argument("--facility-isochrones", action="store_true", help="输出每个设施的等时圈 / per-facility isochrones")
    p.add_argument("--exact-time-limit", type=float,
                   help=f"精确求解时限 s / exact solver limit (default {settings.exact_time_limit_s:g})")
    p.add_argument("--max-candidates", type=int, help="候选点上限 / most candidate sites (default 5000)")
    p.add_argument("--min-spacing", type=float, help="新站点最小间距 m / minimum spacing of new sites")
    p.add_argument("--gap-link", dest="gap_link_m", type=float, metavar="M",
                   help="缺口连接距离 m / gap linkage distance (default: 1.5 × raster cell, else 100 m)")
    p.add_argument("--target", type=float, help="目标覆盖率 / target share for 'how many sites' (default 0.9)")
    p.add_argument("--objective", choices=["coverage", "served", "both"],
                   help="选址目标：覆盖人数、按服务能力可服务人数或两者并列 / siting objective: elderly newly "
                        "covered (default), elderly newly served within every facility's capacity, or both")
    p.add_argument("--offline-map", action="store_true", help=OFFLINE_MAP_HELP)
    p.add_argument("--map-min-gap-share", type=float, metavar="SHARE",
                   help="地图只画占本层级未覆盖老年人口至少此比例的缺口（默认 0.01；表格列出全部）/ "
                        "draw a gap on the map only above this share of the tier's uncovered elderly "
                        "(default 0.01; the tables list all)")
    p.add_argument("--pdf", action="store_true",
                   help="同时输出 report.pdf（需 Chromium）/ also print report.pdf (needs Chromium)")
    p.add_argument("--no-cache", action="store_true", help="不使用路网缓存 / do not cache networks")
    workers_argument(p)
    p.add_argument("--out", type=Path, required=False, help="输出目录 / output folder")


def workers_argument(p) -> None:
    """``--workers N``."""
    p.add_argument("--workers", type=int, metavar="N",
                   help="并行进程数（默认：有两核时为 2；1 = 全部在一个进程中）/ processes the run may use "
                        "(default 2 when the machine has two cores; 1 runs everything in one process)")


def sheet_arguments(p) -> None:
    """``--sheet`` (XLSX worksheet) and ``--layer`` (GeoPackage layer) of the registers: one
    value, a name or a 0-based index."""
    p.add_argument("--sheet", "--layer", dest="sheet", metavar="NAME",
                   help="名录工作表或图层（名称或从 0 开始的序号）/ register worksheet (XLSX) or layer (GeoPackage): "
                        "name or 0-based index")
