# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS to a MyProxy server, the server identity check, and message framing.

The MyProxy server speaks GSI: a TLS handshake (the server always presents its host
certificate; the client presents a user certificate or proxy when it has one, else stays
anonymous), then the client sends one byte, ``0``, the GSI delegation flag meaning "no
GSS delegation", and the protocol messages follow inside TLS. Over TLS 1.3 the server also
sends a single NUL byte right after the handshake; it is skipped.

The protocol has no length framing. Text messages end with a NUL byte; certificate requests
and certificates are DER and their length is read from the DER header; a certificate chain
is preceded by one byte that counts the certificates.

Limits against hostile or broken servers: ``timeout`` bounds the whole exchange with one
server (connect, handshake, request and every reply), not each read, so a server that trickles
its reply is given up after ``timeout`` seconds; a text message may be at most
:data:`MAX_MESSAGE` bytes, a certificate or certificate request :data:`MAX_CERTIFICATE` bytes
(refused from its DER header, before it is read) and a chain :data:`MAX_CHAIN` certificates.

Server identity: the chain must verify against the CA directory (OpenSSL hashed directory,
``X509_CERT_DIR``), and the certificate must name the server: either the distinguished name
given as ``server_dn`` (``MYPROXY_SERVER_DN``), or the host name we connected to as
``CN=<host>``, ``CN=host/<host>``, ``CN=myproxy/<host>`` or a subjectAltName entry.
"""

import errno
import ipaddress
import os
import select
import socket
import time
import warnings

from .errors import (MyProxyConnectionError, MyProxyInputError, MyProxyProtocolError,
                     MyProxyServerIdentityError, MyProxyTLSError)
from . import proxy as mproxy
from . import x509 as mx509

try:
    from OpenSSL import SSL, crypto
    HAS_PYOPENSSL = True
except ImportError:  # reported by deps.PYOPENSSL
    HAS_PYOPENSSL = False

DEFAULT_PORT = 7512
DEFAULT_TIMEOUT = 30.0
GSI_NO_DELEGATION = b'0'
MAX_MESSAGE = 4 * 1024 * 1024
# A GET reply: at most this many certificates (proxy, end-entity, intermediate CAs; the C
# client accepts up to 255) of at most this many bytes each (real ones are 1-3 KiB).
MAX_CHAIN = 10
MAX_CERTIFICATE = 64 * 1024

# OpenSSL X509_V_ERR_* codes -> (error_name, text).
VERIFY_ERRORS = {
    2: ('UNTRUSTED_SERVER_CERTIFICATE', 'the CA that issued the server certificate is not in the '
                                        'trusted CA directory'),
    18: ('UNTRUSTED_SERVER_CERTIFICATE', 'the server certificate is self-signed and not trusted'),
    19: ('UNTRUSTED_SERVER_CERTIFICATE', 'the server certificate chain ends in a CA that is '
                                         'not trusted'),
    20: ('UNTRUSTED_SERVER_CERTIFICATE', 'the CA that issued the server certificate is not in the '
                                         'trusted CA directory'),
    21: ('UNTRUSTED_SERVER_CERTIFICATE', 'the server certificate cannot be verified (no issuer '
                                         'in the trusted CA directory)'),
    9: ('SERVER_CERTIFICATE_NOT_YET_VALID', 'the server certificate is not valid yet'),
    10: ('SERVER_CERTIFICATE_EXPIRED', 'the server certificate has expired'),
    7: ('SERVER_CERTIFICATE_BAD_SIGNATURE', 'the server certificate signature is invalid'),
    23: ('SERVER_CERTIFICATE_REVOKED', 'the server certificate has been revoked'),
}


def parse_servers(server, port=None):
    """``'a.example.org:7513,b.example.org'`` -> ``[('a.example.org', 7513), (..., port)]``."""
    if not server or not isinstance(server, str):
        raise MyProxyInputError('no MyProxy server given (option server or MYPROXY_SERVER)')
    default_port = DEFAULT_PORT if port in (None, '') else port
    try:
        default_port = int(default_port)
    except (TypeError, ValueError):
        raise MyProxyInputError('the MyProxy server port must be a number, not %r' % (port,))
    result = []
    for item in server.split(','):
        item = item.strip()
        if not item:
            continue
        host, item_port = item, default_port
        if item.startswith('['):  # [IPv6]:port
            host, _sep, rest = item[1:].partition(']')
            if rest.startswith(':'):
                item_port = rest[1:]
        elif item.count(':') == 1:
            host, item_port = item.split(':')
        try:
            item_port = int(item_port)
        except ValueError:
            raise MyProxyInputError('bad port in MyProxy server %r' % item)
        if not 0 < item_port < 65536:
            raise MyProxyInputError('bad port in MyProxy server %r' % item)
        if not host or any(c in host for c in ' /\\\0\n'):
            raise MyProxyInputError('bad MyProxy server name %r' % item)
        result.append((host, item_port))
    if not result:
        raise MyProxyInputError('no MyProxy server given (option server or MYPROXY_SERVER)')
    return result


def _is_ip(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _errno_name(exc):
    code = getattr(exc, 'errno', None)
    if isinstance(exc, socket.timeout):
        return 'ETIMEDOUT'
    if isinstance(exc, socket.gaierror):
        return 'EAI_NONAME'
    return errno.errorcode.get(code, 'CONNECTION_FAILED') if code else 'CONNECTION_FAILED'


def server_names(cert):
    """``(subject DN one-line, [subjectAltName DNS names], [IP addresses])``."""
    dns, ips = [], []
    try:
        san = cert.extensions.get_extension_for_class(mx509.cx509.SubjectAlternativeName).value
        dns = [value.lower() for value in san.get_values_for_type(mx509.cx509.DNSName)]
        ips = [str(value) for value in san.get_values_for_type(mx509.cx509.IPAddress)]
    except mx509.cx509.ExtensionNotFound:
        pass
    return mx509.oneline(cert.subject), dns, ips


def check_server_identity(cert, host, server_dn=None):
    """Raise :class:`MyProxyServerIdentityError` unless ``cert`` names the expected server."""
    subject, dns, ips = server_names(cert)
    if server_dn:
        if mx509.dn_equal(cert.subject, server_dn):
            return subject
        raise MyProxyServerIdentityError(
            'the server identity %s does not match the expected server DN %s'
            % (subject, server_dn), error_name='SERVER_DN_MISMATCH',
            details={'server_subject': subject, 'expected': server_dn})
    host_l = host.lower().rstrip('.')
    common_names = [value for key, value in mx509.name_tuple(cert.subject) if key == 'CN']
    accepted = [host_l, 'host/' + host_l, 'myproxy/' + host_l]
    if _is_ip(host_l):
        if host_l in ips or any(cn.lower() in accepted for cn in common_names):
            return subject
    else:
        if any(cn.lower() in accepted for cn in common_names):
            return subject
        for name in dns:
            if name == host_l or (name.startswith('*.') and '.' in host_l
                                  and host_l.split('.', 1)[1] == name[2:]):
                return subject
    raise MyProxyServerIdentityError(
        'the server identity %s does not match the host name %s (expected CN=%s, CN=host/%s or '
        'a subjectAltName for it); set server_dn if the server uses another name'
        % (subject, host, host, host), error_name='SERVER_DN_MISMATCH',
        details={'server_subject': subject, 'expected': host})


class Connection(object):
    """One TLS connection to a MyProxy server, ready for protocol messages."""

    def __init__(self, host, port, ca_dir=None, server_dn=None, credential=None,
                 timeout=DEFAULT_TIMEOUT, verify=True):
        self.host = host
        self.port = port
        self.ca_dir = ca_dir
        self.server_dn = server_dn
        self.credential = credential
        self.timeout = float(timeout)
        self.verify = verify
        self.sock = None
        self.tls = None
        self.buffer = bytearray()
        self.eof = False
        self.peer_chain = []
        self.server_subject = None
        self._verify_error = None
        self._deadline = None
        self._handshake_done = False

    # ------------------------------------------------------------------ setup

    def _context(self):
        method = getattr(SSL, 'TLS_CLIENT_METHOD', None) or SSL.SSLv23_METHOD
        context = SSL.Context(method)
        options = SSL.OP_NO_SSLv2 | SSL.OP_NO_SSLv3 | getattr(SSL, 'OP_NO_COMPRESSION', 0)
        if hasattr(context, 'set_min_proto_version'):
            context.set_min_proto_version(SSL.TLS1_2_VERSION)
        else:
            options |= SSL.OP_NO_TLSv1 | SSL.OP_NO_TLSv1_1
        options |= getattr(SSL, 'OP_IGNORE_UNEXPECTED_EOF', 0)
        context.set_options(options)
        if self.verify:
            if not self.ca_dir or not os.path.isdir(self.ca_dir):
                raise MyProxyServerIdentityError(
                    'the trusted CA directory %s does not exist; get the trust roots first '
                    '(myproxy_trustroots with bootstrap) or set ca_dir' % (self.ca_dir,),
                    error_name='NO_TRUST_ROOTS', details={'ca_dir': self.ca_dir})
            context.load_verify_locations(None, self.ca_dir.encode('utf-8'))
            context.set_verify(SSL.VERIFY_PEER, self._verify_callback)
        else:
            context.set_verify(SSL.VERIFY_NONE, lambda *args: True)
        if self.credential is not None:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                context.use_certificate(crypto.X509.from_cryptography(self.credential.cert))
                context.use_privatekey(crypto.PKey.from_cryptography_key(self.credential.key))
                for cert in self.credential.chain:
                    context.add_extra_chain_cert(crypto.X509.from_cryptography(cert))
        return context

    def _verify_callback(self, connection, cert, errnum, depth, ok):
        if not ok and self._verify_error is None:
            self._verify_error = (errnum, depth)
        return ok

    def open(self):
        """Connect, handshake, check the server identity and send the GSI delegation flag."""
        self._deadline = time.monotonic() + self.timeout
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except (OSError, socket.error) as exc:
            name = _errno_name(exc)
            reason = 'timed out' if name == 'ETIMEDOUT' else (
                getattr(exc, 'strerror', None) or str(exc) or name)
            raise MyProxyConnectionError('cannot connect to MyProxy server %s:%d: %s'
                                         % (self.host, self.port, reason), error_name=name,
                                         details={'server': self.host, 'port': self.port})
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        context = self._context()
        self.tls = SSL.Connection(context, self.sock)
        self.tls.set_connect_state()
        if not _is_ip(self.host):
            try:
                self.tls.set_tlsext_host_name(self.host.encode('idna'))
            except (UnicodeError, ValueError):
                pass
        try:
            self._io(self.tls.do_handshake)
        except SSL.Error as exc:
            self._handshake_failed(exc)
        except MyProxyConnectionError:
            raise
        except MyProxyProtocolError as exc:
            raise MyProxyTLSError('TLS handshake with %s:%d failed: the server closed the '
                                  'connection (%s)' % (self.host, self.port, exc),
                                  error_name='TLS_HANDSHAKE_FAILED')
        self._handshake_done = True
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            chain = self.tls.get_peer_cert_chain() or []
            self.peer_chain = [cert.to_cryptography() for cert in chain]
            peer = self.tls.get_peer_certificate()
        if peer is None:
            raise MyProxyTLSError('the server presented no certificate',
                                  error_name='TLS_HANDSHAKE_FAILED')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            peer = peer.to_cryptography()
        if self.verify:
            self.server_subject = check_server_identity(peer, self.host, self.server_dn)
        else:
            self.server_subject = mx509.oneline(peer.subject)
        try:
            self.send(GSI_NO_DELEGATION)
        except (MyProxyProtocolError, MyProxyTLSError) as exc:
            raise self._rejected(exc)
        return self

    def _rejected(self, exc):
        """The error for a server that hangs up right after the handshake (TLS 1.3 sends
        the verdict on the client certificate then)."""
        detail = None
        try:
            self.tls.recv(1)
        except SSL.Error as alert:
            detail = _ssl_error_text(alert)
        except Exception:  # pylint: disable=broad-except
            pass
        if detail and 'alert' in detail:
            name = 'CLIENT_CERTIFICATE_REJECTED' if 'certificate' in detail else 'TLS_ERROR'
            return MyProxyTLSError('the server rejected the connection: %s' % detail,
                                   error_name=name)
        if self.credential is not None:
            return MyProxyTLSError('the server closed the connection right after the TLS '
                                   'handshake; it did not accept the client certificate %s'
                                   % mx509.oneline(self.credential.cert.subject),
                                   error_name='CLIENT_CERTIFICATE_REJECTED')
        return MyProxyTLSError('the server closed the connection right after the TLS handshake '
                               '(%s)' % exc, error_name='TLS_ERROR')

    def _handshake_failed(self, exc):
        if self._verify_error is not None:
            code, depth = self._verify_error
            default = ('SERVER_CERTIFICATE_INVALID', 'the server certificate is not valid')
            name, text = VERIFY_ERRORS.get(code, default)
            raise MyProxyServerIdentityError(
                '%s (OpenSSL verify error %d at depth %d, CA directory %s)'
                % (text, code, depth, self.ca_dir), error_name=name,
                details={'verify_error': code, 'depth': depth, 'ca_dir': self.ca_dir})
        detail = _ssl_error_text(exc)
        raise MyProxyTLSError('TLS handshake with %s:%d failed: %s' % (self.host, self.port, detail),
                              error_name='TLS_HANDSHAKE_FAILED')

    # ------------------------------------------------------------------ I/O

    def _timed_out(self):
        return MyProxyConnectionError('timed out: the exchange with %s:%d did not finish within '
                                      '%ss' % (self.host, self.port, int(self.timeout)),
                                      error_name='ETIMEDOUT',
                                      details={'server': self.host, 'port': self.port,
                                               'timeout': self.timeout})

    def _wait(self, want_write):
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out()
        if want_write:
            ready = select.select([], [self.sock], [], remaining)[1]
        else:
            ready = select.select([self.sock], [], [], remaining)[0]
        if not ready:
            raise self._timed_out()

    def _io(self, function, *args):
        while True:
            try:
                return function(*args)
            except SSL.WantReadError:
                self._wait(False)
            except SSL.WantWriteError:
                self._wait(True)
            except SSL.ZeroReturnError:
                raise MyProxyProtocolError('the server closed the connection',
                                           error_name='CONNECTION_CLOSED')
            except SSL.SysCallError as exc:
                code = exc.args[0] if exc.args else None
                if code in (-1, 0) or code in (errno.ECONNRESET, errno.EPIPE):
                    raise MyProxyProtocolError('the server closed the connection',
                                               error_name='CONNECTION_CLOSED')
                raise MyProxyConnectionError('connection to %s:%d failed: %s'
                                             % (self.host, self.port, exc),
                                             error_name=errno.errorcode.get(code, 'CONNECTION_FAILED'))
            except SSL.Error as exc:
                if not self._handshake_done:
                    raise  # handled by open()
                detail = _ssl_error_text(exc)
                name = 'CLIENT_CERTIFICATE_REJECTED' if 'alert' in detail and 'certificate' in detail \
                    else 'TLS_ERROR'
                raise MyProxyTLSError('the TLS connection to %s:%d failed: %s'
                                      % (self.host, self.port, detail), error_name=name)

    def send(self, data):
        data = bytes(data)
        offset = 0
        while offset < len(data):
            offset += self._io(self.tls.send, data[offset:offset + 16384])

    def _fill(self):
        """Read more bytes into the buffer; returns False at end of stream."""
        if self.eof:
            return False
        try:
            chunk = self._io(self.tls.recv, 65536)
        except MyProxyProtocolError:
            self.eof = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buffer.extend(chunk)
        if len(self.buffer) > MAX_MESSAGE:
            raise MyProxyProtocolError('the server reply is larger than %d bytes' % MAX_MESSAGE,
                                       error_name='MALFORMED_REPLY')
        return True

    def _truncated(self, what):
        raise MyProxyProtocolError(
            'the server closed the connection in the middle of %s (%d bytes received)'
            % (what, len(self.buffer)), error_name='TRUNCATED_REPLY')

    def read_message(self):
        """The next NUL-terminated text message (leading NUL bytes skipped)."""
        while True:
            while self.buffer[:1] == b'\0':
                del self.buffer[0]
            end = self.buffer.find(b'\0')
            if end != -1 and self.buffer[:1] != b'\0':
                message = bytes(self.buffer[:end])
                del self.buffer[:end + 1]
                return message
            if not self._fill():
                if self.buffer:
                    self._truncated('a reply')
                raise MyProxyProtocolError('the server closed the connection without a reply',
                                           error_name='CONNECTION_CLOSED')

    def peek_is_message(self):
        """Whether the next bytes are a text message (``VERSION=``) rather than DER data."""
        while len(self.buffer) < 1 or (self.buffer[:1] == b'\0' and len(self.buffer) < 2):
            if not self._fill():
                if self.buffer.strip(b'\0'):
                    self._truncated('a reply')
                raise MyProxyProtocolError('the server closed the connection without a reply',
                                           error_name='CONNECTION_CLOSED')
        start = 0
        while start < len(self.buffer) and self.buffer[start] == 0:
            start += 1
        return self.buffer[start:start + 1] == b'V'

    def read_der(self, max_size=MAX_CERTIFICATE):
        """One DER element (a certificate request or certificate) of at most ``max_size``
        bytes; a larger one is refused from its header, before its content is read."""
        while True:
            header = mproxy.der_length(self.buffer, 0)
            if header is not None and header[0] + header[1] > max_size:
                raise MyProxyProtocolError(
                    'the server sent a certificate of %d bytes; at most %d are accepted'
                    % (header[0] + header[1], max_size), error_name='CERTIFICATE_TOO_LARGE',
                    details={'size': header[0] + header[1], 'limit': max_size})
            if header is not None and len(self.buffer) >= header[0] + header[1]:
                size = header[0] + header[1]
                element = bytes(self.buffer[:size])
                del self.buffer[:size]
                return element
            if not self._fill():
                self._truncated('a certificate')

    def read_byte(self):
        while not self.buffer:
            if not self._fill():
                raise MyProxyProtocolError('the server closed the connection without a reply',
                                           error_name='CONNECTION_CLOSED')
        value = self.buffer[0]
        del self.buffer[0]
        return value

    def read_until_message(self):
        """Raw bytes up to the next ``VERSION=`` message, and that message (RETRIEVE)."""
        while True:
            start = self.buffer.find(b'VERSION=')
            if start != -1:
                end = self.buffer.find(b'\0', start)
                if end != -1:
                    payload = bytes(self.buffer[:start])
                    message = bytes(self.buffer[start:end])
                    del self.buffer[:end + 1]
                    return payload, message
            if not self._fill():
                self._truncated('the credential')

    def close(self):
        if self.tls is not None:
            try:
                self.tls.shutdown()
            except Exception:  # pylint: disable=broad-except
                pass
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.tls = None
        self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


def verify_chain(chain, ca_dir):
    """Whether ``chain`` (leaf first, cryptography certificates) verifies against ``ca_dir``."""
    if not chain:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        store = crypto.X509Store()
        store.load_locations(None, ca_dir)
        leaf = crypto.X509.from_cryptography(chain[0])
        others = [crypto.X509.from_cryptography(cert) for cert in chain[1:]]
        try:
            crypto.X509StoreContext(store, leaf, chain=others).verify_certificate()
        except crypto.X509StoreContextError:
            return False
    return True


def _ssl_error_text(exc):
    if isinstance(exc, SSL.SysCallError):
        return 'the server closed the connection during the handshake'
    parts = []
    for item in (exc.args[0] if exc.args and isinstance(exc.args[0], list) else []):
        if isinstance(item, tuple) and item:
            parts.append(str(item[-1]))
    return ', '.join(parts) or str(exc) or type(exc).__name__
