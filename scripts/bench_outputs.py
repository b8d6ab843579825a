"""Time the outputs of a plan step by step (map layers, states, exports, both maps, the report's
pictures), on one computed plan, for one or more versions of the code, interleaved.

``dump`` runs ``carecover plan`` in-process on the inputs of ``scripts/bench_plan.py`` (``--work``,
made by ``bench_plan.py`` first) and pickles what its publish stage receives (parameters, results,
siting) into ``WORK/plan.pkl``; nothing is written. ``time`` then runs each step in a fresh process
per code version (``--code``: a ``coverage`` folder, e.g. of an older commit's ``git archive``),
alternating versions round after round, and prints the CPU seconds of each step, per round and
their medians. The pictures are drawn in their own process, as the plan's worker draws them
(matplotlib imported there).

Usage::

    python scripts/bench_outputs.py --work /tmp/bench dump
    python scripts/bench_outputs.py --work /tmp/bench time --code /tmp/old/coverage --code coverage --rounds 3
"""

from __future__ import annotations

import argparse
import copyreg
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("layers", "states", "exports", "map", "map_gaode")


def _proxy(d: dict) -> types.MappingProxyType:
    return types.MappingProxyType(d)


# the run's parameters hold read-only mappings
copyreg.pickle(types.MappingProxyType, lambda m: (_proxy, (dict(m),)))


def dump(work: Path) -> None:
    """Compute the plan of ``work``'s inputs and pickle what publishing it takes."""
    import carecover.plan.publish as publish
    from carecover import cli

    def keep(params, bundle, siting, out=None):
        with open(work / "plan.pkl", "wb") as fh:
            pickle.dump((params, bundle, siting), fh, protocol=5)
        return {}

    publish.publish = keep
    cli.main(["plan", "--config", str(work / "config.toml"), "--network", str(work / "city.osm.pbf"),
              "--facilities", str(work / "facilities.csv"), "--boundary", str(work / "counties.geojson"),
              "--population", str(work / "worldpop.tif"), "--offline-map", "--out", str(work / "out-dump")])


def _load(work: Path):
    with open(work / "plan.pkl", "rb") as fh:
        return pickle.load(fh)


def steps(work: Path) -> dict[str, float]:
    """CPU seconds of each publishing step but the pictures (this process)."""
    from carecover.outputs.export import export_all
    from carecover.outputs.maps import build_map
    from carecover.outputs.maps.isochrones import display_layers
    from carecover.outputs.maps.names import tiers_in
    from carecover.plan.siting import write_curve
    from carecover.siting.state import write_state

    params, bundle, siting = _load(work)
    out: dict[str, float] = {}

    def timed(name, fn) -> None:
        c = time.process_time()
        fn()
        out[name] = time.process_time() - c

    def states(folder: Path) -> None:
        if siting.curve is not None:
            write_curve(siting.curve, folder / "site_curve.csv")
        for key, state in siting.states.items():
            write_state(folder / "state" / f"{key}.npz", state)

    with tempfile.TemporaryDirectory(prefix="bench-outputs-") as tmp:
        folder = Path(tmp)
        timed("layers", lambda: display_layers(bundle.isochrones, tiers_in(bundle)))
        timed("states", lambda: states(folder))
        timed("exports", lambda: export_all(bundle, folder))
        for name, basemap in (("map", "osm"), ("map_gaode", "gaode")):
            timed(name, lambda b=basemap, n=name: build_map(bundle, folder / f"{n}.html", basemap=b,
                                                           inline_assets=params.inline_assets))
    return out


def pictures(work: Path) -> dict[str, float]:
    """CPU seconds of the report's pictures (this process, matplotlib imported here)."""
    import carecover.outputs.report.charts  # noqa: F401 - the report's own imports, not timed
    from carecover.outputs.report.write import draw_pictures

    _, bundle, _ = _load(work)
    c = time.process_time()
    draw_pictures(bundle)
    return {"pictures": time.process_time() - c}


def _child(work: Path, what: str, code: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(code), SOURCE_DATE_EPOCH="1750809600",
               CARECOVER_CACHE=str(work / "cache"), MPLBACKEND="Agg")
    p = subprocess.run([sys.executable, __file__, "--work", str(work), f"_{what}"], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{what} with {code} failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def compare(work: Path, codes: list[Path], rounds: int) -> None:
    """Every step of every code version, interleaved; medians of CPU seconds."""
    runs: dict[Path, list[dict[str, float]]] = {c: [] for c in codes}
    for r in range(rounds):
        for code in codes:
            res = {**_child(work, "steps", code), **_child(work, "pictures", code)}
            runs[code].append(res)
            print(f"round {r + 1} {code} load {os.getloadavg()[0]:.1f}: "
                  + ", ".join(f"{k} {v:.2f}" for k, v in res.items()), flush=True)
    names = [*STEPS, "pictures"]
    print("| step | " + " | ".join(str(c) for c in codes) + " |")
    print("|---|" + "---|" * len(codes))
    for name in [*names, "all"]:
        cells = []
        for code in codes:
            vals = [sum(r.values()) if name == "all" else r[name] for r in runs[code]]
            cells.append(f"{statistics.median(vals):.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True, help="bench_plan.py's work folder (inputs)")
    ap.add_argument("--code", type=Path, action="append", help="a coverage folder to time (repeatable)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("what", choices=["dump", "time", "_steps", "_pictures"])
    args = ap.parse_args()
    work = args.work.resolve()
    if args.what == "dump":
        os.environ.setdefault("CARECOVER_CACHE", str(work / "cache"))
        os.environ.setdefault("SOURCE_DATE_EPOCH", "1750809600")
        sys.path.insert(0, str(ROOT / "coverage"))
        dump(work)
    elif args.what == "time":
        compare(work, [c.resolve() for c in (args.code or [ROOT / "coverage"])], args.rounds)
    else:
        print(json.dumps((steps if args.what == "_steps" else pictures)(work)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
