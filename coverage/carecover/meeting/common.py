"""Helpers shared by the meeting commands: tier labels, the plan's figures, running a command."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from carecover.errors import InputError
from carecover.records import Figure
from carecover.summary_file import SummaryFile

__all__ = ["command_start", "refuse_own_inputs", "run_main", "summary_figure", "tier_label"]

#: When the first meeting module was imported (a meeting script's start-up, near enough).
_IMPORTED = [time.perf_counter()]


def command_start() -> float:
    """``time.perf_counter()`` at the start of this command, for the elapsed time it prints.

    For the first command of the process: when the meeting package was imported (so a
    script's elapsed time includes loading numpy and the state, as the meeting sees it); for
    later ones (tests running several commands in one process): now.
    """
    return _IMPORTED.pop() if _IMPORTED else time.perf_counter()


def tier_label(key: str) -> tuple[str, str]:
    """(Chinese, English) display names of a tier key (the key itself when unknown)."""
    from carecover.tiers import TIERS

    t = TIERS.get(key)
    return (t.name_zh, t.name_en) if t else (key, key)


def summary_figure(summary: Mapping | SummaryFile, tier: str, scenario: str = "current",
                   population: str = "elderly", area: str = "all") -> Figure | None:
    """The plan's population figure for one tier at the main speed (``None`` if absent).

    Parameters
    ----------
    summary
        ``summary.json`` of the run (read, or as :class:`~carecover.summary_file.SummaryFile`).
    tier
        Tier key.
    scenario, population, area
        ``current``/``planned``, ``elderly``/``total``, and the reporting area.
    """
    file = summary if isinstance(summary, SummaryFile) else SummaryFile.of(summary)
    return file.figure(tier, scenario, population, area)


def run_main(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int],
             argv: list[str] | None) -> int:
    """Parse ``argv`` and run a meeting command as a script: input errors → message, exit 2.

    Parameters
    ----------
    parser
        The command's parser (:mod:`carecover.meeting.cli`).
    run
        The command (``run(args) -> exit status``).
    argv
        Arguments (``sys.argv[1:]`` when ``None``).
    """
    from carecover import logs

    args = parser.parse_args(argv)
    logs.console()
    try:
        return int(run(args) or 0)
    except InputError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2


def refuse_own_inputs(path: str | Path, out_dir: str | Path) -> None:
    """Refuse (exit 2, both paths named) an output file that is one of the command's inputs:
    a file of the plan's output folder that the plan wrote (``summary.json``, ``sites.csv``,
    ``state/…``, every file of its manifest) or the manifest itself."""
    from carecover.outputs import outfolder

    out_dir = Path(out_dir)
    named = [out_dir / outfolder.MANIFEST, *(out_dir / f for f in outfolder.previous_files(out_dir))]
    named += [out_dir / n for n in outfolder.RESERVED]
    named += sorted((out_dir / "state").glob("*.npz")) if (out_dir / "state").is_dir() else []
    outfolder.refuse_inputs([Path(path)], outfolder.input_files(named))
