#!/usr/bin/env python3
"""The kernel's side of the interop tests and the bench: small TCP peers on
Linux sockets. Each prints one summary line on stdout.

  sink     --port P [--rcvbuf N] [--pause S]      accept one, read to EOF
  source   --connect A:P | --port P --bytes N --block FILE
                                                  send N bytes of the periodic content
  fetch    --url http://A:P/PATH [--rcvbuf N] [--pause S]
                                                  HTTP GET, pausing S s before reading the body
  echo-server  --port P                           asyncio echo server (runs until killed)
  echo-clients --connect A:P --connections N --bytes B
                                                  N concurrent connections, each checks its echo
"""
import argparse
import asyncio
import hashlib
import os
import socket
import sys
import time


def listen(port, rcvbuf=0, bind=""):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((bind, port))
    ls.listen(4096)
    print(f"listening on {port}", file=sys.stderr, flush=True)
    return ls


def size(s):
    """An integer with an optional K, M or G suffix (powers of 1024)."""
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(s[-1:].lower(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def hostport(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def report(what, n, secs, digest=None):
    gbps = n * 8 / secs / 1e9 if secs > 0 else 0.0
    line = f"{what}: {n} bytes in {secs:.3f} s: {gbps:.3f} Gbit/s"
    if digest:
        line += f" sha256 {digest}"
    print(line, flush=True)


def read_all(sock, h, pause=0.0):
    """Reads to EOF into the hash h (None: count only). Returns bytes read."""
    if pause:
        time.sleep(pause)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    n = 0
    while True:
        got = sock.recv_into(view)
        if not got:
            return n
        if h is not None:
            h.update(view[:got])
        n += got


def cmd_sink(a):
    ls = listen(a.port, a.rcvbuf, a.bind)
    c, _ = ls.accept()
    t0 = time.monotonic()
    h = hashlib.sha256() if a.hash else None
    n = read_all(c, h, a.pause)
    secs = time.monotonic() - t0
    c.close()
    report("sink", n, secs, h.hexdigest() if h else None)


def cmd_source(a):
    block = open(a.block, "rb").read()
    period = len(block)
    span = 1 << 20
    data = memoryview(block * (span // period + 2))  # any offset: span bytes in one piece
    if a.connect:
        c = socket.create_connection(hostport(a.connect))
    else:
        ls = listen(a.port, 0, a.bind)
        c, _ = ls.accept()
    t0 = time.monotonic()
    off = 0
    while off < a.bytes:
        at = off % period
        n = min(span, a.bytes - off)
        c.sendall(data[at: at + n])
        off += n
    c.shutdown(socket.SHUT_WR)
    read_all(c, None)  # the peer's FIN: it has everything
    secs = time.monotonic() - t0
    c.close()
    report("source", off, secs)


def cmd_fetch(a):
    rest = a.url[len("http://"):]
    hp, _, path = rest.partition("/")
    host, port = (hp.split(":") + ["80"])[:2]
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.rcvbuf:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    c.connect((host, int(port)))
    c.sendall(f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        got = c.recv(1)
        if not got:
            sys.exit("fetch: connection ended inside the head")
        head += got
    t0 = time.monotonic()
    h = hashlib.sha256()
    n = read_all(c, h, a.pause)
    secs = time.monotonic() - t0
    c.close()
    status = head.split(b" ", 2)[1].decode()
    print(f"fetch: status {status}", flush=True)
    report("fetch", n, secs, h.hexdigest())


async def echo_handler(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
    except (ConnectionError, OSError):
        writer.close()


async def echo_server(a):
    srv = await asyncio.start_server(echo_handler, a.bind or None, a.port, backlog=4096,
                                     reuse_address=True)
    print(f"listening on {a.port}", file=sys.stderr, flush=True)
    async with srv:
        await srv.serve_forever()


async def echo_one(host, port, i, nbytes, results):
    payload = hashlib.sha256(i.to_bytes(4, "big")).digest() * (nbytes // 32 + 1)
    payload = payload[:nbytes]
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(payload)
        await writer.drain()
        writer.write_eof()
        got = await reader.read(-1)
        writer.close()
        await writer.wait_closed()
        results.append(got == payload)
    except (ConnectionError, OSError) as e:
        print(f"echo-clients: connection {i}: {e}", file=sys.stderr)
        results.append(False)


async def echo_clients(a):
    host, port = hostport(a.connect)
    results = []
    t0 = time.monotonic()
    await asyncio.gather(*(echo_one(host, port, i, a.bytes, results)
                           for i in range(a.connections)))
    ok = sum(results)
    print(f"echo-clients: {ok}/{a.connections} connections ok in "
          f"{time.monotonic() - t0:.3f} s", flush=True)
    return ok == a.connections


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--bind", default="")
    p.add_argument("--connect")
    p.add_argument("--url")
    p.add_argument("--bytes", type=size, default=0)
    p.add_argument("--block")
    p.add_argument("--rcvbuf", type=size, default=0)
    p.add_argument("--pause", type=float, default=0.0)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--hash", action="store_true")
    a = p.parse_args()
    if a.cmd == "sink":
        cmd_sink(a)
    elif a.cmd == "source":
        cmd_source(a)
    elif a.cmd == "fetch":
        cmd_fetch(a)
    elif a.cmd == "echo-server":
        try:
            asyncio.run(echo_server(a))
        except KeyboardInterrupt:
            pass
    elif a.cmd == "echo-clients":
        sys.exit(0 if asyncio.run(echo_clients(a)) else 1)
    else:
        sys.exit(f"unknown command {a.cmd}")


if __name__ == "__main__":
    main()
