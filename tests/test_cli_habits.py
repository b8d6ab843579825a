"""Issue 23, CLI habits: "did you mean" for mistyped options and subcommands (bilingual), help on
every option, examples under ``plan --help``, missing files reported before the heavy imports."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from carecover import cli
from carecover.cli_habits import suggestions

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("argv", "meant"), [
    (["plan", "--output", "x"], "--out"),
    (["plan", "--facilites", "a.csv"], "--facilities"),
    (["--quiet", "demo", "--sampel", "helsinki"], "--sample"),
    (["plna"], "plan"),
    (["check-claim"], "check-claims"),
])
def test_mistyped_words_get_a_suggestion(argv, meant, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "错误 / error:" in err and f"did you mean: {meant}" in err
    assert "您是否想用" in err  # Chinese first


def test_suggestions_prefer_the_option_it_starts_like() -> None:
    opts = ["--out", "--population", "--facilities", "--osm-facilities"]
    assert suggestions("--output", opts) == ["--out"]
    assert suggestions("--facilites", opts) == ["--facilities"]
    assert suggestions("--zzz", opts) == []


def test_every_option_has_help_and_plan_help_has_examples(capsys) -> None:
    ap = cli.build_parser()
    subs = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing = [(name, a.option_strings or a.dest) for name, p in subs.items() for a in p._actions
               if a.help is None and not isinstance(a, argparse._HelpAction)]
    assert not missing
    with pytest.raises(SystemExit):
        cli.main(["plan", "--help"])
    out = capsys.readouterr().out
    assert "示例 / examples:" in out and "carecover plan --city hohhot" in out


def test_a_missing_file_is_reported_before_the_heavy_imports(tmp_path: Path) -> None:
    code = ("import sys; from carecover import cli; "
            f"rc = cli.main(['plan', '--network', {str(tmp_path / 'nope.osm.pbf')!r}, '--out', "
            f"{str(tmp_path / 'out')!r}]); "
            "print(rc, 'geopandas' in sys.modules, 'carecover.plan' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "coverage")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.stdout.split() == ["2", "False", "False"], proc.stderr
    assert "nope.osm.pbf" in proc.stderr and "--network" in proc.stderr and "missing inputs" in proc.stderr
