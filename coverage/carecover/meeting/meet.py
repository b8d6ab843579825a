"""``carecover meet``: the live meeting room — a map on which each click answers at once.

Loads every tier's prepared state of a plan output folder and its street network once, warm,
then serves one page on 127.0.0.1 (:mod:`carecover.meeting.server`) with a per-session token,
opens the browser and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import webbrowser
from functools import partial
from pathlib import Path

from carecover.errors import InputError
from carecover.meeting.derived import derived_state, unsited_tiers
from carecover.meeting.room import Room, TierRoom
from carecover.meeting.sites import SiteNamer

__all__ = ["build_room", "run"]


def build_room(out: str | Path, network: str | Path | None = None, tiers=None, first: str | None = None) -> Room:
    """The meeting's tiers from a plan output folder: the first loaded and warm now, the others
    when first asked for (or by :meth:`~carecover.meeting.room.Room.warm_later` in the background).

    Parameters
    ----------
    out
        The plan's output folder.
    network
        Another copy of the plan's OSM file (its content must match the plan's).
    tiers
        Tier keys to offer (default: every tier with a prepared state, then every other tier
        with facilities).
    first
        The tier loaded first (default: the first with a prepared state).
    """
    from carecover.siting.state import load_summary, state_files
    from carecover.tiers import tier_key

    out = Path(out)
    if not out.is_dir():
        raise InputError(f"找不到输出目录 / no such output folder: {out.resolve()}", file=out.resolve())
    files = state_files(out)
    if not files:
        raise InputError(f"该目录没有选址状态 / no prepared state in {(out / 'state').resolve()} (run `carecover plan "
                         "--suggest TIER=N` first)", file=(out / "state").resolve())
    summary = load_summary(out)
    wanted = [tier_key(k) or k for k in tiers] if tiers else None
    factories = {key: partial(_sited_room, out, key, summary, network) for key in files}
    room = Room({}, {})
    for key, sibling in unsited_tiers(out, list(files), summary).items():
        factories[key] = partial(_derived_room, out, key, room, sibling)
    order = [k for k in factories if wanted is None or k in wanted]
    if not order:
        raise InputError("没有可讨论的层级 / none of these tiers can be discussed", field="tier",
                         expected=", ".join(factories))
    start = tier_key(first) or first if first else order[0]
    if start not in order:
        raise InputError(f"没有该层级 / no tier {first!r}", field="tier", expected=", ".join(order))
    room.tiers[start] = factories[start]()
    room.later = {k: factories[k] for k in order if k != start}
    return room


def _sited_room(out: Path, key: str, summary: dict, network) -> TierRoom:
    """The room of a tier with a prepared state, its network loaded and indexed."""
    from carecover.siting.state import load_state

    st = load_state(out, key, summary=summary)
    if network is not None:
        st.use_network(network)
    t = TierRoom(st, SiteNamer(st))
    t.warm()
    return t


def _derived_room(out: Path, key: str, room: Room, sibling: str) -> TierRoom:
    """The room of a tier the plan did not site (routed on the sibling tier's network)."""
    st = derived_state(out, key, room.tier(sibling).state)
    return TierRoom(st, SiteNamer(st))


def _pdf(served, url: str, args: argparse.Namespace) -> int:
    """``--pdf``: serve in the background, print the handout, stop."""
    from carecover.meeting.handout import print_handout

    served.start()
    try:
        path = print_handout(url, args.pdf, args.tier)
    finally:
        served.stop()
    print(f"讲义已写出 / handout written: {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``carecover meet`` on parsed arguments (see :func:`carecover.meeting.cli.meet_arguments`)."""
    from carecover.meeting.server import Served, build_app, new_token

    t0 = time.perf_counter()
    lang = getattr(args, "lang", None) or "zh"
    room = build_room(args.out, args.network, first=args.tier)
    token = new_token()
    served = Served(build_app(room, token, lang, tiles=args.tiles), args.port)
    url = served.url(token)
    if args.pdf is not None:
        return _pdf(served, url, args)
    en = lang == "en"

    def announce() -> None:
        while not served.server.started:
            time.sleep(0.02)
        ready = time.perf_counter() - t0
        print(("Meeting room ready in {:.1f} s: {}" if en else "会议室已就绪（{:.1f} 秒）：{}").format(ready, url),
              flush=True)
        print("Press Ctrl-C to stop." if en else "按 Ctrl-C 结束。", flush=True)
        if not args.no_browser:
            webbrowser.open(url + (f"&tier={args.tier}" if args.tier else ""))

    threading.Thread(target=announce, daemon=True).start()
    threading.Thread(target=room.warm_later, daemon=True).start()
    try:
        served.run()
    except KeyboardInterrupt:
        pass
    print("Meeting room closed." if en else "会议室已关闭。", file=sys.stderr)
    return 0
