"""Compare coverage scenarios from a plan's prepared state (no re-routing): for meetings.

情景对比：现状、加上各层级规划站点、全部规划——老年人口与总人口的覆盖率和人数。

Scenarios, for the tiers sited by ``carecover plan --suggest`` (``state/<tier>.npz``):

* 现状 current — the existing facilities;
* 现状 + 规划<层级> current + planned sites of one tier (the exact solver's choice, the same
  sites as ``sites.csv``), the other tiers as they are;
* 全部规划 all planned — the planned sites of every tier at once (when more than one tier).

For each scenario and tier: elderly (60+) and total population within the tier's threshold,
share and count, over the whole study area (the plan's ``area = all`` figures); with several
tiers also "any of them" (a resident counts once if any tier reaches them). Writes
``scenarios.csv`` (UTF-8 with BOM, opens in Excel) into the output folder.

Usage::

    python scripts/compare_scenarios.py --out maps/demo
    python scripts/compare_scenarios.py --out out --tier street_centre --tier township_centre
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import csv  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from carecover.errors import InputError  # noqa: E402
from carecover.siting.state import (  # noqa: E402
    POPULATIONS,
    PreparedState,
    load_state,
    load_summary,
    state_files,
    tier_label,
)
from carecover.utils import atomic_write  # noqa: E402

ANY = "any"
CSV_COLUMNS = ["scenario", "scenario_zh", "scenario_en", "tier", "tier_zh", "sites_added",
               "elderly_covered", "elderly_total", "elderly_share",
               "pop_covered", "pop_total", "pop_share", "threshold_min", "mode"]


def scenarios(states: dict[str, PreparedState]) -> list[dict]:
    """Scenario rows: one per scenario × tier (plus ``any`` with several tiers).

    Returns
    -------
    list of dict
        Keys as :data:`CSV_COLUMNS`; counts are weights (people), shares 0..1.
    """
    keys = list(states)
    n = {s.n_demand for s in states.values()}
    aligned = len(n) == 1
    if aligned and len(keys) > 1:
        ids = [s.demand_cell_id for s in states.values() if s.demand_cell_id is not None]
        aligned = all(np.array_equal(ids[0], i) for i in ids[1:])
    cur = {k: s.covered(s.existing_rows()) for k, s in states.items()}
    planned = {k: s.covered(s.planned_rows()) for k, s in states.items()}
    specs: list[tuple[str, str, str, dict[str, bool]]] = [
        ("current", "现状", "current", {k: False for k in keys})]
    for k in keys:
        zh, en = tier_label(k)
        c = len(states[k].chosen)
        specs.append((f"planned:{k}", f"现状 + 规划{zh} {c} 处", f"current + {c} planned {en}",
                      {j: j == k for j in keys}))
    if len(keys) > 1:
        specs.append(("planned:all", "全部规划", "all planned", {k: True for k in keys}))
    rows = []
    for sid, zh, en, use in specs:
        masks = {k: planned[k] if use[k] else cur[k] for k in keys}
        added = {k: len(states[k].chosen) if use[k] else 0 for k in keys}
        parts = [(k, masks[k], states[k].weights, added[k], states[k]) for k in keys]
        if len(keys) > 1 and aligned:
            first = states[keys[0]]
            parts.append((ANY, np.any([masks[k] for k in keys], axis=0), first.weights,
                          sum(added.values()), None))
        for key, mask, weights, nadd, st in parts:
            r = {"scenario": sid, "scenario_zh": zh, "scenario_en": en, "tier": key,
                 "tier_zh": "任一所选层级" if key == ANY else tier_label(key)[0], "sites_added": nadd,
                 "threshold_min": None if st is None or st.threshold_s is None else st.threshold_s / 60,
                 "mode": None if st is None else st.mode}
            for pop, col in zip(POPULATIONS, ("elderly", "pop"), strict=True):
                w = weights[pop]
                tot = float(w.sum())
                cov = float(w[mask].sum())
                r[f"{col}_covered"] = cov
                r[f"{col}_total"] = tot
                r[f"{col}_share"] = cov / tot if tot > 0 else float("nan")
            rows.append(r)
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    """``scenarios.csv``: UTF-8 with BOM, counts rounded to 0.1 person, shares to 1e-6."""
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(CSV_COLUMNS)
        for r in rows:
            out = []
            for c in CSV_COLUMNS:
                v = r.get(c)
                if isinstance(v, float):
                    v = "" if not np.isfinite(v) else round(v, 6 if c.endswith("share") else 1)
                out.append("" if v is None else v)
            w.writerow(out)


def _cell(share: float, count: float) -> str:
    return f"{share:.1%}\n({count:,.0f})" if np.isfinite(share) else "—"


def print_table(rows: list[dict], states: dict[str, PreparedState], summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    tiers = list(dict.fromkeys(r["tier"] for r in rows))
    title = "情景对比：一刻钟覆盖率 / Scenario comparison: coverage within the threshold"
    t = Table(title=title, show_lines=True)
    t.add_column("情景 / Scenario", no_wrap=False)
    for k in tiers:
        if k == ANY:
            head = "任一所选层级\nany of these tiers"
        else:
            zh, en = tier_label(k)
            st = states[k]
            thr = f"{st.threshold_s / 60:g} 分钟 min {st.mode or ''}" if st.threshold_s else ""
            head = f"{zh}\n{en}\n{thr}"
        t.add_column(f"{head}\n老年人 elderly", justify="right")
        t.add_column("总人口\ntotal", justify="right")
    for sid in dict.fromkeys(r["scenario"] for r in rows):
        rs = {r["tier"]: r for r in rows if r["scenario"] == sid}
        first = next(iter(rs.values()))
        cells = [f"{first['scenario_zh']}\n{first['scenario_en']}"]
        for k in tiers:
            r = rs[k]
            cells += [_cell(r["elderly_share"], r["elderly_covered"]), _cell(r["pop_share"], r["pop_covered"])]
        t.add_row(*cells)
    console.print(t)
    pop = summary.get("population") or {}
    speed = (summary.get("parameters") or {}).get("speed_mps")
    notes = [f"全区老年人 {pop.get('total_elderly', float('nan')):,.0f} 人，总人口 {pop.get('total_pop', float('nan')):,.0f} 人；"
             f"步行速度 {speed} 米/秒 / study area elderly {pop.get('total_elderly', float('nan')):,.0f}, "
             f"total {pop.get('total_pop', float('nan')):,.0f}; walking speed {speed} m/s"]
    for k, st in states.items():
        if st.region != "all":
            notes.append(f"{tier_label(k)[0]} 选址范围 {st.region}（覆盖率按全区计）/ {k} sited in region "
                         f"{st.region} (shares over the whole area)")
    if summary.get("sample_data"):
        notes.append(str(summary["sample_data"]))
    for n in notes:
        console.print(n, style="dim")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="plan 的输出目录 / a `carecover plan` output folder")
    ap.add_argument("--tier", action="append", default=[],
                    help="层级（可多次，默认全部已选址层级）/ tier key (repeatable; default: every sited tier)")
    ap.add_argument("--csv", type=Path, help="CSV 路径（默认 OUT/scenarios.csv）/ CSV path")
    args = ap.parse_args(argv)
    try:
        summary = load_summary(args.out)
        tiers = args.tier or list(state_files(args.out))
        if not tiers:
            raise InputError("no prepared state: run `carecover plan --suggest TIER=N` first / "
                             "没有选址状态，请先运行带 --suggest 的 plan", file=Path(args.out) / "state")
        states: dict[str, PreparedState] = {}
        for t in tiers:
            st = load_state(args.out, t, summary=summary)
            states[st.tier] = st
        rows = scenarios(states)
        path = args.csv or Path(args.out) / "scenarios.csv"
        write_csv(rows, path)
        print_table(rows, states, summary)
        print(f"→ {path}")
        print(f"用时 / elapsed: {time.perf_counter() - T0:.2f} s")
    except InputError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
