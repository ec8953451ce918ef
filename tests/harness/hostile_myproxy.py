# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hostile MyProxy server for the fault tests of the client's GET.

It speaks just enough of the protocol to get a client to the certificate chain: TLS with a
host certificate for ``localhost`` from a throwaway CA (``ca_dir`` is the CA directory a
client trusts it with), the GSI delegation byte, the request, ``RESPONSE=0``, the client's
certificate request; then, by ``mode``:

``long_chain``
    announces 255 certificates and sends DER elements of 60000 bytes each (each under the
    client's size limit, 15 MB in all), one after the other;
``giant``
    announces one certificate whose DER header claims 4 MiB and sends that many bytes;
``trickle``
    announces ``count`` small certificates and sends each of them byte by byte, one byte per
    ``delay`` seconds, so that each element takes a little less than a per-read timeout.

Bounded: it serves at most ``max_connections`` connections, sends at most ``max_bytes``
bytes of payload per connection (then hangs up), listens on 127.0.0.1 on a free port, and
:meth:`stop` closes every socket and joins its threads. ``sent`` holds the payload bytes each
connection got out before the client hung up (or the cap was reached).
"""

import os
import ssl
import time

from . import gridpki
from .faults import _Listener

GIANT_SIZE = 4 * 1024 * 1024
OK_REPLY = b'VERSION=MYPROXYv2\nRESPONSE=0\n\0'
# DER SEQUENCEs (not real certificates; the client must give up before parsing them).
SMALL_ELEMENT = b'\x30\x03\x02\x01\x00'
CHAIN_ELEMENT = b'\x30\x82' + (60000).to_bytes(2, 'big') + b'\x00' * 60000


def _der_complete(data):
    """Whether ``data`` holds one whole DER element (the client's certificate request)."""
    if len(data) < 2:
        return False
    first = data[1]
    if first < 0x80:
        return len(data) >= 2 + first
    count = first & 0x7F
    if len(data) < 2 + count:
        return False
    return len(data) >= 2 + count + int.from_bytes(data[2:2 + count], 'big')


class HostileMyProxyServer(_Listener):
    """See the module docstring; ``port`` and ``ca_dir`` after construction."""

    def __init__(self, workdir, mode, count=9, delay=0.15, max_bytes=64 * 1024 * 1024,
                 max_connections=4):
        super(HostileMyProxyServer, self).__init__(max_connections)
        if mode not in ('long_chain', 'giant', 'trickle'):
            raise ValueError('unknown mode %r' % mode)
        self.mode = mode
        self.count = count
        self.delay = delay
        self.max_bytes = max_bytes
        self.sent = []
        ca = gridpki.CertificateAuthority('/O=Hostile Test/CN=Hostile Test CA')
        self.ca_dir = os.path.join(workdir, 'hostile-certificates')
        ca.install(self.ca_dir)
        key, cert = ca.issue('/O=Hostile Test/CN=localhost', host='localhost')
        cert_file = gridpki.write(os.path.join(workdir, 'hostile-cert.pem'),
                                  gridpki.cert_pem(cert), 0o644)
        key_file = gridpki.write(os.path.join(workdir, 'hostile-key.pem'), gridpki.key_pem(key))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_file, key_file)

    def _payload(self):
        """``(chain count byte, iterator of chunks to send)``."""
        if self.mode == 'long_chain':
            return 255, iter(lambda: CHAIN_ELEMENT, None)
        if self.mode == 'giant':
            header = b'\x30\x83' + (GIANT_SIZE - 5).to_bytes(3, 'big')
            filler = b'\x00' * 65536
            return 1, iter([header] + [filler] * (GIANT_SIZE // 65536))
        return self.count, iter([bytes([byte]) for byte in SMALL_ELEMENT] * self.count)

    def handle(self, client):
        index = len(self.sent)
        self.sent.append(0)
        client.settimeout(10)
        try:
            tls = self.context.wrap_socket(client, server_side=True)
            self._sockets.append(tls)
            request = b''
            while request.count(b'\0') < 1 or not request.startswith(b'0'):
                chunk = tls.recv(65536)
                if not chunk:
                    return
                request += chunk
            tls.sendall(OK_REPLY)
            der = request[request.index(b'\0') + 1:]
            while not _der_complete(der):
                chunk = tls.recv(65536)
                if not chunk:
                    return
                der += chunk
            count, chunks = self._payload()
            tls.sendall(bytes([count]))
            for chunk in chunks:
                if self._stop.is_set() or self.sent[index] + len(chunk) > self.max_bytes:
                    break
                tls.sendall(chunk)
                self.sent[index] += len(chunk)
                if self.mode == 'trickle':
                    time.sleep(self.delay)
        except (OSError, ssl.SSLError, ValueError):
            return
        finally:
            try:
                client.close()
            except OSError:
                pass
