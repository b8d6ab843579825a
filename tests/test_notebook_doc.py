"""docs/notebook.md runs (issue 20, item 6): every ```python block, in order, in one namespace
(as cells of one notebook), in a temporary working folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "notebook.md"


def blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_every_code_block_of_the_worked_example_runs(tmp_path: Path, monkeypatch) -> None:
    code = blocks(DOC.read_text(encoding="utf-8"))
    assert len(code) >= 7
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1750809600")
    ns: dict = {"__name__": "notebook"}
    for i, block in enumerate(code, 1):
        try:
            exec(compile(block, f"{DOC.name} block {i}", "exec"), ns)
        except Exception as exc:  # noqa: BLE001 - say which block failed
            pytest.fail(f"block {i} of {DOC.name} failed: {exc!r}\n{block}")
    # what the example shows holds
    assert ns["elderly_share"](ns["slower"]) < ns["elderly_share"](ns["plan"])
    assert ns["back"].figures.equals(ns["plan"].figures)
    assert (tmp_path / "out" / "helsinki" / "map.html").is_file()
    assert "leaflet" in ns["m"]._repr_html_().lower()
