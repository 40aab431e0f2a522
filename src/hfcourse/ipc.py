"""Messages between hfcourse processes over a Unix stream socket: a 4-byte big-endian length,
then JSON; file descriptors travel with the first bytes of a message (SCM_RIGHTS). Used by the
worker zygote and the check server."""

from __future__ import annotations

import json
import socket
import struct

__all__ = ["send", "recv", "MESSAGE_CAP"]

MESSAGE_CAP = 16 << 20
"""The largest message accepted (a caller's environment fits many times over)."""


def send(sock: socket.socket, msg: dict, fds: tuple[int, ...] | list[int] = ()) -> None:
    data = json.dumps(msg).encode()
    frame = struct.pack("!I", len(data)) + data
    sent = socket.send_fds(sock, [frame], list(fds)) if fds else 0
    sock.sendall(frame[sent:])


def recv(sock: socket.socket, max_fds: int = 0) -> tuple[dict, list[int]]:
    """One message and the descriptors that came with it; EOFError when the peer has gone."""
    fds: list[int] = []
    if max_fds:
        head, fds, _, _ = socket.recv_fds(sock, 4, max_fds)
    else:
        head = sock.recv(4)
    while 0 < len(head) < 4:
        more = sock.recv(4 - len(head))
        if not more:
            break
        head += more
    if len(head) < 4:
        raise EOFError
    (size,) = struct.unpack("!I", head)
    if size > MESSAGE_CAP:
        raise EOFError
    body = bytearray()
    while len(body) < size:
        chunk = sock.recv(min(size - len(body), 1 << 20))
        if not chunk:
            raise EOFError
        body += chunk
    return json.loads(body), fds
