"""``report.pdf``: ``report.html`` printed by headless Chromium (Debian ``chromium``), A4 with
the report's print stylesheet. Chromium is needed only for the PDF; without it an explicit
request fails with one line saying how to install it (exit status 2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from carecover.errors import InputError
from carecover.outputs import outfolder
from carecover.utils import atomic_path

#: Where Chromium is looked for (then ``chromium`` on the PATH).
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

#: Longest a print may take (seconds).
TIMEOUT_S = 120.0


def find_chromium() -> str | None:
    """The Chromium executable, or ``None`` when none is installed.

    Returns
    -------
    str or None
    """
    for c in CHROMIUM_CANDIDATES:
        if os.access(c, os.X_OK):
            return c
    return shutil.which("chromium") or shutil.which("chromium-browser")


def need_chromium(option: str = "--pdf") -> str:
    """The Chromium executable; stop early when the PDF was asked for and there is none.

    Parameters
    ----------
    option
        The option that asked for the PDF (named in the message).

    Returns
    -------
    str
        The executable.

    Raises
    ------
    InputError
        No Chromium (exit status 2).
    """
    exe = find_chromium()
    if exe is None:
        raise InputError("无法生成 PDF：未安装 Chromium（apt-get install chromium fonts-noto-cjk）/ cannot write the "
                         "PDF: Chromium is not installed (apt-get install chromium fonts-noto-cjk)", field=option,
                         expected="Chromium at /usr/bin/chromium or on the PATH")
    return exe


def write_pdf(html_path: str | Path, pdf_path: str | Path, *, option: str = "--pdf") -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (the file appears only when
    the print succeeded).

    Parameters
    ----------
    html_path
        A self-contained ``report.html``.
    pdf_path
        The PDF to write.
    option
        The option that asked for it (named in errors).

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    InputError
        No Chromium, or no ``html_path``.
    OSError
        Chromium failed or wrote no PDF.
    """
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    exe = need_chromium(option)
    if not html_path.is_file():
        raise InputError("没有可打印的报告 / no report to print", file=str(html_path),
                         expected="report.html of a finished run")
    with tempfile.TemporaryDirectory(prefix="cc-pdf-") as profile, atomic_path(pdf_path) as tmp:
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                "--mute-audio", f"--user-data-dir={profile}",
                # the report is self-contained: nothing may be fetched while printing
                "--host-resolver-rules=MAP * ~NOTFOUND", "--no-pdf-header-footer",
                f"--print-to-pdf={tmp}", html_path.resolve().as_uri()]
        done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=TIMEOUT_S, check=False)
        if done.returncode != 0 or not Path(tmp).is_file() or Path(tmp).read_bytes()[:5] != b"%PDF-":
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise OSError(f"Chromium could not print {html_path} (exit {done.returncode}): {tail[0]}")
    return pdf_path


def print_run_report(out: str | Path) -> Path:
    """``report.pdf`` of a finished run, printed from its ``report.html``; the run's list of
    files (``.carecover-manifest.json``) then names it, so a later run into the folder replaces
    or removes it like the run's other files.

    Parameters
    ----------
    out
        The output folder of a finished ``carecover plan`` or ``demo`` run.

    Returns
    -------
    pathlib.Path
        ``out/report.pdf``.

    Raises
    ------
    InputError
        No Chromium, or no ``report.html`` in ``out`` (exit status 2).
    """
    out = Path(out)
    html_path = out / "report.html"
    if not html_path.is_file():
        raise InputError("此处没有 report.html，不是已完成运行的输出目录 / no report.html here: not the output "
                         "folder of a finished run", file=str(out),
                         expected="a folder written by carecover plan or carecover demo")
    pdf = write_pdf(html_path, out / "report.pdf")
    files = outfolder.previous_files(out)
    if (out / outfolder.MANIFEST).is_file() and pdf.name not in files:
        with tempfile.TemporaryDirectory(prefix=".cc-manifest-", dir=out) as tmp:
            outfolder.write_manifest(Path(tmp), [*files, pdf.name], root=out)
            os.replace(Path(tmp) / outfolder.MANIFEST, out / outfolder.MANIFEST)
    return pdf
