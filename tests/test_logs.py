"""Messages through Python's logging (issue 20, item 5): one ``carecover`` logger; a library
user sees nothing unless logging is configured; the command line installs a console handler,
``--quiet`` shows warnings only and ``-v`` adds the stage timings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from carecover import cli, logs, notices, utils


@pytest.fixture
def no_console():
    """carecover as a library: no console handler (an earlier CLI test may have installed one)."""
    logs.remove_console()
    yield
    logs.remove_console()


def test_a_library_user_sees_nothing(no_console, capfd) -> None:
    utils.log("人口 / population …")
    with notices.collect() as found:
        notices.warn("unusual_value", "速度异常 / unusual speed")
    assert [n.code for n in found] == ["unusual_value"]  # kept for the summary …
    assert capfd.readouterr().err == ""  # … and nothing on the console


def test_records_reach_a_configured_logger(no_console, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="carecover"):
        utils.log("路网 / network …")
        with notices.collect():
            notices.warn("unusual_value", "速度异常 / unusual speed")
    assert [(r.name, r.levelno) for r in caplog.records] == [("carecover", logging.INFO), ("carecover", logging.WARNING)]
    assert "unusual speed" in caplog.records[1].getMessage()


def _register(tmp_path: Path) -> Path:
    reg = tmp_path / "register.csv"
    reg.write_text("编号,名称,层级,经度,纬度\nA1,站1,社区养老服务站,24.94,60.17\n", encoding="utf-8")
    return reg


@pytest.mark.parametrize("flags, level, progress, debug", [
    ([], logging.INFO, True, False), (["--quiet"], logging.WARNING, False, False), (["-v"], logging.DEBUG, True, True),
])
def test_the_command_line_installs_a_console(no_console, tmp_path: Path, capsys, flags, level, progress,
                                             debug) -> None:
    assert cli.main([*flags, "validate", str(_register(tmp_path))]) == 0
    capsys.readouterr()
    assert logs.LOGGER.level == level
    utils.log("路网 / network …")
    logs.LOGGER.debug("  travel: 1.00 s, CPU 1.00 s")
    with notices.collect():
        notices.warn("unusual_value", "速度异常 / unusual speed")
    err = capsys.readouterr().err
    assert ("路网 / network …" in err) is progress and ("] 路网" in err) is progress  # with the seconds since start
    assert ("travel: 1.00 s" in err) is debug
    assert "⚠ 警告 / warning: 速度异常 / unusual speed" in err  # warnings also with --quiet
    assert err.count("unusual speed") == 1


def test_nested_recordings_each_get_the_steps_inside_them() -> None:
    from carecover import timing

    with timing.recording() as outer:
        with timing.recording() as first, timing.step("a"):
            pass
        with timing.recording() as second:  # equal (empty) lists: each closes its own
            with timing.recording() as inner, timing.step("b"):
                with timing.step("b1"):
                    pass
    assert [t.name for t in first] == ["a"]
    assert [(t.name, t.depth) for t in second] == [("b1", 1), ("b", 0)] == [(t.name, t.depth) for t in inner]
    assert [t.name for t in outer] == ["a", "b1", "b"]
    with timing.step("not recorded"):
        pass
    assert [t.name for t in outer] == ["a", "b1", "b"]
