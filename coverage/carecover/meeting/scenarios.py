"""``carecover scenarios``: coverage of the current and planned scenarios, side by side.

情景对比：现状、加上各层级规划站点、全部规划——老年人口与总人口的覆盖率和人数。Scenarios and columns are
described in :data:`carecover.meeting.cli.SCENARIOS_DESCRIPTION` and ``docs/meetings.md``;
coverage comes from :class:`carecover.siting.whatif.Session` (no re-routing).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from carecover.errors import InputError
from carecover.meeting.common import command_start, refuse_own_inputs, run_main, tier_label
from carecover.meeting.sites import people, share
from carecover.siting.prepared import PreparedState
from carecover.siting.whatif import POPULATIONS, Session
from carecover.summary_file import SummaryFile

__all__ = ["ANY", "CSV_COLUMNS", "main", "print_table", "run", "scenarios", "title", "write_csv"]

MODE_ZH = {"walk": "步行", "drive": "驾车"}

#: The ``tier`` of the "any of these tiers" column.
ANY = "any"
#: Columns of ``scenarios.csv`` in order.
CSV_COLUMNS = ["scenario", "scenario_zh", "scenario_en", "tier", "tier_zh", "sites_added",
               "elderly_covered", "elderly_total", "elderly_share",
               "pop_covered", "pop_total", "pop_share", "threshold_min", "mode"]


def _aligned(states: dict[str, PreparedState]) -> bool:
    """Whether every state has the same demand points in the same order (so "any" is defined)."""
    if len({s.n_demand for s in states.values()}) != 1:
        return False
    ids = [s.demand_cell_id for s in states.values() if s.demand_cell_id is not None]
    return all(np.array_equal(ids[0], i) for i in ids[1:])


def _specs(states: dict[str, PreparedState]) -> list[tuple[str, str, str, dict[str, bool]]]:
    """``(id, Chinese, English, {tier: planned?})`` of every scenario."""
    keys = list(states)
    specs = [("current", "现状", "current", {k: False for k in keys})]
    for k in keys:
        zh, en = tier_label(k)
        c = len(states[k].chosen)
        specs.append((f"planned:{k}", f"现状 + 规划{zh} {c} 处", f"current + {c} planned {en}",
                      {j: j == k for j in keys}))
    if len(keys) > 1:
        specs.append(("planned:all", "全部规划", "all planned", {k: True for k in keys}))
    return specs


def _row(sid: str, zh: str, en: str, key: str, mask: np.ndarray, weights: dict, n_added: int,
         st: PreparedState | None) -> dict:
    r = {"scenario": sid, "scenario_zh": zh, "scenario_en": en, "tier": key,
         "tier_zh": "任一所选层级" if key == ANY else tier_label(key)[0], "sites_added": n_added,
         "threshold_min": None if st is None or st.threshold_s is None else st.threshold_s / 60,
         "mode": None if st is None else st.mode}
    for pop, col in zip(POPULATIONS, ("elderly", "pop"), strict=True):
        w = weights[pop]
        tot = float(w.sum())
        cov = float(w[mask].sum())
        r[f"{col}_covered"] = cov
        r[f"{col}_total"] = tot
        r[f"{col}_share"] = cov / tot if tot > 0 else float("nan")
    return r


def scenarios(states: dict[str, PreparedState]) -> list[dict]:
    """Scenario rows: one per scenario × tier (plus ``any`` with several aligned tiers).

    Parameters
    ----------
    states
        ``{tier: prepared state}`` in display order.

    Returns
    -------
    list of dict
        Keys as :data:`CSV_COLUMNS`; counts are weights (people), shares 0..1.
    """
    keys = list(states)
    aligned = _aligned(states)
    cur = {k: Session(s).covered_mask() for k, s in states.items()}
    planned = {k: Session(s, base="planned").covered_mask() for k, s in states.items()}
    rows = []
    for sid, zh, en, use in _specs(states):
        masks = {k: planned[k] if use[k] else cur[k] for k in keys}
        added = {k: len(states[k].chosen) if use[k] else 0 for k in keys}
        for k in keys:
            rows.append(_row(sid, zh, en, k, masks[k], states[k].weights, added[k], states[k]))
        if len(keys) > 1 and aligned:
            rows.append(_row(sid, zh, en, ANY, np.any([masks[k] for k in keys], axis=0),
                             states[keys[0]].weights, sum(added.values()), None))
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    """Write ``scenarios.csv``: UTF-8 with BOM, counts rounded to 0.1 person, shares to 1e-6.

    Parameters
    ----------
    rows
        Rows of :func:`scenarios`.
    path
        Target file (written atomically).
    """
    from carecover.utils import atomic_write

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


def _cell(value: float, count: float) -> str:
    return f"{share(value)}\n({people(count)} 人)" if np.isfinite(value) else "—"


def title(states: dict[str, PreparedState]) -> str:
    """The table's title, naming the tiers' real thresholds (never 一刻钟 for a 5-minute run)."""
    thr = sorted({st.threshold_s / 60 for st in states.values() if st.threshold_s})
    if len(thr) == 1:
        return (f"情景对比：{thr[0]:g} 分钟内覆盖率 / Scenario comparison: coverage within {thr[0]:g} min")
    return "情景对比：各层级阈值内覆盖率 / Scenario comparison: coverage within each tier's threshold"


def _notes(states: dict[str, PreparedState], summary: dict) -> list[str]:
    run = SummaryFile.of(summary)
    speed, eld, tot = run.speed_mps, run.total_elderly, run.total_pop
    notes = [f"全区老年人 {eld:,.0f} 人，总人口 {tot:,.0f} 人；步行速度 {speed} 米/秒 / study area elderly "
             f"{eld:,.0f}, total {tot:,.0f}; walking speed {speed} m/s"]
    for k, st in states.items():
        if st.region != "all":
            notes.append(f"{tier_label(k)[0]} 选址范围 {st.region}（覆盖率按全区计）/ {k} sited in region "
                         f"{st.region} (shares over the whole area)")
    if run.sample_data:
        notes.append(run.sample_data)
    return notes


def print_table(rows: list[dict], states: dict[str, PreparedState], summary: dict) -> None:
    """Print the scenarios as a table (a column pair per tier) with the notes under it.

    Parameters
    ----------
    rows
        Rows of :func:`scenarios`.
    states
        The states they came from (thresholds, regions).
    summary
        ``summary.json`` (population totals, speed, sample-data note).
    """
    from rich.console import Console
    from rich.table import Table

    console = Console()
    tiers = list(dict.fromkeys(r["tier"] for r in rows))
    t = Table(title=title(states), show_lines=True)
    t.add_column("情景 / Scenario", no_wrap=False)
    for k in tiers:
        if k == ANY:
            head = "任一所选层级\nany of these tiers"
        else:
            zh, en = tier_label(k)
            st = states[k]
            thr = f"{st.threshold_s / 60:g} 分钟 min {MODE_ZH.get(st.mode or '', '')} {st.mode or ''}" \
                if st.threshold_s else ""
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
    for n in _notes(states, summary):
        console.print(n, style="dim")


def run(args: argparse.Namespace) -> int:
    """Run ``scenarios`` on parsed arguments (see :func:`carecover.meeting.cli.scenarios_arguments`).

    Returns
    -------
    int
        0; input errors raise :class:`~carecover.errors.InputError` (exit status 2).
    """
    from carecover.siting.state import load_state, load_summary, state_files

    t0 = command_start()
    summary = load_summary(args.out)
    tiers = args.tier or list(state_files(args.out))
    if not tiers:
        raise InputError("没有选址状态，请先运行带 --suggest 的 plan / no prepared state: run "
                         "`carecover plan --suggest TIER=N` first", file=Path(args.out) / "state")
    states: dict[str, PreparedState] = {}
    for t in tiers:
        st = load_state(args.out, t, summary=summary)
        states[st.tier] = st
    rows = scenarios(states)
    path = args.csv or Path(args.out) / "scenarios.csv"
    refuse_own_inputs(path, args.out)
    write_csv(rows, path)
    print_table(rows, states, summary)
    print(f"→ {path}")
    print(f"用时 / elapsed: {time.perf_counter() - t0:.2f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``scripts/compare_scenarios.py``: parse ``argv``, run, and map input errors to exit status 2."""
    from carecover.meeting.cli import build_parser

    return run_main(build_parser("scenarios"), run, argv)
