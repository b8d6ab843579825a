"""``carecover whatif``: add or remove sites in a meeting and see the coverage change at once.

假如……会怎样：在现状（或规划方案）上增加或撤销站点，立即给出覆盖率变化与边际增益。The options are
described in :data:`carecover.meeting.cli.WHATIF_DESCRIPTION` and ``docs/meetings.md``; the
computing is :class:`carecover.siting.whatif.Session`. This module parses, prints and keeps an
interactive session going.
"""

from __future__ import annotations

import argparse
import sys
import time

from carecover.errors import InputError
from carecover.meeting.common import command_start, run_main, tier_label
from carecover.meeting.sites import SiteNamer, people, points, share
from carecover.siting.whatif import POPULATIONS, Session

__all__ = ["main", "print_session", "run", "title"]

#: Short bilingual labels of the operations in the printed table.
OP_SHORT = {"add": "新增 add", "add-candidate": "新增候选\nadd cand.", "remove-existing": "撤销现有\nremove",
            "remove-candidate": "撤销规划\nremove plan"}
MODE_ZH = {"walk": "步行", "drive": "驾车"}


def _fmt(cov: float, tot: float, sep: str = "\n") -> str:
    """Covered share and whole people: ``5.8%\n(2,713 人)``."""
    return f"{share(cov / tot)}{sep}({people(cov)} 人)" if tot > 0 else "—"


def _signed(d: float, tot: float, sep: str = "\n") -> str:
    """A change in whole people and percentage points: ``+358 人\n(+9.0 百分点)``."""
    return f"{people(d, signed=True)} 人{sep}({points(d / tot)})" if tot > 0 else "—"


def title(st) -> str:
    """The table's title, naming the tier's real threshold and mode (never 一刻钟 for 5 minutes)."""
    zh, en = tier_label(st.tier)
    if not st.threshold_s:
        return f"假如…… {zh} / What if: {en}"
    thr = st.threshold_s / 60
    return (f"假如…… {zh}（{thr:g} 分钟{MODE_ZH.get(st.mode or '', st.mode or '')}可达）/ "
            f"What if: {en}, within {thr:g} min ({st.mode})")


def _site(x, namer: SiteNamer) -> str:
    """Where a step acts: ★rank or candidate and street, or the facility; with coordinates in
    the register's coordinate system."""
    if x.op in ("add-candidate", "remove-candidate"):
        where = namer.candidate(int(x.target))
    elif x.op == "add":
        street = namer.street(x.lon, x.lat)
        where = f"新增点 {street}".strip() if street else "新增点 new site"
    else:
        where = x.target
    xy = namer.coords(x.lon, x.lat)
    return f"{where}\n{xy}" if xy else where


def _table(s: Session, tot: dict[str, float], namer: SiteNamer | None = None):
    """The steps as a rich table, and the notes of the steps that have one."""
    from rich.table import Table

    st = s.state
    namer = namer or SiteNamer(st)
    t = Table(title=title(st), show_lines=False)
    for col, just in [("#", "right"), ("操作\naction", "left"), ("站点\nsite", "left"),
                      ("老年人覆盖\nelderly", "right"), ("变化\nΔ elderly", "right"),
                      ("总人口覆盖\ntotal", "right"), ("变化\nΔ total", "right")]:
        # a narrow terminal folds a site's street and coordinates onto more lines, never cuts them
        t.add_column(col, justify=just, overflow="fold")
    base_zh = {"current": "现状 current", "planned": f"规划 plan (+{len(st.chosen)})"}
    notes = []
    for i, x in enumerate(s.steps):
        if x.op == "base":
            t.add_row("0", "基准 base", base_zh.get(x.target, x.target), _fmt(x.covered["elderly"], tot["elderly"]),
                      "", _fmt(x.covered["total"], tot["total"]), "")
            continue
        if x.note:
            notes.append(f"[{i}] {x.note}")
        t.add_row(str(i), OP_SHORT[x.op], _site(x, namer), _fmt(x.covered["elderly"], tot["elderly"]),
                  _signed(x.delta["elderly"], tot["elderly"]), _fmt(x.covered["total"], tot["total"]),
                  _signed(x.delta["total"], tot["total"]))
    return t, notes


