"""``hfcourse server start|stop|status``: the background check server (see hfcourse.server).

There is one server per checkout, whoever started it (a terminal, a redirected check, a notebook's
check cell); ``status`` and ``stop`` see every server of the checkout that answers."""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["register", "MESSAGES"]

MESSAGES: dict[str, tuple[str, str]] = {
    "off": ("the check server is off here (Linux only; HFCOURSE_SERVER=0 turns it off)",
            "这里不使用检查服务（仅限 Linux；HFCOURSE_SERVER=0 会关闭它）"),
    "ready": ("check server ready on {path} (leaves after {idle:.0f} s without a check)",
              "检查服务已就绪：{path}（{idle:.0f} 秒没有检查就退出）"),
    "stopped": ("{n} check server(s) of this checkout stopped", "已停止本仓库的 {n} 个检查服务"),
    "none_stopped": ("no check server runs for this checkout", "本仓库没有正在运行的检查服务"),
    "none": (("no check server runs for this checkout: the next `hfcourse check` starts one "
              "(or `hfcourse server start`)"),
             "本仓库没有正在运行的检查服务：下一次 `hfcourse check` 会启动一个（或运行 `hfcourse server start`）"),
    "row": ("check server pid {pid} for {root}: up {up:.0f} s, {checks} command(s) served",
            "检查服务 pid {pid}，服务于 {root}：已运行 {up:.0f} 秒，处理了 {checks} 条命令"),
    "stale": (("  built for another version of the code or other settings: the next check starts a fresh one "
               "and this one leaves"),
              "  它属于另一版本的代码或其他设置：下一次检查会启动新的服务，这个会自行退出"),
}


def _t(key: str, lang: str, **kw) -> str:
    en, zh = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**kw)


def _cmd_server(args: argparse.Namespace) -> int:
    from hfcourse import server
    from hfcourse.paths import course_root

    root, lang = course_root(), args.lang
    if not server.enabled():
        print(_t("off", lang), file=sys.stderr)
        return 2 if args.action == "start" else 0
    if args.action == "start":
        path = server.start(root, wait=True)
        print(_t("ready", lang, path=path, idle=server._idle_seconds()))
        return 0
    if args.action == "stop":
        n = server.stop(root)
        print(_t("stopped", lang, n=n) if n else _t("none_stopped", lang))
        return 0
    found = server.servers(root)
    if not found:
        print(_t("none", lang))
        return 1
    for facts in found:
        up = time.time() - float(facts["started"])
        print(_t("row", lang, pid=facts["pid"], root=facts["root"], up=up, checks=facts["checks"]))
        if not facts["current"]:
            print(_t("stale", lang))
    return 0 if any(f["current"] for f in found) else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("server", help="the background server that makes `hfcourse check` fast: start, stop or status")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--lang", choices=("en", "zh"), default=argparse.SUPPRESS, help="language (en or zh)")
    p.set_defaults(func=_cmd_server)
