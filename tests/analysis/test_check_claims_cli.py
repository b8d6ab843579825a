"""``carecover check-claims --summary`` (issue 11, items 4 and 11): each tier's threshold is read
from the summary (the demo's tiers are 5-minute tiers), and a bad summary is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from carecover import cli

CLAIM = """
[[claim]]
id = "community-reach"
text_zh = "社区养老服务站覆盖老年人"
kind = "population"
tiers = ["community_centre"]
population = "elderly"
op = ">="
value = 0.0
"""


def _claims(tmp_path: Path) -> Path:
    p = tmp_path / "claims.toml"
    p.write_text(CLAIM, encoding="utf-8")
    return p


def _file(d: Path, data: bytes) -> Path:
    (d / "s.json").write_bytes(data)
    return d / "s.json"


class TestRealWorld:
    def test_threshold_comes_from_the_summary(self, demo_out: Path, tmp_path: Path, capsys) -> None:
        out_csv = tmp_path / "claims.csv"
        rc = cli.main(["check-claims", "--claims", str(_claims(tmp_path)), "--summary",
                       str(demo_out / "summary.json"), "--csv", str(out_csv)])
        assert rc == 0
        text = out_csv.read_text(encoding="utf-8-sig")
        # evaluated at the run's 5 minutes (an assumed 15 would find no figure: NOT EVALUATED)
        assert "PASS" in text and "NOT EVALUATED" not in text, text
        summary = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
        want = next(f["value"] for f in summary["figures"] if f["kind"] == "population"
                    and f["tiers"] == ["community_centre"] and f["population"] == "elderly"
                    and f["area"] == "all" and f["scenario"] == "current" and f["speed_mps"] == 1.0)
        import pandas as pd

        row = pd.read_csv(out_csv, encoding="utf-8-sig").iloc[0]
        assert row["threshold_min"] == 5.0 and row["computed"] == pytest.approx(want, abs=1e-6)


class TestErrors:
    @pytest.mark.parametrize("make, says", [
        (lambda d: d, "is a folder"),
        (lambda d: _file(d, b'{"figures": ['), "truncated"),
        (lambda d: _file(d, b"\xff\xfe{"), "UTF-8"),
        (lambda d: _file(d, b"[1, 2]"), "not a carecover summary"),
        (lambda d: d / "missing.json", "not found"),
    ], ids=["folder", "truncated", "binary", "not_a_summary", "missing"])
    def test_bad_summary_exits_2(self, tmp_path: Path, capsys, make, says: str) -> None:
        sub = tmp_path / "s"
        sub.mkdir()
        path = make(sub)
        rc = cli.main(["check-claims", "--claims", str(_claims(tmp_path)), "--summary", str(path)])
        err = capsys.readouterr().err
        assert rc == 2 and says in err and str(path) in err and "Traceback" not in err
