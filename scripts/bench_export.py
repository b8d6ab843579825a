"""Export benchmark at Hohhot scale: time ``export_all`` on a saved bundle, and the output folder's size.

导出基准：在呼和浩特规模的结果上计时导出（CSV、GeoPackage、GeoJSON、XLSX）并统计输出目录大小。

``--save`` runs ``carecover plan`` once on the inputs of ``scripts/bench_plan.py`` (built into
``--work`` when absent; heavy: about five minutes) and pickles the :class:`PlanBundle` that
``publish`` hands to the exports into ``WORK/bundle.pkl``. Without ``--save`` it loads that
pickle and times :func:`carecover.outputs.export.export_all` ``--repeats`` times into a fresh
folder each time, printing the median and the size of every file written. The plan's own
output folder (``WORK/out``) is measured as a whole with ``--folder``.

Usage::

    python scripts/bench_export.py --save            # once: inputs + one plan run (heavy)
    python scripts/bench_export.py --repeats 3       # export only, on the saved bundle
    python scripts/bench_export.py --folder          # sizes of WORK/out (the plan's outputs)
    git show a7484d4:coverage/carecover/outputs/export.py > /tmp/old_export.py
    python scripts/bench_export.py --module /tmp/old_export.py --repeats 2   # the version before
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def save(work: Path) -> None:
    """Build the bench_plan inputs (if absent) and run one plan, pickling its bundle."""
    import bench_plan

    if not (work / "config.toml").exists():
        print("inputs …", file=sys.stderr)
        bench_plan.build_inputs(work, 250_000, bench_plan.SEED)
    os.environ.setdefault("CARECOVER_CACHE", str(work / "cache"))
    import carecover.plan.publish as publish
    from carecover import cli

    export_all = publish.export_all

    def keep(bundle, folder, *a, **k):
        # the exports read no parameters (and RunParams holds mapping proxies, which do not pickle)
        with open(work / "bundle.pkl", "wb") as fh:
            pickle.dump(dataclasses.replace(bundle, params=None), fh, protocol=pickle.HIGHEST_PROTOCOL)
        t = time.perf_counter()
        try:
            return export_all(bundle, folder, *a, **k)
        finally:
            print(f"export in the plan: {time.perf_counter() - t:.2f} s", file=sys.stderr)

    publish.export_all = keep
    argv = ["plan", "--config", str(work / "config.toml"), "--network", str(work / "city.osm.pbf"),
            "--facilities", str(work / "facilities.csv"), "--boundary", str(work / "counties.geojson"),
            "--population", str(work / "worldpop.tif"), "--offline-map", "--out", str(work / "out")]
    t = time.perf_counter()
    rc = cli.main(argv)
    print(f"plan: rc {rc}, {time.perf_counter() - t:.1f} s", file=sys.stderr)


def sizes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def show(sz: dict[str, int]) -> None:
    for name, b in sorted(sz.items(), key=lambda kv: -kv[1]):
        print(f"  {b / 1e6:9.2f} MB  {name}")
    print(f"  {sum(sz.values()) / 1e6:9.2f} MB  total, {len(sz)} files")


def time_exports(work: Path, repeats: int, module: Path | None = None) -> None:
    if module is None:
        from carecover.outputs.export import export_all
    else:  # another version of the module, e.g. `git show COMMIT:coverage/carecover/outputs/export.py`
        import importlib.util

        spec = importlib.util.spec_from_file_location("export_under_test", module)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        export_all = mod.export_all
    import carecover.outputs.maps.style  # noqa: F401  (the plan has loaded the maps before exporting)

    with open(work / "bundle.pkl", "rb") as fh:
        bundle = pickle.load(fh)
    print(f"bundle: {len(bundle.demand):,} demand points, {len(bundle.facilities):,} facilities, "
          f"{len(bundle.isochrones):,} isochrones")
    times, cpu = [], []
    for _ in range(repeats):
        tmp = Path(tempfile.mkdtemp(prefix="bench-export-", dir=work))
        try:
            t, c = time.perf_counter(), time.process_time()
            export_all(bundle, tmp)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            sz = sizes(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"export_all: wall median {statistics.median(times):.2f} s of {', '.join(f'{t:.2f}' for t in times)}; "
          f"CPU median {statistics.median(cpu):.2f} s; load average {os.getloadavg()[0]:.1f}")
    show(sz)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/carecover-bench-export"))
    ap.add_argument("--save", action="store_true", help="build inputs and run the plan once (heavy)")
    ap.add_argument("--folder", action="store_true", help="sizes of the plan's output folder WORK/out")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--module", type=Path, help="time the export_all of this file instead (an older version)")
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.save:
        save(work)
    elif args.folder:
        show(sizes(work / "out"))
    else:
        time_exports(work, args.repeats, args.module)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
