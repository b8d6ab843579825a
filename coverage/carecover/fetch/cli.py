"""``carecover fetch``: the command-line front of :func:`carecover.fetch.fetch_city` (wired into
``carecover/cli.py`` by :func:`add_fetch_parser`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from carecover.fetch.city import fetch_city
from carecover.fetch.errors import FetchError


def add_fetch_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``carecover fetch`` to an ``argparse`` sub-parser set; its handler is :func:`cli_fetch`.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``fetch`` sub-parser.
    """
    p = subparsers.add_parser(
        "fetch", help="下载并裁剪城市数据（一次联网，之后离线）/ download and clip a city's data once",
        description="下载 Geofabrik OSM 与 WorldPop 人口栅格并裁剪到城市边界 / download the "
                    "Geofabrik OSM extract and the WorldPop grid and clip them to the city.")
    p.add_argument("--city", required=True, help="城市 / city key, e.g. hohhot")
    p.add_argument("--data-dir", default="data", help="数据目录 / data folder (default: data)")
    p.add_argument("--boundary", help="边界 GeoJSON / boundary GeoJSON (default: "
                                      "<data-dir>/<city>/counties.geojson)")
    p.add_argument("--cache-dir", help="下载缓存 / download cache")
    p.add_argument("--force", action="store_true", help="重新下载 / download again")
    p.add_argument("--unconstrained", action="store_true",
                   help="使用非约束 WorldPop / use the unconstrained WorldPop grid")
    p.add_argument("--buffer-m", type=float, default=2000.0,
                   help="边界外扩（米）/ boundary buffer in metres (default 2000)")
    p.add_argument("--clip", choices=["auto", "osmium", "pyosmium", "none"], default="auto",
                   help="OSM 裁剪方式 / how to clip the OSM extract")
    p.add_argument("--mirror-geofabrik", help="Geofabrik 镜像 / mirror base URL")
    p.add_argument("--mirror-worldpop", help="WorldPop 镜像 / mirror base URL")
    p.add_argument("--timeout", type=float, default=30.0, help="秒 / socket timeout in seconds")
    p.add_argument("--retries", type=int, default=4, help="重试次数 / retries")
    p.set_defaults(func=cli_fetch)
    return p


def cli_fetch(args: argparse.Namespace) -> int:
    """Run ``carecover fetch``.

    Parameters
    ----------
    args
        Parsed arguments of the ``fetch`` sub-parser (:func:`add_fetch_parser`).

    Returns
    -------
    int
        Exit status: 0 ok (the outputs are listed on stdout), 3 a download failed (the reason on
        stderr). :class:`~carecover.errors.InputError` (bad boundary) propagates for the CLI's
        usual exit status 2.
    """
    pop_key = "population_unconstrained" if args.unconstrained else "population"
    mirrors = {k: v for k, v in {"osm": args.mirror_geofabrik, pop_key: args.mirror_worldpop}.items()
               if v}
    try:
        rec = fetch_city(args.city, args.data_dir, boundary=args.boundary, force=args.force,
                         mirrors=mirrors, cache_dir=args.cache_dir, population_source=pop_key,
                         buffer_m=args.buffer_m, clip_method=args.clip, timeout=args.timeout,
                         retries=args.retries)
    except FetchError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    out = Path(args.data_dir) / args.city
    for key, o in rec["outputs"].items():
        print(f"{key}: {out / o['file']} ({o['size']:,} bytes)")
    print(f"已写入 / written: {out / 'fetched.json'}")
    return 0
