"""A TCP proxy that a test can cut, stall and restore, between Gatekeeper and PostgreSQL or
Redis, while the real server keeps running for the rest of the suite."""

from __future__ import annotations

import selectors
import socket
import threading
from contextlib import suppress

HOST = "127.0.0.1"
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class TcpProxy:
    """Forwards a loopback port to `upstream`. `cut()` closes the listener and every open
    connection (new connections are refused); `restore()` listens on the same port again;
    `stall()` cuts, then accepts connections and never answers (a network that drops packets).
    """

    def __init__(self, upstream: tuple[str, int], *, listening: bool = True) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._stop = threading.Event()
        self._acceptor: threading.Thread | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._pipes: list[threading.Thread] = []
        if listening:
            self.restore()

    def restore(self) -> None:
        self.cut()
        self._listen(forward=True)

    def stall(self) -> None:
        self.cut()
        self._listen(forward=False)

    def cut(self) -> None:
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is None:
            return
        self._stop.set()
        acceptor.join(STOP_TIMEOUT)
        with self._lock:
            for sock in self._open:
                # The peer may have closed it already.
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            pipes, self._pipes = self._pipes, []
        for pipe in pipes:
            pipe.join(STOP_TIMEOUT)
        with self._lock:
            # What is left was held by stall(), with no pipe to close it.
            for sock in self._open:
                sock.close()
            self._open.clear()

    def _listen(self, *, forward: bool) -> None:
        listener = socket.socket()
        # The port still has connections in TIME_WAIT from before the cut.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._stop = threading.Event()
        self._acceptor = threading.Thread(
            target=self._accept,
            args=(listener, self._stop, forward),
            name="proxy-accept",
            daemon=True,
        )
        self._acceptor.start()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cut()

    def _accept(self, listener: socket.socket, stop: threading.Event, forward: bool) -> None:
        with listener:
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                client.setblocking(True)
                if not forward:
                    with self._lock:
                        self._open.add(client)
                    continue
                try:
                    upstream = socket.create_connection(self.upstream, timeout=2)
                except OSError:
                    client.close()
                    continue
                upstream.settimeout(None)
                pipe = threading.Thread(
                    target=self._pipe, args=(client, upstream), name="proxy-pipe", daemon=True
                )
                with self._lock:
                    self._open.update((client, upstream))
                    self._pipes.append(pipe)
                pipe.start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(a, selectors.EVENT_READ, b)
                selector.register(b, selectors.EVENT_READ, a)
                while True:
                    for key, _ in selector.select():
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        key.data.sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._open.difference_update((a, b))
            a.close()
            b.close()
