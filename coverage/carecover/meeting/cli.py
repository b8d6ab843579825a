"""Argument parsers of the meeting commands, for ``carecover`` and for the scripts in ``scripts/``.

``carecover whatif|scenarios|rankings`` are registered by :func:`add_meeting_parsers`; the
scripts build the same parsers with :func:`build_parser`. Only argparse is imported here: the
commands' modules load on first use, so building the ``carecover`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMMANDS", "add_meeting_parsers", "build_parser"]

WHATIF_DESCRIPTION = """\
假如……会怎样：在现状（或规划方案）上增加或撤销站点，立即给出覆盖率变化与边际增益。
What-if in a meeting: add or remove sites and see the coverage change at once.

Works on a plan's prepared state (state/<tier>.npz, written by `carecover plan --suggest`):
existing facilities and candidate sites already have their coverage rows, so adding a candidate
or removing a facility is instant. A new site at any longitude/latitude is snapped onto the same
street network (loaded from the network cache) and routed with the same engine against the same
demand points, so its figure is what a full re-run of the plan would give.

Operations are applied in the order given; each line shows its marginal change:
  --add LON,LAT          新增任意位置站点 (WGS-84 unless --crs gcj02|bd09: Gaode/Tencent/Baidu)
  --add-candidate K      新增候选点 K (candidate index, see `carecover rankings`; or node:N)
  --remove-existing FID  撤销现有设施 (facility id as in the register, or its index)
  --remove-candidate K   撤销规划站点 K (implies --base planned)

