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


def build_room(out: str | Path, network: str | Path | None = None, tiers=None) -> Room:
    """The meeting's tiers from a plan output folder, networks loaded and warm.

    Parameters
    ----------
    out
        The plan's output folder.
    network
        Another copy of the plan's OSM file (its content must match the plan's).
    tiers
        Tier keys to load (default: every tier with a prepared state).
    """
    from carecover.siting.state import load_state, load_summary, state_files

    out = Path(out)
    if not out.is_dir():
        raise InputError(f"找不到输出目录 / no such output folder: {out.resolve()}", file=out.resolve())
    files = state_files(out)
    if not files:
        raise InputError(f"该目录没有选址状态 / no prepared state in {(out / 'state').resolve()} (run `carecover plan "
                         "--suggest TIER=N` first)", file=(out / "state").resolve())
    summary = load_summary(out)
    rooms, states = {}, {}
    for key in tiers or files:
        st = load_state(out, key, summary=summary)
        if network is not None:
            st.use_network(network)
        t = TierRoom(st, SiteNamer(st))
        t.warm()
        rooms[key], states[key] = t, st
    later = {key: partial(_derived_room, out, key, sibling) for key, sibling in unsited_tiers(out, states).items()
             if tiers is None or key in tiers}
    return Room(rooms, later)


def _derived_room(out: Path, key: str, sibling) -> TierRoom:
    """The room of a tier the plan did not site (routed on first use)."""
    st = derived_state(out, key, sibling)
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
    room = build_room(args.out, args.network)
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
    try:
        served.run()
    except KeyboardInterrupt:
        pass
    print("Meeting room closed." if en else "会议室已关闭。", file=sys.stderr)
    return 0
