"""``hfcourse server start|stop|status``: the background check server (see hfcourse.server)."""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["register"]


def _cmd_server(args: argparse.Namespace) -> int:
    from hfcourse import server
    from hfcourse.paths import course_root

    root = course_root()
    if not server.enabled():
        print("the check server is off here (Linux only; HFCOURSE_SERVER=0 turns it off)", file=sys.stderr)
        return 2 if args.action == "start" else 0
    if args.action == "start":
        path = server.start(root, wait=True)
        print(f"check server ready on {path} (leaves after {server._idle_seconds():.0f} s without a check)")
        return 0
    if args.action == "stop":
        print("check server stopped" if server.stop(root) else "no check server runs for this checkout")
        return 0
    facts = server.status(root)
    if facts is None:
        print("no check server runs for this checkout: `hfcourse check` starts one (or `hfcourse server start`)")
        return 1
    up = time.time() - float(facts["started"])
    print(f"check server pid {facts['pid']} for {facts['root']}: up {up:.0f} s, {facts['checks']} command(s) served")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("server", help="the background server that makes `hfcourse check` fast: start, stop or status")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.set_defaults(func=_cmd_server)