--base planned starts from the plan (existing + the solver's chosen sites) instead of today.
--interactive keeps the network loaded and reads further operations from standard input
(add 111.70,40.82 / add-candidate 12 / remove-existing S001 / remove-candidate 3 / reset / quit),
each answered in milliseconds.

  carecover whatif --out maps/demo --tier street_centre --add 24.9425,60.1660
  carecover whatif --out maps/demo --tier street_centre --remove-existing S001
"""

SCENARIOS_DESCRIPTION = """\
情景对比：现状、加上各层级规划站点、全部规划——老年人口与总人口的覆盖率和人数。
Compare coverage scenarios from a plan's prepared state (no re-routing): for meetings.

Scenarios, for the tiers sited by `carecover plan --suggest` (state/<tier>.npz):
  现状 current                  the existing facilities;
  现状 + 规划<层级>              current + the planned sites of one tier (the exact solver's
                                choice, the same sites as sites.csv), the other tiers as they are;
  全部规划 all planned           the planned sites of every tier at once (with several tiers).

For each scenario and tier: elderly (60+) and total population within the tier's threshold,
share and count, over the whole study area (the plan's area = all figures); with several tiers
also "any of them" (a resident counts once if any tier reaches them). Writes scenarios.csv
(UTF-8 with BOM, opens in Excel) into the output folder.

  carecover scenarios --out maps/demo
  carecover scenarios --out out --tier street_centre --tier township_centre
"""

RANKINGS_DESCRIPTION = """\
导出排名：覆盖空白区排名与建议站点排名，每个层级各一张工作表，表头为中文。
Export the gap and site rankings of a plan to one Excel workbook with Chinese headers.

Reads gaps.csv and sites.csv of a `carecover plan` output folder and writes one sheet per tier
for gaps (空白区 <tier>) and one per sited tier for sites (选址 <tier>), plus a header table
(表头对照 Headers). Site sheets gain the candidate index used by `carecover whatif
--add-candidate K` and the cumulative coverage after each site (from the prepared state) when
state/<tier>.npz is present.

  carecover rankings --out maps/demo              # -> maps/demo/rankings.xlsx
  carecover rankings --out maps/demo --xlsx 排名.xlsx
"""

MEET_DESCRIPTION = """\
会议室：在本机浏览器中打开一张地图，点击任意位置新增站点、点击候选点或现有设施开关、拖动站点，
面板即时给出覆盖率变化；撤销/重做、保存情景、对比、打印讲义。
The live meeting room: a map in the local browser; click to add a site, click a candidate or an
existing facility to switch it, drag to move; the panel answers at once. Undo/redo, named
scenarios (saved in OUT/scenarios/), comparison table, printable handout.

The server listens on 127.0.0.1 only and needs the session token in the address it prints.
Nothing is loaded from the internet (the OpenStreetMap basemap is optional). Ctrl-C stops it.

  carecover meet --out maps/demo
  carecover meet --out maps/demo --lang en --no-browser --port 8765
"""

PACK_DESCRIPTION = """\
打包：把规划输出目录（状态文件、地图、报告、已保存情景）和路网缓存写进一个 zip，拷到会议用的电脑上解压即可
离线运行 `carecover meet` 与 `carecover whatif`。
Write one zip with the plan's output folder (state, maps, report, saved scenarios) and the
network cache the states were routed on; unpacked anywhere, `meet` and `whatif` run offline.

  carecover pack --out maps/demo                 # -> maps/demo-meeting.zip
  carecover pack --out out/hohhot --to /media/usb/hohhot.zip
"""

_OUT_HELP = "plan 的输出目录 / a `carecover plan` output folder"


def _tier(name: str) -> str:
    """A tier named any way the register takes (key, Chinese or English name, alias)."""
    from carecover.tiers import tier_key

    return tier_key(name) or name  # an unknown name is refused where the state is looked up


def whatif_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``whatif``: ``--out``, ``--tier``, the operations, ``--base``, ``--crs``,
    ``--interactive``."""
    p.add_argument("--out", type=Path, required=True, help=_OUT_HELP)
    p.add_argument("--tier", required=True, type=_tier,
                   help="层级 / tier (key, name or alias), e.g. street_centre, 街道级养老服务中心")
    for op, help_text in [("add", "新增站点 经度,纬度 / new site at LON,LAT"),
                          ("add-candidate", "新增候选点 / open candidate K"),
                          ("remove-existing", "撤销现有设施 / close existing facility (id or index)"),
                          ("remove-candidate", "撤销规划站点 / close planned candidate K")]:
        p.add_argument(f"--{op}", dest="ops", action="append", default=None, metavar="VALUE",
                       type=lambda v, op=op: (op, v), help=help_text)
    p.add_argument("--base", choices=["current", "planned"],
                   help="基准：现状或规划方案 / start from today (default) or from the plan")
    p.add_argument("--crs", default="wgs84", help="--add 坐标系 wgs84|gcj02|bd09 / coordinates of --add")
    p.add_argument("--interactive", action="store_true", help="继续从标准输入读取操作 / read more operations from stdin")
    p.add_argument("--network", type=Path, help="路网文件的另一份拷贝 / another copy of the plan's OSM file")


def scenarios_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``scenarios``: ``--out``, ``--tier`` (repeatable), ``--csv``."""
    p.add_argument("--out", type=Path, required=True, help=_OUT_HELP)
    p.add_argument("--tier", action="append", default=[], type=_tier,
                   help="层级（可多次，默认全部已选址层级）/ tier key (repeatable; default: every sited tier)")
    p.add_argument("--csv", type=Path, help="CSV 路径（默认 OUT/scenarios.csv）/ CSV path")


def meet_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``meet``: ``--out``, ``--port``, ``--no-browser``, ``--network``, ``--tiles`` (``--lang`` is
    carecover's global option)."""
    p.add_argument("--out", type=Path, required=True, help=_OUT_HELP)
    p.add_argument("--port", type=int, default=0, help="端口（默认任一空闲端口）/ port on 127.0.0.1 (default: any free one)")
    p.add_argument("--no-browser", action="store_true", help="不打开浏览器 / do not open the browser")
    p.add_argument("--network", type=Path, help="路网文件的另一份拷贝 / another copy of the plan's OSM file")
    p.add_argument("--tier", type=_tier, help="先打开的层级（及 --pdf 的层级）/ tier shown first (and printed by --pdf)")
    p.add_argument("--pdf", type=Path, help="把讲义打印为 PDF 后退出（需要 Chromium）/ print the handout to this PDF and exit")
    p.add_argument("--tiles", action="store_true",
                   help="默认显示在线底图 (OpenStreetMap) / start with the online basemap switched on")


def pack_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``pack``: ``--out``, ``--to``."""
    p.add_argument("--out", type=Path, required=True, help=_OUT_HELP)
    p.add_argument("--to", type=Path, help="压缩包路径（默认 OUT-meeting.zip）/ archive path (default: OUT-meeting.zip)")


def rankings_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``rankings``: ``--out``, ``--xlsx``."""
    p.add_argument("--out", type=Path, required=True, help=_OUT_HELP)
    p.add_argument("--xlsx", type=Path, help="输出文件（默认 OUT/rankings.xlsx）/ workbook path")


@dataclass(frozen=True)
class Command:
    """One meeting command.

    Attributes
    ----------
    help, description
        Short help (``carecover --help``) and the full description (``--help`` of the command).
    arguments
        Adds the command's options to a parser.
    module
        Module under :mod:`carecover.meeting` with ``run(args) -> int``.
    """

    help: str
    description: str
    arguments: Callable[[argparse.ArgumentParser], None]
    module: str


COMMANDS = {
    "whatif": Command("假如……：增减站点，即时看覆盖率变化 / what-if: add or remove sites, coverage at once",
                      WHATIF_DESCRIPTION, whatif_arguments, "whatif"),
    "scenarios": Command("情景对比：现状与规划的覆盖率 / compare current and planned coverage",
                         SCENARIOS_DESCRIPTION, scenarios_arguments, "scenarios"),
    "meet": Command("会议室：在地图上点选增减站点，即时看覆盖 / live meeting room on a local web page",
                    MEET_DESCRIPTION, meet_arguments, "meet"),
    "pack": Command("打包会议所需文件（含路网缓存）/ one archive with everything a meeting laptop needs",
                    PACK_DESCRIPTION, pack_arguments, "pack"),
    "rankings": Command("导出空白区与选址排名表 (Excel) / gap and site rankings workbook",
                        RANKINGS_DESCRIPTION, rankings_arguments, "rankings"),
}


def _runner(module: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(f"carecover.meeting.{module}").run(args)

    run.__name__ = f"run_{module}"
    return run


def _configure(p: argparse.ArgumentParser, cmd: Command) -> argparse.ArgumentParser:
    cmd.arguments(p)
    p.set_defaults(func=_runner(cmd.module), usage_error=p.error)
    return p


def add_meeting_parsers(sub) -> None:
    """Register ``whatif``, ``scenarios`` and ``rankings`` on ``carecover``'s subparsers.

    Each subparser sets ``func`` (the command, taking the parsed arguments) and
    ``usage_error`` (its parser's ``error``, for usage mistakes found after parsing).
    """
    for name, cmd in COMMANDS.items():
        _configure(sub.add_parser(name, help=cmd.help, description=cmd.description,
                                  formatter_class=argparse.RawDescriptionHelpFormatter), cmd)


def build_parser(name: str, prog: str | None = None) -> argparse.ArgumentParser:
    """The stand-alone parser of one command (the scripts in ``scripts/``).

    Parameters
    ----------
    name
        ``whatif``, ``scenarios`` or ``rankings``.
    prog
        Program name shown in usage (default: the script's file name).
    """
    cmd = COMMANDS[name]
    return _configure(argparse.ArgumentParser(prog=prog, description=cmd.description,
                                              formatter_class=argparse.RawDescriptionHelpFormatter), cmd)
