"""``carecover meet`` as a process: it prints its address on 127.0.0.1 with the token, answers
only with the token, and Ctrl-C (SIGINT) stops it cleanly (exit 0)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_meet_process_binds_localhost_and_stops_on_ctrl_c(meeting_out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "coverage")}
    p = subprocess.Popen([sys.executable, "-c", "import sys; from carecover.cli import main; sys.exit(main())",
                          "meet", "--out", str(meeting_out), "--no-browser", "--lang", "en"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = p.stdout.readline()
        m = re.search(r"(http://([\d.]+):(\d+)/\?token=(\S+))", line)
        assert m, line + p.stderr.read() if p.poll() is not None else line
        url, host, port, token = m.groups()
        assert host == "127.0.0.1" and "ready" in line
        assert httpx.get(url).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 403
        layers = httpx.get(f"http://127.0.0.1:{port}/api/tier/street_centre/layers",
                           headers={"X-Carecover-Token": token}).json()
        assert layers["tier"] == "street_centre" and layers["candidates"]
    finally:
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=300)  # a hang guard only
    assert rc == 0
    assert "closed" in p.stderr.read()


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_meet_pdf_prints_one_page_per_scenario(meeting_out: Path, tmp_path: Path) -> None:
    from carecover.cli import main

    pdf = tmp_path / "讲义.pdf"
    assert main(["--quiet", "meet", "--out", str(meeting_out), "--pdf", str(pdf)]) == 0
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # today is not printed; the plan and the working scenario are (one page each, a map picture each)
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 2
    assert len(re.findall(rb"/Subtype\s*/Image", data)) >= 2
