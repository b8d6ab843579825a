"""Time the report stage (:func:`carecover.outputs.report.write_report`) at Hohhot scale.

Runs ``carecover plan`` in-process on the inputs of ``scripts/bench_plan.py`` (``--work``, made
by ``bench_plan.py`` first; its network and stage caches are used) with the maps skipped, and
when the run reaches its report writes it ``--repeat`` times more into temporary folders: wall
and CPU seconds of each, their medians, the size of ``report.html``, and the top lines of a
cProfile of one more write.

Usage::

    python scripts/bench_report.py --work /tmp/speed-bench-copy [--repeat 3] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "coverage"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True, help="bench_plan.py's work folder (inputs, cache)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--top", type=int, default=25, help="profile lines shown")
    args = ap.parse_args()
    work = args.work.resolve()
    os.environ.setdefault("CARECOVER_CACHE", str(work / "cache"))
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1750809600")

    import carecover.plan.publish as publish
    from carecover import cli

    write_report = publish.write_report
    results: dict = {}

    def timed(bundle, folder, **kw):
        paths = write_report(bundle, folder, **kw)
        walls, cpus = [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
                t, c = time.perf_counter(), time.process_time()
                write_report(bundle, tmp, **kw)
                walls.append(time.perf_counter() - t)
                cpus.append(time.process_time() - c)
        prof = cProfile.Profile()
        with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
            prof.enable()
            write_report(bundle, tmp, **kw)
            prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
        results.update(walls=walls, cpus=cpus, html=paths["html"].stat().st_size, profile=out.getvalue())
        return paths

    publish.write_report = timed
    publish.build_map = lambda *a, **k: None  # the maps are timed by bench_map.py
    argv = ["plan", "--config", str(work / "config.toml"), "--network", str(work / "city.osm.pbf"),
            "--facilities", str(work / "facilities.csv"), "--boundary", str(work / "counties.geojson"),
            "--population", str(work / "worldpop.tif"), "--offline-map", "--out", str(work / "out-report")]
    rc = cli.main(argv)
    if rc or not results:
        return rc or 1
    print(f"report: wall {', '.join(f'{w:.2f}' for w in results['walls'])} s (median "
          f"{statistics.median(results['walls']):.2f} s); CPU {', '.join(f'{c:.2f}' for c in results['cpus'])} s "
          f"(median {statistics.median(results['cpus']):.2f} s); load {os.getloadavg()[0]:.1f}; "
          f"report.html {results['html'] / 1e6:.2f} MB")
    print(results["profile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
