"""Stage 11 — publish: write every output into a staging folder, then move it into place.

A failed or interrupted run leaves the previous outputs (or none), never half of a new set:
each file is written atomically into a hidden staging folder beside the output folder, and
the files are moved in only when all of them were written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

from carecover import memory, notices, timing
from carecover.outputs import outfolder
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.export import export_all
from carecover.outputs.maps import build_map
from carecover.outputs.maps.isochrones import display_layers
from carecover.outputs.maps.names import tiers_in
from carecover.outputs.report import write_report
from carecover.outputs.report.pdf import write_pdf
from carecover.outputs.report.write import draw_pictures
from carecover.params import RunParams
from carecover.plan import background
from carecover.plan.assemble import with_relative
from carecover.plan.siting import Siting, write_curve
from carecover.siting.state import write_state
from carecover.utils import atomic_write, log


def write_all(params: RunParams, bundle: PlanBundle, siting: Siting, folder: Path) -> None:
    """Every output file of a run, into ``folder`` (each writer timed as a step, :mod:`carecover.timing`).

    Two branches after the site curve and the what-if states: a worker process draws the report's
    pictures while this one writes the tables and both maps; the report
    is written last (it lists the warnings of all the others). With one worker the branch runs
    in place first; the files are the same either way.
    """
    with timing.step("site curve and states"):
        if siting.curve is not None:
            write_curve(siting.curve, folder / "site_curve.csv")
        for key, state in siting.states.items():
            write_state(folder / "state" / f"{key}.npz", state)
        memory.release_freed()  # the states' encoding, before the map layers' transient
    log("输出 / writing outputs …")
    # the maps' isochrone polygons for display, made once for both maps (the worker inherits them)
    with timing.step("map layers"):
        display_layers(bundle.isochrones, tiers_in(bundle))
        memory.release_freed()  # their transient, before the exports' (else both count in the peak)
    worker = background.start(params.workers, _pictures, bundle)
    with timing.step("exports (CSV/GPKG/GeoJSON/XLSX)"):
        export_all(bundle, folder)
        memory.release_freed()  # the exports' freed heap: the maps start from the plan's own size
    _timed_map(bundle, folder / "map.html", "osm", params.inline_assets)
    if params.gaode_map:  # here, not in the worker: the report's pictures take it longer
        _timed_map(bundle, folder / "map_gaode.html", "gaode", params.inline_assets)
    pictures = worker.result(notices_here=True)
    # warnings raised while the tables and maps were written belong in the report and summary
    bundle.summary["warnings"] = notices.as_dicts(notices.current())
    with timing.step("report"):
        write_report(bundle, folder, pictures=pictures)
    if params.pdf:
        with timing.step("report.pdf"):
            write_pdf(folder / "report.html", folder / "report.pdf")
    bundle.summary["warnings"] = notices.as_dicts(notices.current())
    with atomic_write(folder / "summary.json", "w", encoding="utf-8") as fh:
        json.dump(bundle.summary, fh, ensure_ascii=False, indent=2, sort_keys=False, default=str)


def _pictures(bundle: PlanBundle) -> dict:
    """The worker's branch of :func:`write_all`: the report's pictures (returned)."""
    with timing.step("report pictures"):
        return draw_pictures(bundle)


def _timed_map(bundle: PlanBundle, path: Path, basemap: str, inline_assets: bool) -> Path:
    """One map file, timed as the step ``map <file name>``."""
    with timing.step(f"map {path.name}"):
        return build_map(bundle, path, basemap=basemap, inline_assets=inline_assets)


def publish(params: RunParams, bundle: PlanBundle, siting: Siting, out: Path | None = None) -> dict[str, Path]:
    """Write the outputs of a run into ``out`` (``params.out`` when not given); returns the
    written files.

    Parameters
    ----------
    params
        Output folder and output options.
    bundle
        What the map, report and exports show.
    siting
        The coverage curve and prepared what-if states.
    out
        The output folder (``params.out`` when ``None``).

    Raises
    ------
    InputError
        An output would replace an input file, or the folder cannot be written (exit 2).
    OutputError
        The disk is full or another I/O error (exit 3); earlier outputs are intact.
    """
    out = Path(params.out if out is None else out)
    inputs = outfolder.input_files(params.input_paths())
    # the warnings of the writing are added to a copy: the computed plan stays as it was
    bundle = dataclasses.replace(bundle, summary=dict(bundle.summary))
    # the inputs' paths relative to the folder written (the plan may be published elsewhere)
    bundle.summary["inputs"] = [with_relative(r, out) for r in bundle.summary.get("inputs") or []]
    outfolder.check_folder(out)
    outfolder.clean_stale_staging(out)
    try:
        out.resolve().parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.resolve().parent))
    except OSError as exc:
        raise outfolder.os_error(exc, out) from exc
    try:
        outfolder.mark_staging(staging)
        write_all(params, bundle, siting, staging)
        files = [str(p.relative_to(staging)) for p in sorted(staging.rglob("*"))
                 if p.is_file() and p.name != outfolder.PID_FILE]
        outfolder.write_manifest(staging, [*files, outfolder.MANIFEST])
        outfolder.refuse_inputs([out / f for f in files], inputs)
        with timing.step("move into place"):
            return move_into_place(staging, out, inputs)
    except OSError as exc:
        raise outfolder.os_error(exc, out) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def move_into_place(staging: Path, out: Path, inputs: dict[Path, Path] | None = None) -> dict[str, Path]:
    """Move every staged file into ``out`` (each move atomic), then remove the files of the
    previous run that this one did not write (never an input, a file changed since, or one
    behind a link). Nothing is moved when any file would go through a link (exit 2).

    Ctrl-C/SIGTERM are held back during the moves (they take milliseconds), so an interrupt
    never leaves a mix of old and new files; it takes effect right after.
    """
    sources = [src for src in sorted(staging.rglob("*")) if not src.is_dir() and src.name != outfolder.PID_FILE]
    outfolder.refuse_links(out, [src.relative_to(staging) for src in sources])
    with signals_deferred():
        out.mkdir(parents=True, exist_ok=True)
        old, hashes = outfolder.previous_files(out), outfolder.previous_hashes(out)
        written = {}
        for src in sources:
            rel = src.relative_to(staging)
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            written[str(rel)] = dst
        outfolder.remove_stale(out, old, set(written), inputs, hashes)
    return written


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT/SIGTERM until the block ends, then act on them (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    sigs = [signal.SIGINT, signal.SIGTERM]
    old = {sig: signal.signal(sig, lambda signum, frame: got.append(signum)) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for signum in got[:1]:
            handler = old[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                raise KeyboardInterrupt
