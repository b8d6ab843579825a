"""The output folder: never an input overwritten, exactly one run's files, no stale staging.

* **Inputs are never replaced.** Before anything is written, and again before each move, an
  output whose path is an input file of the run is refused (exit 2, both paths named).
* **One run per folder.** Each run writes ``.carecover-manifest.json`` listing its files and
  their SHA-256; the next run into the same folder removes the files of the previous run that
  it does not write itself (a rerun without ``--suggest`` leaves no old ``sites.csv`` or
  ``state/``). Files that no run wrote (a user's own, an input, a file changed since) are never
  touched: a file is removed only when its content is still what the run wrote, it is not an
  input, and no link lies on its way.
* **Nothing outside the folder.** No output is written, and nothing is removed, through a
  link inside the output folder (``out/geojson`` linked elsewhere is refused, exit 2).
* **No stale staging.** Staging folders (``.<out>.XXXX`` beside the output folder) carry the
  process id that made them; a run removes those whose process is gone (``kill -9``).
* **Clear errors.** A read-only folder, a parent that is a file or a full disk ends in one
  line and exit 2 (bad path) or 3 (I/O), with earlier outputs intact.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
from collections.abc import Iterable
from pathlib import Path

from carecover.errors import CarecoverError, InputError
from carecover.utils import file_sha256

MANIFEST = ".carecover-manifest.json"
PID_FILE = ".carecover-staging"


class OutputError(CarecoverError):
    """Writing the outputs failed for a reason outside the inputs (disk full, I/O error)."""


def _real(p: Path) -> Path:
    return Path(os.path.realpath(p))


def _local(p: Path | str) -> Path:
    """A path, or the file a ``file://`` URL names."""
    text = str(p)
    if text.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return Path(unquote(urlsplit(text).path))
    return Path(p)


def input_files(paths: Iterable[Path | str | None]) -> dict[Path, Path]:
    """Resolved path → given path of every existing input file (``file://`` URLs included)."""
    def is_file(p) -> bool:
        try:
            return _local(p).is_file()
        except (OSError, ValueError):  # a name too long, or with a NUL: not a file
            return False

    return {_real(_local(p)): Path(str(p)) for p in paths if p is not None and is_file(p)}


def refuse_inputs(outputs: Iterable[Path], inputs: dict[Path, Path]) -> None:
    """Raise if any output path is an input file (compared after resolving links)."""
    for out in outputs:
        hit = inputs.get(_real(Path(out)))
        if hit is not None:
            raise InputError(f"the output {out} would replace the input {hit}; choose another --out folder "
                             f"/ 输出将覆盖输入文件，请换一个输出目录", file=hit, field="--out",
                             expected="an output folder that holds none of the input files")


#: What a run may write at the top of its output folder (besides ``geojson/`` and ``state/``).
RESERVED = frozenset({"summary.json", "coverage.csv", "facilities.csv", "demand.parquet", "demand.qml", "gaps.csv", "sites.csv",
                      "site_curve.csv", "claims.csv", "map.html", "map_gaode.html", "report.html", "report.md",
                      "report.pdf", "carecover.gpkg", "carecover.xlsx", "access.csv", MANIFEST})
RESERVED_DIRS = ("geojson", "state")


def refuse_inputs_early(out: Path, inputs: dict[Path, Path], reserved: Iterable[str] = RESERVED,
                        reserved_dirs: Iterable[str] = RESERVED_DIRS) -> None:
    """Before any work: refuse when an input sits in the output folder under a name a run
    writes (``reserved`` files at the top, anything in ``reserved_dirs``; the plan's by default)."""
    root = _real(Path(out))
    names, dirs = frozenset(reserved), tuple(reserved_dirs)
    for real in inputs:
        try:
            rel = real.relative_to(root)
        except ValueError:
            continue
        if rel.parts[0] in dirs or (len(rel.parts) == 1 and (rel.name in names or rel.suffix == ".png")):
            refuse_inputs([Path(out) / rel], inputs)


def check_folder(out: Path) -> None:
    """Refuse, before any work, an output folder that cannot be written.

    Raises
    ------
    InputError
        The path is a file, its parent is a file, or the folder (or its nearest existing
        parent) is not writable.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("output path exists and is not a folder / 输出路径已存在且不是文件夹",
                         file=out, field="--out", expected="a folder (new or existing)")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{parent} is a file, so the output folder cannot be made there / 输出目录的上级是文件",
                         file=out, field="--out", expected="a folder path whose parents are folders")
    probe = out if out.exists() else parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"the folder {probe} is not writable (read-only?) / 输出目录不可写", file=out,
                         field="--out", expected="a writable folder")
    if out.exists() and not os.access(out.parent, os.W_OK | os.X_OK):
        # staging is made beside the output folder, so its parent must be writable too
        raise InputError(f"the folder {out.parent} (where outputs are staged) is not writable / 输出目录的上级不可写",
                         file=out, field="--out", expected="a writable parent folder")


def os_error(exc: OSError, out: Path) -> CarecoverError:
    """The one-line error for an OS failure while writing outputs."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"{out}: the disk is full; nothing was published and earlier outputs are intact "
                           "/ 磁盘已满，未写出任何结果")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return InputError(f"cannot write there ({exc.strerror}); earlier outputs are intact / 无法写入输出目录",
                          file=exc.filename or out, field="--out", expected="a writable folder")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return InputError(f"a file is in the way ({exc.strerror}) / 路径被文件占用", file=exc.filename or out,
                          field="--out", expected="a folder path")
    return OutputError(f"{exc.filename or out}: {exc.strerror or exc}; earlier outputs are intact / 写出失败")


