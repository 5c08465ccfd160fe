"""A TCP relay from 127.0.0.1:LPORT inside network namespaces to a server
on the root namespace's 127.0.0.1 (e.g. RabbitMQ for agents in hosts).

A namespace's loopback is its own, so agents there cannot reach the root
namespace's 127.0.0.1. One relay process per sandbox: on the main thread,
before any event loop, it enters each namespace in turn (setns), binds a
listening socket on that namespace's 127.0.0.1 and comes back; a socket
keeps the namespace it was created in. Then asyncio serves all listeners
from the root namespace, opening each upstream connection there. Traffic
stays on 127.0.0.0/8 on both sides.

    python -m tricircle.sandbox.nsrelay --target 127.0.0.1:5672 \
        --listen-port 5672 NS1 NS2
"""
from __future__ import annotations

import argparse
import asyncio
import ctypes
import fcntl
import ipaddress
import os
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
IFF_UP = 0x1
NETNS_DIR = '/run/netns'


def relay_argv(target_port: int, listen_port: int, namespaces: list[str],
               target_host: str = '127.0.0.1',
               python: str = sys.executable) -> list[str]:
    """The command line of a relay process (for processes.launch)."""
    return [python, '-m', 'tricircle.sandbox.nsrelay',
            '--target', '%s:%d' % (target_host, target_port),
            '--listen-port', str(listen_port)] + list(namespaces)


def _setns(fd: int) -> None:
    # Python 3.11 has no os.setns (3.12 does).
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, 'setns: %s' % os.strerror(err))


def listen_in(namespace: str, port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:port inside ``namespace``."""
    own = os.open('/proc/self/ns/net', os.O_RDONLY)
    try:
        try:
            target = os.open(os.path.join(NETNS_DIR, namespace), os.O_RDONLY)
        except OSError as exc:
            raise SystemExit('nsrelay: no namespace %r: %s'
                             % (namespace, exc))
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                # Binding works even with lo down; connecting would not.
                ifreq = fcntl.ioctl(sock, SIOCGIFFLAGS,
                                    b'lo'.ljust(40, b'\0'))
                if not int.from_bytes(ifreq[16:18], 'little') & IFF_UP:
                    raise OSError('lo is down')
                sock.bind(('127.0.0.1', port))
                sock.listen(128)
            except OSError as exc:
                sock.close()
                raise SystemExit('nsrelay: cannot listen on 127.0.0.1:%d in '
                                 '%s (is lo up there?): %s'
                                 % (port, namespace, exc))
        finally:
            _setns(own)  # always come back, even on failure
    finally:
        os.close(own)
    sock.setblocking(False)
    return sock


async def _pipe(reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # half-close, as the peer did
    except (ConnectionError, OSError):
        writer.close()


async def _serve(socks: list[socket.socket], host: str, port: int) -> None:
    async def handle(reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            print('nsrelay: %s:%d: %s' % (host, port, exc), flush=True)
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer),
                             _pipe(up_reader, writer))
        for w in (writer, up_writer):
            w.close()

    servers = [await asyncio.start_server(handle, sock=sock)
               for sock in socks]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print('relay started', flush=True)
    await stop.wait()
    for server in servers:
        server.close()
    print('relay stopped', flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='nsrelay')
    parser.add_argument('--target', required=True, help='HOST:PORT')
    parser.add_argument('--listen-port', type=int, required=True)
    parser.add_argument('namespaces', nargs='+')
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(':')
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback or not port.isdigit():
        parser.error('--target must be 127.x.y.z:PORT: %s' % args.target)
    socks = []
    for ns in args.namespaces:
        socks.append(listen_in(ns, args.listen_port))
        print('listening on 127.0.0.1:%d in %s -> %s'
              % (args.listen_port, ns, args.target), flush=True)
    asyncio.run(_serve(socks, host, int(port)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
