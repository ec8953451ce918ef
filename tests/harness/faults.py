# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network faults in front of real services, for the error-path tests.

:class:`CuttingProxy` forwards TCP between a client and a real server on 127.0.0.1 and, once
the server has sent ``cut_after`` bytes to the client, closes both sides: the client sees the
server hang up in the middle of a reply. With ``cut_after=None`` it only counts bytes, to
measure where to cut.

:class:`SilentServer` accepts connections and never answers: for timeout tests.

Both listen on a free port of 127.0.0.1, serve at most ``max_connections`` connections, and
stop their threads in ``stop()`` (bounded, no processes involved).
"""

import select
import socket
import threading

from .process import LOOPBACK


class _Listener(object):
    def __init__(self, max_connections=20):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.max_connections = max_connections
        self.connections = 0
        self._stop = threading.Event()
        self._threads = []
        self._sockets = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def _accept_loop(self):
        while not self._stop.is_set() and self.connections < self.max_connections:
            ready = select.select([self.listener], [], [], 0.1)[0]
            if not ready:
                continue
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self._sockets.append(client)
            thread = threading.Thread(target=self.handle, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def handle(self, client):
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        for sock in self._sockets + [self.listener]:
            try:
                sock.close()
            except OSError:
                pass
        for thread in [self._thread] + self._threads:
            if thread.is_alive():
                thread.join(timeout=5)


class CuttingProxy(_Listener):
    """Forward to ``target_port``; hang up after ``cut_after`` bytes from the server."""

    def __init__(self, target_port, cut_after=None, max_connections=20):
        super(CuttingProxy, self).__init__(max_connections)
        self.target_port = target_port
        self.cut_after = cut_after
        self.server_bytes = []   # bytes the server sent, per connection

    def handle(self, client):
        try:
            server = socket.create_connection((LOOPBACK, self.target_port), timeout=10)
        except OSError:
            client.close()
            return
        self._sockets.append(server)
        sent = 0
        index = len(self.server_bytes)
        self.server_bytes.append(0)
        try:
            while not self._stop.is_set():
                ready = select.select([client, server], [], [], 0.1)[0]
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is server:
                        if self.cut_after is not None and sent + len(data) >= self.cut_after:
                            client.sendall(data[:max(0, self.cut_after - sent)])
                            self.server_bytes[index] = self.cut_after
                            return
                        sent += len(data)
                        self.server_bytes[index] = sent
                        client.sendall(data)
                    else:
                        server.sendall(data)
        except OSError:
            return
        finally:
            for sock in (client, server):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


class SilentServer(_Listener):
    """Accept TCP connections and say nothing until stopped."""

    def handle(self, client):
        self._stop.wait(60)
        client.close()