# ----------------------------------------------------------------------------- staging

def mark_staging(staging: Path) -> None:
    """Record the process that owns a staging folder."""
    (staging / PID_FILE).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_staging(out: Path) -> list[Path]:
    """Remove staging folders of ``out`` left by processes of this host that no longer run."""
    out = Path(out).resolve()
    removed = []
    for d in out.parent.glob(f".{out.name}.*"):
        mark = d / PID_FILE
        if d.is_symlink() or not d.is_dir() or not mark.is_file() or mark.is_symlink() \
                or d.stat().st_uid != os.getuid():
            continue  # only real staging folders of this user, never through a link
        try:
            owner = json.loads(mark.read_text())
        except (OSError, ValueError):
            continue
        if owner.get("host") == socket.gethostname() and not _alive(int(owner.get("pid", 0))):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


# ----------------------------------------------------------------------------- manifest

def _manifest(out: Path) -> dict:
    if not (Path(out) / MANIFEST).is_file():
        return {}  # absent, or a pipe or folder under its name: nothing recorded
    try:
        doc = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _plain(rel: object) -> bool:
    return isinstance(rel, str) and bool(rel) and not Path(rel).is_absolute() and \
        all(part not in ("..", ".", "") for part in rel.replace("\\", "/").split("/"))


def previous_files(out: Path) -> list[str]:
    """Files (relative paths) the previous run wrote into ``out``."""
    files = _manifest(out).get("files", [])
    return [f for f in files if _plain(f)] if isinstance(files, list) else []


def previous_hashes(out: Path) -> dict[str, str]:
    """SHA-256 of each file the previous run wrote (empty for manifests without them)."""
    hashes = _manifest(out).get("sha256", {})
    return {k: v for k, v in hashes.items() if _plain(k) and isinstance(v, str)} if isinstance(hashes, dict) else {}


def write_manifest(staging: Path, files: Iterable[str], root: Path | None = None) -> None:
    """List the files of this run and their SHA-256 (read from ``root``, by default the staging
    folder; written into the staging folder, moved in with them)."""
    root = Path(root or staging)
    names = sorted(files)
    hashes = {f: file_sha256(root / f) for f in names if f != MANIFEST and (root / f).is_file()}
    text = json.dumps({"files": names, "sha256": hashes}, ensure_ascii=False, indent=1)
    (staging / MANIFEST).write_text(text + "\n", encoding="utf-8")


def link_on_the_way(out: Path, rel: str | Path) -> Path | None:
    """The first link (or non-folder) among ``out/rel``'s folders inside ``out``, or ``out/rel``
    itself when it is a link; ``None`` when the path stays inside ``out`` without links."""
    cur = Path(out)
    parts = Path(rel).parts
    for i, part in enumerate(parts):
        cur = cur / part
        if cur.is_symlink() or (i < len(parts) - 1 and cur.exists() and not cur.is_dir()):
            return cur
    return None


def refuse_links(out: Path, rels: Iterable[str | Path]) -> None:
    """Raise (exit 2, both paths named) if an output would be written through a link."""
    for rel in rels:
        link = link_on_the_way(out, rel)
        if link is not None:
            target = os.path.realpath(link)
            raise InputError(f"{link} is a link to {target} (or not a folder); outputs are never written through "
                             "links out of the output folder; remove it or choose another --out / "
                             "输出目录中的链接不会被跟随", file=link, field="--out",
                             expected="real folders inside the output folder")


def remove_stale(out: Path, old: Iterable[str], new: set[str], inputs: dict[Path, Path] | None = None,
                 hashes: dict[str, str] | None = None) -> None:
    """Remove the previous run's files that this run did not write (and folders left empty).

    A file is kept when a link lies on its way (or it is one), when it is an input of this
    run, or when its content differs from the SHA-256 the previous run recorded (it was
    replaced since: not the run's file any more).
    """
    out = Path(out)
    for rel in old:
        if rel in new or link_on_the_way(out, rel) is not None:
            continue
        p = out / rel
        if not p.is_file() or (inputs and _real(p) in inputs):
            continue
        if hashes and rel in hashes and file_sha256(p) != hashes[rel]:
            continue
        p.unlink()
        parent = p.parent
        while parent != out and parent.is_dir() and not parent.is_symlink() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
