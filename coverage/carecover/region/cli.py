"""``carecover region``: the subcommand's arguments and its entry point."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from carecover import settings, utils


def add_region_parser(sub) -> None:
    """Add ``carecover region`` to the command's subparsers."""
    p = sub.add_parser("region", help="多个区县/城市在 Dask 集群上计算 / many areas on a Dask cluster, exact across borders")
    p.add_argument("--areas", type=Path, required=True, help="区域文件 (TOML) / areas file")
    p.add_argument("--out", type=Path, required=True, help="输出目录 / output folder")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, help="本机工作进程数 / local worker processes (default 2)")
    g.add_argument("--scheduler", help="已有 Dask 调度器 / existing scheduler, e.g. tcp://host:8786")
    p.add_argument("--suggest", action="append", default=[], metavar="TIER=N",
                   help="全区域新增站点总数 / one region-wide budget, e.g. township_centre=7 "
                        "(default: each area's planned counts)")
    p.add_argument("--speed", dest="walk_speed_mps", type=float, metavar="SPEED",
                   help=f"步行速度 m/s / walking speed (default {settings.walk_speed_mps:.1f})")
    p.add_argument("--candidate-cell", type=float, help="候选点抽稀网格 m / candidate thinning cell (default 250)")
    p.add_argument("--exact-time-limit", type=float,
                   help=f"精确求解时限 s / exact solver limit (default {settings.exact_time_limit_s:g})")
    d = p.add_mutually_exclusive_group()
    d.add_argument("--dashboard", action="store_true",
                   help="启动 Dask 仪表板（仅本机 127.0.0.1）/ start the Dask dashboard (on 127.0.0.1 only)")
    d.add_argument("--no-dashboard", action="store_true", help="不启动 Dask 仪表板（默认）/ no dashboard (default)")
    p.add_argument("--no-cache", action="store_true", help="不保存任务结果 / do not store task results")
    p.set_defaults(func=cmd_region)


def cmd_region(args) -> int:
    """Run ``carecover region``."""
    from carecover.plan.options import key_values
    from carecover.region.options import RegionOptions
    from carecover.region.run import run_region

    opts = RegionOptions(
        areas=args.areas, out=args.out, workers=args.workers, scheduler=args.scheduler,
        suggest=key_values(args.suggest, "--suggest", "TIER=N, e.g. township_centre=7") or None, walk_speed_mps=args.walk_speed_mps,
        cache=False if args.no_cache else None, candidate_cell_m=args.candidate_cell,
        exact_time_limit_s=args.exact_time_limit, dashboard=bool(args.dashboard), lang=args.lang,
        command="carecover " + " ".join(shlex.quote(a) for a in getattr(args, "argv", sys.argv[1:])))
    run = run_region(opts)
    if not utils.QUIET:
        print(run.dashboard)
        print(f"输出 / outputs ({len(run.written)} files) → {args.out}")
        for key in ("region_summary.json", "areas.csv", "region_map.html", "region_report.html", "region.xlsx"):
            if key in run.written:
                print(f"  {run.written[key]}")
    return 0
