"""``carecover meet --pdf FILE``: the printed handout without opening a browser window.

The meeting page builds its handout (one A4 page per scenario: map picture, figures, the changed
sites with street names and register coordinates) when its address carries ``handout=1``;
headless Chromium (Debian's ``chromium``, or Chrome) loads it from the running server and prints
it to PDF with the page's print stylesheet.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

from carecover.errors import InputError

__all__ = ["BROWSERS", "print_handout"]

#: Browsers tried for printing, in order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _browser() -> str:
    for name in BROWSERS:
        exe = shutil.which(name)
        if exe:
            return exe
    raise InputError("找不到 Chromium，无法生成 PDF；请在页面上点击\u201c打印讲义\u201d / no Chromium found to print the "
                     "handout; use the page's Print handout button", field="pdf",
                     expected="chromium (apt install chromium) or google-chrome on PATH")


def print_handout(url: str, pdf: str | Path, tier: str | None = None, timeout_s: float = 120.0) -> Path:
    """Print the handout of the meeting at ``url`` (with its token) to ``pdf``.

    Parameters
    ----------
    url
        The page's address with the session token.
    pdf
        The PDF to write.
    tier
        The tier whose scenarios are printed (default: the first).
    timeout_s
        Longest wait for the browser.
    """
    pdf = Path(pdf).resolve()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    page = url + "&handout=1" + (f"&tier={quote(tier)}" if tier else "")
    cmd = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=30000",
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", f"--print-to-pdf={pdf}", page]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"打印讲义超时 / printing the handout took longer than {timeout_s:.0f} s", file=pdf) from exc
    if done.returncode != 0 or not pdf.is_file():
        raise InputError(f"打印讲义失败 / printing the handout failed: {done.stderr.strip()[-300:]}", file=pdf)
    return pdf
