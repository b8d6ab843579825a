"""Command-line habits (issue 23): a mistyped option or subcommand gets a bilingual error with a
"did you mean" (difflib; Python 3.11's argparse has none), and the input files a command names
are checked before the heavy imports, so a missing file is reported at once.

:class:`Parser` is the ``ArgumentParser`` of ``carecover`` and its subcommands;
:func:`check_files` the early existence check.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path
from typing import NoReturn

from carecover.errors import InputError, check_inputs_exist

__all__ = ["PLAN_EXAMPLES", "Parser", "check_files", "suggestions"]

#: Examples under ``carecover plan --help``.
PLAN_EXAMPLES = """示例 / examples:
  # 自带示例（南京，无需联网）/ the bundled sample (Nanjing, offline)
  carecover demo

  # 配置好的城市（先在联网机器上 carecover fetch --city hohhot）/ a configured city (fetch once)
  carecover plan --city hohhot --facilities 呼和浩特养老设施名录.xlsx --out out/hohhot

  # 自己的数据 / your own inputs
  carecover plan --network city.osm.pbf --facilities register.xlsx --crs gcj02 \\
      --population worldpop_100m.tif --boundary counties.geojson \\
      --suggest street_centre=8 --suggest township_centre=7 --out out/city

  # 没有人口栅格：总人口按建筑分配 / no population raster: a total spread over buildings
  carecover plan --network district.osm.pbf --facilities register.csv --total-population 60000 --out out/d

先打开输出目录中的 report.html / open report.html in the output folder first.
"""


def suggestions(word: str, choices: list[str], n: int = 1) -> list[str]:
    """The closest ``choices`` to a mistyped ``word``: for an option first those it starts
    with or that start with it (``--output`` → ``--out``), then difflib's (cutoff 0.6)."""
    stem = word.split("=", 1)[0]
    close = [c for c in choices if stem.startswith("--") and c.startswith("--") and len(c) > 3
             and (stem.startswith(c) or c.startswith(stem))]
    close += [c for c in difflib.get_close_matches(stem, choices, n=n + 1, cutoff=0.6) if c not in close]
    return close[:n]


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return sorted({s for a in parser._actions for s in a.option_strings})


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    return {}


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose usage errors are bilingual and suggest the option or subcommand
    meant (``--output`` → ``--out``, ``--facilites`` → ``--facilities``, ``plna`` → ``plan``)."""

    #: The command line being parsed (set by :func:`carecover.cli.main`), to find the subcommand.
    argv: list[str] = []

    def error(self, message: str) -> NoReturn:
        subs = _subparsers(self)
        target = subs.get(next((a for a in self.argv if a in subs), ""), self)
        hint = self._hint(message, target)
        target.print_usage(sys.stderr)
        self.exit(2, f"错误 / error: {_zh(message)}{hint}\n"
                     f"（帮助 / help: {target.prog} --help）\n")

    def _hint(self, message: str, target: argparse.ArgumentParser) -> str:
        m = re.search(r"unrecognized arguments: (.*)", message)
        if m:
            choices = _option_strings(target) + ([] if target is self else _option_strings(self))
            found = []
            for token in m.group(1).split():
                if token.startswith("-"):
                    found += [s for s in suggestions(token, choices) if s not in found]
            return f"；您是否想用 / did you mean: {' '.join(found)}" if found else ""
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2))
            found = suggestions(m.group(1), choices)
            return f"；您是否想用 / did you mean: {' '.join(found)}" if found else ""
        return ""


def _zh(message: str) -> str:
    """argparse's English message with a Chinese gloss first for the common cases."""
    glosses = (("unrecognized arguments", "无法识别的参数"), ("invalid choice", "无效的选项值"),
               ("the following arguments are required", "缺少必需参数"),
               ("expected one argument", "该选项需要一个值"), ("invalid float value", "不是有效的数字"),
               ("invalid int value", "不是有效的整数"), ("not allowed with argument", "不能与该参数同时使用"))
    for en, zh in glosses:
        if en in message:
            return f"{zh} / {message}"
    return message


#: Arguments of ``plan`` that name input files (attribute, flag).
_FILE_ARGS = (("network", "--network"), ("config", "--config"), ("boundary", "--boundary"),
              ("population", "--population"), ("elderly_raster", "--elderly-raster"),
              ("candidates", "--candidates"))


def check_files(args: argparse.Namespace) -> None:
    """Every input file the arguments name exists (checked before the heavy imports).

    Raises
    ------
    InputError
        "missing inputs" listing every missing file with the option it was given to (the same
        words as the full check in :mod:`carecover.plan.resolve`, which also knows the config's).
    """
    named: list[tuple[object, str]] = [(getattr(args, a, None), flag) for a, flag in _FILE_ARGS]
    named += [(p, "--facilities") for p in getattr(args, "facilities", None) or []]
    for spec in getattr(args, "units", None) or []:
        if "=" in str(spec):
            named.append((str(spec).split("=", 1)[1], "--units"))
    check_inputs_exist(named)


def writable_target(path: Path, flag: str) -> None:
    """Refuse, before any work, an output file whose folder cannot be written."""
    import os

    folder = path.resolve().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if path.exists() and not path.is_file():  # a folder, a device (/dev/full), a pipe: never replaced
        raise InputError("不是普通文件，不会被替换 / not a regular file: it is not replaced", file=path, field=flag,
                         expected="a new or existing regular file")
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"无法写入 / cannot write here ({folder} is not a writable folder)", file=path,
                         field=flag, expected="a file in a folder you can write to")
