"""What-if in a meeting: add or remove sites and see the coverage change at once.

假如……会怎样：在现状（或规划方案）上增加或撤销站点，立即给出覆盖率变化与边际增益。

Works on a plan's prepared state (``state/<tier>.npz``, written by ``carecover plan --suggest``):
existing facilities and candidate sites already have their coverage rows, so adding a candidate
or removing a facility is instant. A new site at any longitude/latitude is snapped onto the same
street network (loaded from the network cache) and routed with the same engine against the same
demand points, so its figure is what a full re-run of the plan would give.

Operations are applied in the order given; each line shows its marginal change:

* ``--add LON,LAT`` 新增任意位置站点 (WGS-84 unless ``--crs gcj02|bd09``: Gaode/Tencent/Baidu)
* ``--add-candidate K`` 新增候选点 K (candidate index, see ``export_rankings.py``; or ``node:N``)
* ``--remove-existing FID`` 撤销现有设施 (facility id as in the register, or its index)
* ``--remove-candidate K`` 撤销规划站点 K (implies ``--base planned``)

``--base planned`` starts from the plan (existing + the solver's chosen sites) instead of today.
``--interactive`` keeps the network loaded and reads further operations from standard input
(``add 111.70,40.82`` / ``add-candidate 12`` / ``remove-existing S001`` / ``remove-candidate 3`` /
``reset`` / ``quit``), each answered in milliseconds.

Usage::

    python scripts/whatif.py --out maps/demo --tier street_centre --add 24.9425,60.1660
    python scripts/whatif.py --out maps/demo --tier street_centre --remove-existing S001
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from carecover.errors import InputError  # noqa: E402
from carecover.siting.state import POPULATIONS, PreparedState, load_state, tier_label  # noqa: E402

OPS = ("add", "add-candidate", "remove-existing", "remove-candidate")
OP_ZH = {"add": "新增站点", "add-candidate": "新增候选点", "remove-existing": "撤销现有设施",
         "remove-candidate": "撤销规划站点", "base": "基准"}
OP_SHORT = {"add": "新增 add", "add-candidate": "新增候选\nadd cand.", "remove-existing": "撤销现有\nremove",
            "remove-candidate": "撤销规划\nremove plan"}


@dataclass
class Step:
    """One applied operation and the coverage after it."""

    op: str
    target: str
    row: int | None
    covered: dict[str, float]
    delta: dict[str, float]
    note: str = ""
    lon: float | None = None
    lat: float | None = None


@dataclass
class Session:
    """A what-if session on one tier: the open sites and the coverage after each step.

    Coverage is kept per demand point as the number of open sites reaching it, so each step
    only touches the demand its site reaches (as :class:`carecover.siting.model.WhatIf`), for both the
    elderly and the total population.
    """

    state: PreparedState
    base: str = "current"
    crs: str = "wgs84"
    extra_rows: list[sp.csr_matrix] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    route_s: float = 0.0

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        st = self.state
        rows = st.planned_rows() if self.base == "planned" else st.existing_rows()
        self.open: set[int] = {int(r) for r in rows}
        self.counts = np.zeros(st.n_demand, np.int32)
        for r in self.open:
            self.counts[self._cols(r)] += 1
        self.steps = [Step("base", self.base, None, self._covered(), {p: 0.0 for p in POPULATIONS})]

    # rows beyond the state's matrix are new points routed in this session
    def _cols(self, r: int) -> np.ndarray:
        M = self.state.matrix
        if r < M.shape[0]:
            return M.indices[M.indptr[r]:M.indptr[r + 1]]
        return self.extra_rows[r - M.shape[0]].indices

    def _covered(self) -> dict[str, float]:
        c = self.counts > 0
        return {p: float(self.state.weights[p][c].sum()) for p in POPULATIONS}

    def _apply(self, op: str, target: str, row: int, opening: bool, note: str = "",
               lon: float | None = None, lat: float | None = None) -> Step:
        before = self.steps[-1].covered
        cols = self._cols(row)
        if opening:
            self.counts[cols] += 1
            self.open.add(row)
        else:
            self.counts[cols] -= 1
            self.open.discard(row)
        after = self._covered()
        step = Step(op, target, row, after, {p: after[p] - before[p] for p in POPULATIONS}, note, lon, lat)
        self.steps.append(step)
        return step

    def apply(self, op: str, value: str) -> Step:
        """Apply one operation (see the module docstring)."""
        st = self.state
        if op == "add":
            lon, lat = parse_lonlat(value, self.crs)
            t = time.perf_counter()
            rows, snap = st.route_points([lon], [lat])
            self.route_s += time.perf_counter() - t
            if not snap.ok[0] and _swapped_fits(st, lon, lat):
                raise InputError(f"{value!r} lies off the network but {lat},{lon} is on it: latitude and "
                                 "longitude swapped? / 经纬度是否颠倒？", field="add", expected="LON,LAT (longitude first)")
            self.extra_rows.append(rows[0])
            r = st.matrix.shape[0] + len(self.extra_rows) - 1
            if snap.ok[0]:
                note = f"距路网 {snap.dist[0]:.0f} 米 / {snap.dist[0]:.0f} m from the street"
            else:
                note = (f"未接入路网：距离 {snap.dist[0]:.0f} 米超过 {snap.max_snap_m:.0f} 米，不覆盖任何人 / "
                        f"not on the network: {snap.dist[0]:.0f} m > {snap.max_snap_m:.0f} m, reaches no one")
            return self._apply(op, value, r, True, note, lon, lat)
        if op == "add-candidate":
            k = st.find_candidate(value)
            r = st.candidate_row(k)
            if r in self.open:
                raise InputError(f"candidate {k} is already open / 候选点 {k} 已在方案中", field=op)
            return self._apply(op, str(k), r, True, "", float(st.cand_lon[k]), float(st.cand_lat[k]))
        if op == "remove-existing":
            r = st.find_existing(value)
            label = f"{st.existing_fid[r]} {st.existing_name[r]}".strip()
            if r not in self.open:
                why = "未接入路网 / not on the network" if not st.existing_ok[r] else "已撤销 / already removed"
                raise InputError(f"existing facility {label} is not in use ({why}) / 该设施不在方案中", field=op)
            lon = None if st.existing_lon is None else float(st.existing_lon[r])
            lat = None if st.existing_lat is None else float(st.existing_lat[r])
            return self._apply(op, label, r, False, "", lon, lat)
        if op == "remove-candidate":
            k = st.find_candidate(value)
            r = st.candidate_row(k)
            if r not in self.open:
                raise InputError(f"candidate {k} is not open (planned sites: {st.chosen.tolist()}; "
                                 "use --base planned) / 该候选点不在方案中", field=op)
            return self._apply(op, str(k), r, False, "", float(st.cand_lon[k]), float(st.cand_lat[k]))
        raise InputError(f"unknown operation {op!r} / 未知操作", field="operation", expected=", ".join(OPS))


def _swapped_fits(st: PreparedState, lon: float, lat: float) -> bool:
    """Whether ``lat,lon`` (the pair swapped) would snap onto the network."""
    if not (-90 <= lon <= 90):
        return False
    from carecover.network.snap import snap_lonlat

    net = st.network()
    return bool(snap_lonlat(net, [lat], [lon], float(st.extra.get("max_snap_m", 300.0))).ok[0])


def parse_lonlat(text: str, crs: str = "wgs84") -> tuple[float, float]:
    """``"LON,LAT"`` → WGS-84 (lon, lat), converting from GCJ-02/BD-09 when asked."""
    parts = str(text).replace("，", ",").replace(" ", "").split(",")
    try:
        lon, lat = (float(v) for v in parts)
    except ValueError as exc:
        raise InputError(f"expected LON,LAT, got {text!r} / 坐标格式应为 经度,纬度", field="add",
                         expected="e.g. 111.70,40.82") from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"{text!r} is not a longitude,latitude pair / 经纬度超出范围", field="add",
                         expected="LON in -180..180, LAT in -90..90 (longitude first)")
    if crs != "wgs84":
        from carecover.crs import to_wgs84

        x, y = to_wgs84(np.array([lon]), np.array([lat]), crs)
        lon, lat = float(x[0]), float(y[0])
    return lon, lat


def _fmt(cov: float, tot: float, sep: str = "\n") -> str:
    return f"{cov / tot:.2%}{sep}({cov:,.0f})" if tot > 0 else "—"


def _signed(d: float, tot: float, sep: str = "\n") -> str:
    return f"{d:+,.1f}{sep}({d / tot:+.2%})" if tot > 0 else "—"


def print_session(s: Session, elapsed: float | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    st = s.state
    zh, en = tier_label(st.tier)
    tot = {p: float(st.weights[p].sum()) for p in POPULATIONS}
    thr = f"{st.threshold_s / 60:g} 分钟 / min ({st.mode})" if st.threshold_s else ""
    console = Console()
    t = Table(title=f"假如…… / What if: {zh} / {en}, {thr}", show_lines=False)
    for col, just in [("#", "right"), ("操作\naction", "left"), ("站点\nsite", "left"),
                      ("老年人覆盖\nelderly", "right"), ("边际\nΔ elderly", "right"),
                      ("总人口覆盖\ntotal", "right"), ("边际\nΔ total", "right")]:
        t.add_column(col, justify=just)
    base_zh = {"current": "现状 current", "planned": f"规划 plan (+{len(st.chosen)})"}
    notes = []
    for i, x in enumerate(s.steps):
        if x.op == "base":
            t.add_row("0", "基准 base", base_zh.get(x.target, x.target), _fmt(x.covered["elderly"], tot["elderly"]),
                      "", _fmt(x.covered["total"], tot["total"]), "")
            continue
        where = x.target
        if x.lon is not None and x.op != "add":
            where += f"\n{x.lon:.6f},{x.lat:.6f}"
        if x.note:
            notes.append(f"[{i}] {x.note}")
        t.add_row(str(i), OP_SHORT[x.op], where, _fmt(x.covered["elderly"], tot["elderly"]),
                  _signed(x.delta["elderly"], tot["elderly"]), _fmt(x.covered["total"], tot["total"]),
                  _signed(x.delta["total"], tot["total"]))
    console.print(t)
    for n in notes:
        console.print(n, style="dim")
    b, a = s.steps[0].covered, s.steps[-1].covered
    console.print(
        f"之前 before: 老年人 {_fmt(b['elderly'], tot['elderly'], ' ')}，总人口 {_fmt(b['total'], tot['total'], ' ')} → "
        f"之后 after: 老年人 {_fmt(a['elderly'], tot['elderly'], ' ')}，总人口 {_fmt(a['total'], tot['total'], ' ')}；"
        f"合计变化 net change: 老年人 elderly {_signed(a['elderly'] - b['elderly'], tot['elderly'], ' ')}，"
        f"总人口 total {_signed(a['total'] - b['total'], tot['total'], ' ')}")
    if st.region != "all":
        console.print(f"覆盖率按全区计；选址范围 {st.region} / shares over the whole study area; "
                      f"the plan sited this tier in region {st.region}", style="dim")
    if elapsed is not None:
        extra = f"，其中路网与路径 {s.route_s:.2f} s / routing new points {s.route_s:.2f} s" if s.route_s else ""
        console.print(f"用时 / elapsed: {elapsed:.2f} s{extra}")


def _interactive(s: Session) -> None:
    print("输入操作（add LON,LAT | add-candidate K | remove-existing FID | remove-candidate K | reset | quit）/ "
          "enter operations", file=sys.stderr)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if line in ("quit", "exit", "q", "退出"):
            break
        if line in ("reset", "重置"):
            s.reset()
            print_session(s)
            continue
        op, _, value = line.partition(" ")
        t = time.perf_counter()
        try:
            s.apply(op, value.strip())
        except InputError as exc:
            print(f"错误 / error: {exc}", file=sys.stderr)
            continue
        print_session(s, time.perf_counter() - t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="plan 的输出目录 / a `carecover plan` output folder")
    ap.add_argument("--tier", required=True, help="层级 / tier key, e.g. street_centre")
    for op, help_text in [("add", "新增站点 经度,纬度 / new site at LON,LAT"),
                          ("add-candidate", "新增候选点 / open candidate K"),
                          ("remove-existing", "撤销现有设施 / close existing facility (id or index)"),
                          ("remove-candidate", "撤销规划站点 / close planned candidate K")]:
        ap.add_argument(f"--{op}", dest="ops", action="append", default=None, metavar="VALUE",
                        type=lambda v, op=op: (op, v), help=help_text)
    ap.add_argument("--base", choices=["current", "planned"],
                    help="基准：现状或规划方案 / start from today (default) or from the plan")
    ap.add_argument("--crs", default="wgs84", help="--add 坐标系 wgs84|gcj02|bd09 / coordinates of --add")
    ap.add_argument("--interactive", action="store_true", help="继续从标准输入读取操作 / read more operations from stdin")
    args = ap.parse_args(argv)
    ops = args.ops or []
    if not ops and not args.interactive:
        ap.error("give at least one of --add, --add-candidate, --remove-existing, --remove-candidate "
                 "(or --interactive) / 请至少给出一个操作")
    try:
        crs = "wgs84"
        if args.crs:
            from carecover.crs import normalize_crs_name

            try:
                crs = normalize_crs_name(args.crs)
            except ValueError as exc:
                raise InputError(str(exc), field="crs") from exc
        base = args.base or ("planned" if any(op == "remove-candidate" for op, _ in ops) else "current")
        state = load_state(args.out, args.tier)
        s = Session(state, base=base, crs=crs)
        for op, value in ops:
            s.apply(op, value)
        print_session(s, time.perf_counter() - T0)
        if args.interactive:
            _interactive(s)
    except InputError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
