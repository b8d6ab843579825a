"""The meeting commands take every tier name the register takes (issue 11, item 14)."""

from __future__ import annotations

from pathlib import Path

from carecover import cli


class TestRealWorld:
    def test_meeting_commands_take_a_chinese_name(self, meeting_out: Path, capsys) -> None:
        rc = cli.main(["--quiet", "whatif", "--out", str(meeting_out), "--tier", "街道级养老服务中心",
                       "--add-candidate", "0"])
        assert rc == 0, capsys.readouterr().err
        rc = cli.main(["--quiet", "scenarios", "--out", str(meeting_out), "--tier", "street",
                       "--csv", str(meeting_out.parent / "sc.csv")])
        assert rc == 0, capsys.readouterr().err