def _num(v, fmt: str = ",.1f", signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    return format(v, ("+" if signed else "") + fmt)


def _access_table(s: Session):
    """Accessibility and load after each step (E2SFCA, the tier's capacity rule), or ``None``."""
    from rich.table import Table

    if s.access is None:
        return None
    std = s.access.standard
    t = Table(title="可达性与负荷 / Accessibility and load (E2SFCA, " + s.access.decay.describe() + ")",
              show_lines=False)
    cols = [("#", "right"), ("每千老人名额\nplaces/1,000", "right"), ("Δ", "right")]
    if std is not None:
        cols += [(f"低于标准{std:g}\nbelow {std:g}", "right"), ("Δ", "right")]
    cols += [("基尼\nGini", "right"), ("Δ", "right"), ("超载设施\noverloaded", "right"),
             ("最大负荷\nmax load", "right"), ("该站负荷\nsite load", "right")]
    for col, just in cols:
        t.add_column(col, justify=just, overflow="fold")
    for i, x in enumerate(s.steps):
        a, d = x.access or {}, x.access_delta or {}
        row = [str(i), _num(a.get("places_per_1000")), _num(d.get("places_per_1000"), signed=True) if i else ""]
        if std is not None:
            row += [_num(a.get("share_below_standard"), ".1%"),
                    _num(d.get("share_below_standard"), ".1%", signed=True) if i else ""]
        row += [_num(a.get("gini"), ".3f"), _num(d.get("gini"), ".3f", signed=True) if i else "",
                str(a.get("overloaded", "—")), _num(a.get("max_load"), ".2f"), _num(a.get("site_load"), ".2f")]
        t.add_row(*row)
    return t


def print_session(s: Session, elapsed: float | None = None, namer: SiteNamer | None = None) -> None:
    """Print the steps of a session, the change before → after and (optionally) the time taken.

    Parameters
    ----------
    s
        The session.
    elapsed
        Seconds to report (``None``: no timing line).
    namer
        Names and coordinates of the sites (default: a :class:`SiteNamer` of the state).
    """
    from rich.console import Console

    st = s.state
    tot = {p: float(st.weights[p].sum()) for p in POPULATIONS}
    console = Console()
    table, notes = _table(s, tot, namer)
    console.print(table)
    for n in notes:
        console.print(n, style="dim")
    access = _access_table(s)
    if access is not None:
        console.print(access)
        console.print("负荷 = 按E2SFCA权重分配的老年人 ÷ 名额；新站点名额按配置 new_site；撤销时“该站负荷”为撤销前 / "
                      "load = elderly assigned by E2SFCA weights ÷ places; new sites get the config's new_site places; "
                      f"for a removal, site load is before it. {s.access.record.get('text', '')}", style="dim")
    b, a = s.steps[0].covered, s.steps[-1].covered
    console.print(
        f"之前 before：老年人 {_fmt(b['elderly'], tot['elderly'], ' ')}，总人口 {_fmt(b['total'], tot['total'], ' ')} → "
        f"之后 after：老年人 {_fmt(a['elderly'], tot['elderly'], ' ')}，总人口 {_fmt(a['total'], tot['total'], ' ')}；"
        f"合计变化 net change：老年人 {_signed(a['elderly'] - b['elderly'], tot['elderly'], ' ')}，"
        f"总人口 {_signed(a['total'] - b['total'], tot['total'], ' ')}")
    if st.region != "all":
        console.print(f"覆盖率按全区计；选址范围 {st.region} / shares over the whole study area; "
                      f"the plan sited this tier in region {st.region}", style="dim")
    if elapsed is not None:
        extra = f"，其中路网与路径 {s.route_s:.2f} s / routing new points {s.route_s:.2f} s" if s.route_s else ""
        console.print(f"用时 / elapsed: {elapsed:.2f} s{extra}")


def interactive(s: Session, lines=None, namer: SiteNamer | None = None) -> None:
    """Read operations until ``quit``; print the session after each.

    Parameters
    ----------
    s
        The session.
    lines
        Lines to read (default standard input): ``add LON,LAT``, ``add-candidate K``,
        ``remove-existing FID``, ``remove-candidate K``, ``reset`` or ``quit``; an input error
        is printed and skipped.
    namer
        Names and coordinates of the sites (one for the whole session).
    """
    namer = namer or SiteNamer(s.state)
    print("请输入操作（add 经度,纬度 | add-candidate K | remove-existing 设施编号 | remove-candidate K | reset 重置 | "
          "quit 退出）/ enter operations", file=sys.stderr)
    for line in sys.stdin if lines is None else lines:
        line = line.strip()
        if not line:
            continue
        if line in ("quit", "exit", "q", "退出"):
            break
        if line in ("reset", "重置"):
            s.reset()
            print_session(s, namer=namer)
            continue
        op, _, value = line.partition(" ")
        t = time.perf_counter()
        try:
            s.apply(op, value.strip())
        except InputError as exc:
            print(f"错误 / error: {exc}", file=sys.stderr)
            continue
        print_session(s, time.perf_counter() - t, namer)


def _crs(name: str | None) -> str:
    if not name:
        return "wgs84"
    from carecover.crs import normalize_crs_name

    try:
        return normalize_crs_name(name)
    except ValueError as exc:
        raise InputError(str(exc), field="crs") from exc


def run(args: argparse.Namespace) -> int:
    """Run ``whatif`` on parsed arguments (see :func:`carecover.meeting.cli.whatif_arguments`).

    Returns
    -------
    int
        0; input errors raise :class:`~carecover.errors.InputError` (exit status 2).
    """
    t0 = command_start()
    ops = args.ops or []
    if not ops and not args.interactive:
        args.usage_error("请至少给出一个操作 / give at least one of --add, --add-candidate, --remove-existing, "
                         "--remove-candidate (or --interactive)")
    crs = _crs(args.crs)
    base = args.base or ("planned" if any(op == "remove-candidate" for op, _ in ops) else "current")
    from carecover.meeting.derived import load_any_state

    state = load_any_state(args.out, args.tier)
    if getattr(args, "network", None) is not None:
        state.use_network(args.network)
    s = Session(state, base=base, crs=crs)
    for op, value in ops:
        s.apply(op, value)
    namer = SiteNamer(s.state)
    print_session(s, time.perf_counter() - t0, namer)
    if args.interactive:
        interactive(s, namer=namer)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``scripts/whatif.py``: parse ``argv``, run, and map input errors to exit status 2."""
    from carecover.meeting.cli import build_parser

    return run_main(build_parser("whatif"), run, argv)
