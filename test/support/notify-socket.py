#!/usr/bin/env python3
"""A stand-in for systemd's notify socket, for tests (Node has no AF_UNIX datagram sockets).

    python3 test/support/notify-socket.py /tmp/dir/notify

Binds an AF_UNIX datagram socket at the path, prints {"listening": path} once bound, then one JSON line per
datagram received: {"pid", "uid" (the sender's SCM_CREDENTIALS), "fields" (the KEY=VALUE lines), "fds"}.
File descriptors passed along (systemd-notify's BARRIER=1 sends one) are closed at once: that is what tells
the sender the message was processed, as systemd does. Exits when its stdin closes (the parent is gone).
"""
import array
import json
import os
import socket
import struct
import sys
import threading

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind(path)
print(json.dumps({"listening": path}), flush=True)


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_when_stdin_closes, daemon=True).start()

cred_size = struct.calcsize("iII")
while True:
    data, ancillary, _flags, _address = sock.recvmsg(
        65536, socket.CMSG_SPACE(cred_size) + socket.CMSG_SPACE(16 * array.array("i").itemsize)
    )
    pid = uid = None
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, uid, _gid = struct.unpack("iII", payload[:cred_size])
        elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    for fd in fds:
        os.close(fd)
    text = data.decode("utf-8", "replace")
    fields = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)
    print(json.dumps({"pid": pid, "uid": uid, "fields": fields, "fds": len(fds)}), flush=True)
