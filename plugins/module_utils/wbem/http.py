# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP/1.1 transport of the WBEM client (DSP0200 over HTTP or HTTPS).

A small HTTP/1.1 client on ``socket`` and ``ssl``, written for CIM-XML:

- one persistent connection, reused across operations and reopened when the server closed
  it (a request on a reused connection that gets no status line is sent once more);
- the response body is handed out in chunks as it arrives (Content-Length, chunked transfer
  coding or read-to-close), so the XML parser can work while the data arrives;
- trailers of chunked responses are read (OpenPegasus reports errors that happen while
  streaming in ``CIMStatusCode``/``CIMStatusCodeDescription``/``CIMError`` trailers);
- TLS with certificate and host name verification by default, a CA file or directory, a
  client certificate; ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` are used only when no CA is
  given explicitly; no proxy is ever used;
- one deadline per request: ``timeout`` seconds for connecting, sending the request and
  receiving the whole response (see :meth:`HTTPTransport.request`), so a server that trickles
  its response or sends ``100 Continue`` again and again cannot hold the client longer; at
  most ``MAX_INTERIM`` informational (1xx) responses are accepted before the real one;
- every failure becomes a :mod:`.exceptions` class, never a bare socket or ssl error.

``socket_factory(address, timeout)`` creates the TCP connection (default
``socket.create_connection``); tests replace it to put recorded server responses on the wire.
"""

import errno
import os
import socket
import ssl
import time

from .exceptions import WBEMConnectionError, WBEMTimeoutError, WBEMValueError

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    urlsplit = None

DEFAULT_PORTS = {'http': 5988, 'https': 5989}
MAX_LINE = 65536
MAX_HEADERS = 200
MAX_INTERIM = 16
CHUNK_SIZE = 65536


def parse_url(url):
    """``(scheme, host, port)`` of a WBEM server URL; the scheme defaults to https.

    Accepts ``https://host``, ``http://host:5988``, ``host``, ``[::1]:5989``; a path is
    not allowed (the CIM-XML target is always ``/cimom``).
    """
    if not isinstance(url, str) or not url:
        raise WBEMValueError('The URL must be a non-empty string')
    text = url if '://' in url else 'https://' + url
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise WBEMValueError('Unsupported URL scheme %r (use http or https)' % parts.scheme)
    if parts.username or parts.password:
        # checked first: the messages below quote the URL, which must not carry a password
        raise WBEMValueError('Put credentials into creds (the username and password options), '
                             'not into the URL')
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise WBEMValueError('The URL must not contain a path: %r' % url)
    host = parts.hostname
    if not host:
        raise WBEMValueError('The URL has no host: %r' % url)
    try:
        port = parts.port
    except ValueError:
        raise WBEMValueError('The URL has an invalid port: %r' % url)
    return scheme, host, port or DEFAULT_PORTS[scheme]


def make_ssl_context(validate_certs=True, ca_certs=None, cert_file=None, key_file=None,
                     environ=None, key_passphrase=None):
    """An ``ssl.SSLContext`` for a client.

    ``ca_certs`` is a PEM file or a directory of hashed certificates; without it the
    ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` environment variable (in that order) or else
    the system's default CAs are trusted. An encrypted ``key_file`` needs ``key_passphrase``;
    there is never a prompt on the terminal.
    """
    environ = os.environ if environ is None else environ
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if validate_certs:
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        ca_source = ca_certs or environ.get('REQUESTS_CA_BUNDLE') or environ.get(
            'CURL_CA_BUNDLE')
        try:
            if ca_source:
                if os.path.isdir(ca_source):
                    context.load_verify_locations(capath=ca_source)
                else:
                    context.load_verify_locations(cafile=ca_source)
            else:
                context.load_default_certs()
        except (IOError, OSError, ssl.SSLError) as exc:
            raise WBEMConnectionError('Cannot load the CA certificates from %s: %s'
                                      % (ca_source or 'the system store', exc),
                                      error_name='CA_CERTS_ERROR')
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert_file:
        load_client_cert(context, cert_file, key_file, key_passphrase)
    return context


class _NoPassphrase(Exception):
    """The client key is encrypted and no passphrase was given."""


def load_client_cert(context, cert_file, key_file=None, key_passphrase=None):
    """Load the client certificate and key into ``context``, never prompting for a passphrase.

    OpenSSL asks the password callback only for an encrypted key: without ``key_passphrase``
    the callback refuses (``CLIENT_KEY_ENCRYPTED``); a passphrase that does not decrypt the
    key is ``CLIENT_KEY_PASSPHRASE_WRONG``. The passphrase is never part of a message.
    """
    asked = []

    def passphrase():
        asked.append(True)
        if key_passphrase is None:
            raise _NoPassphrase()
        return key_passphrase

    key_name = key_file or cert_file
    try:
        context.load_cert_chain(cert_file, key_file, password=passphrase)
    except _NoPassphrase:
        raise WBEMConnectionError('The client key %s is encrypted: give its passphrase in '
                                  'client_key_passphrase (or WBEM_CLIENT_KEY_PASSPHRASE)'
                                  % key_name, error_name='CLIENT_KEY_ENCRYPTED')
    except (IOError, OSError, ssl.SSLError, ValueError) as exc:
        if asked and key_passphrase is not None:
            raise WBEMConnectionError('Cannot decrypt the client key %s with the passphrase in '
                                      'client_key_passphrase (wrong passphrase?)' % key_name,
                                      error_name='CLIENT_KEY_PASSPHRASE_WRONG')
        raise WBEMConnectionError('Cannot load the client certificate %s: %s'
                                  % (cert_file, exc), error_name='CLIENT_CERT_ERROR')


def _os_error_name(exc):
    if isinstance(exc, ssl.SSLCertVerificationError):
        return 'CERTIFICATE_VERIFY_FAILED'
    if isinstance(exc, ssl.SSLError):
        return 'SSL_ERROR'
    code = getattr(exc, 'errno', None)
    if code and code in errno.errorcode:
        return errno.errorcode[code]
    if isinstance(exc, socket.gaierror):
        return 'NAME_RESOLUTION_FAILED'
    return 'CONNECTION_ERROR'


def connection_error(exc, target, action):
    """The WBEM error for a socket or ssl exception ``exc``."""
    if isinstance(exc, socket.timeout):
        return WBEMTimeoutError('Timeout while %s %s' % (action, target))
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = getattr(exc, 'verify_message', None) or str(exc)
        return WBEMConnectionError('TLS certificate verification of %s failed: %s'
                                   % (target, detail), error_name='CERTIFICATE_VERIFY_FAILED')
    text = getattr(exc, 'strerror', None) or str(exc) or type(exc).__name__
    return WBEMConnectionError('Error while %s %s: %s' % (action, target, text),
                               error_name=_os_error_name(exc))


class HTTPResponse(object):
    """Status, headers and the body stream of one response."""

    def __init__(self, transport, version, status, reason, headers):
        self.transport = transport
        self.version = version
        self.status = status
        self.reason = reason
        self.header_list = headers
        self.headers = dict((name.lower(), value) for name, value in headers)
        self.trailers = {}
        self.body_length = 0
        self.complete = False

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def trailer_or_header(self, name):
        return self.trailers.get(name.lower(), self.headers.get(name.lower()))

    @property
    def will_close(self):
        if self.version == 'HTTP/1.0':
            return 'keep-alive' not in self.header('connection', '').lower()
        return 'close' in self.header('connection', '').lower()

    def iter_body(self, chunk_size=CHUNK_SIZE):
        """Yield the body in chunks; then :attr:`trailers` and :attr:`complete` are set."""
        return self.transport.iter_body(self, chunk_size)

    def read(self, limit=None):
        """The whole body (at most ``limit`` bytes are accepted)."""
        data = []
        size = 0
        for chunk in self.iter_body():
            size += len(chunk)
            if limit is not None and size > limit:
                raise WBEMConnectionError('The response body exceeds %d bytes' % limit,
                                          error_name='RESPONSE_TOO_LARGE')
            data.append(chunk)
        return b''.join(data)


class HTTPTransport(object):
    """A persistent HTTP/1.1 connection to one server."""

    def __init__(self, scheme, host, port, timeout=30, ssl_context=None, socket_factory=None):
        self.scheme = scheme
        self.host = host
        self.port = port
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.socket_factory = socket_factory or socket.create_connection
        self._sock = None
        self._buffer = b''
        self._reused = False
        self._response_pending = False
        self._deadline = None
        self.last_request = None

    @property
    def target(self):
        return '%s://%s:%s' % (self.scheme, self.host, self.port)

    def close(self):
        sock, self._sock = self._sock, None
        self._buffer = b''
        self._response_pending = False
        if sock is not None:
            try:
                sock.close()
            except (OSError, socket.error):
                pass

    # -- connection and raw I/O

    def _remaining(self, action):
        """Seconds left until the deadline of the request (the timeout without one)."""
        if self._deadline is None:
            return self.timeout
        left = self._deadline - time.monotonic()
        if left <= 0:
            self.close()
            raise WBEMTimeoutError('No complete response from %s within the timeout of %s '
                                   'seconds (while %s)' % (self.target, self.timeout, action))
        return left

    def pause_deadline(self, seconds):
        """Move the deadline by ``seconds`` the caller spent outside this request."""
        if self._deadline is not None and seconds > 0:
            self._deadline += seconds

    def _connect(self):
        timeout = self._remaining('connecting')
        try:
            sock = self.socket_factory((self.host, self.port), timeout)
        except (OSError, socket.error) as exc:
            raise connection_error(exc, self.target, 'connecting to')
        try:
            sock.settimeout(self._remaining('connecting'))
            if self.scheme == 'https':
                context = self.ssl_context or make_ssl_context()
                sock = context.wrap_socket(sock, server_hostname=self.host)
        except (OSError, socket.error, ValueError) as exc:
            try:
                sock.close()
            except (OSError, socket.error):
                pass
            raise connection_error(exc, self.target, 'establishing TLS with')
        self._sock = sock
        self._buffer = b''
        self._reused = False

    def _recv(self):
        if self._sock is None:
            raise WBEMConnectionError('The connection to %s was closed while a response was '
                                      'being read' % self.target, error_name='CONNECTION_CLOSED')
        timeout = self._remaining('receiving the response')
        try:
            self._sock.settimeout(timeout)
            data = self._sock.recv(CHUNK_SIZE)
        except socket.timeout:
            self.close()
            if self._deadline is not None and time.monotonic() >= self._deadline - 0.01:
                raise WBEMTimeoutError('No complete response from %s within the timeout of %s '
                                       'seconds' % (self.target, self.timeout))
            raise WBEMTimeoutError('Timeout while receiving from %s' % self.target)
        except (OSError, socket.error) as exc:
            self.close()
            raise connection_error(exc, self.target, 'receiving from')
        return data

    def _readline(self):
        while True:
            pos = self._buffer.find(b'\n')
            if pos >= 0:
                line, self._buffer = self._buffer[:pos + 1], self._buffer[pos + 1:]
                return line
            if len(self._buffer) > MAX_LINE:
                self.close()
                raise WBEMConnectionError('An HTTP header line from %s is too long'
                                          % self.target, error_name='BAD_HTTP_RESPONSE')
            data = self._recv()
            if not data:
                line, self._buffer = self._buffer, b''
                return line
            self._buffer += data

    def _read_some(self, limit):
        if not self._buffer:
            data = self._recv()
            if not data:
                return b''
            self._buffer = data
        chunk, self._buffer = self._buffer[:limit], self._buffer[limit:]
        return chunk

    # -- request / response

    def request(self, path, headers, body):
        """Send a POST request and return the :class:`HTTPResponse` (headers read).

        Starts the deadline of the request: connecting, sending and receiving the whole
        response (headers and body) must be done within ``timeout`` seconds, not counting the
        time the caller reports with :meth:`pause_deadline`.
        """
        host_header = self.host if ':' not in self.host else '[%s]' % self.host
        if self.port != DEFAULT_PORTS.get(self.scheme):
            host_header += ':%d' % self.port
        lines = ['POST %s HTTP/1.1' % path, 'Host: %s' % host_header]
        for name, value in headers:
            if '\r' in value or '\n' in value or '\r' in name or '\n' in name:
                raise WBEMValueError('HTTP header %s contains a line break' % name)
            lines.append('%s: %s' % (name, value))
        lines.append('Content-Length: %d' % len(body))
        try:
            head = ('\r\n'.join(lines) + '\r\n\r\n').encode('ascii', 'strict')
        except UnicodeEncodeError:
            bad = [name for name, value in headers if not (name + value).isascii()]
            raise WBEMValueError('HTTP header %s contains characters that are not ASCII (it '
                                 'must be encoded first)' % ', '.join(bad or ['Host']))
        self.last_request = head + body
        self._deadline = None if self.timeout is None else time.monotonic() + self.timeout
        for attempt in (1, 2):
            if self._sock is None or self._response_pending:
                self.close()
                self._connect()
            reused = self._reused
            try:
                self._sock.settimeout(self._remaining('sending the request'))
                self._sock.sendall(head + body)
            except (OSError, socket.error) as exc:
                self.close()
                if reused and attempt == 1 and not isinstance(exc, socket.timeout):
                    continue
                raise connection_error(exc, self.target, 'sending the request to')
            self._response_pending = True
            try:
                response = self._read_head()
            except _NoStatusLine:
                self.close()
                if reused and attempt == 1:
                    continue
                raise WBEMConnectionError('The connection to %s was closed without a response'
                                          % self.target, error_name='CONNECTION_CLOSED')
            return response
        raise WBEMConnectionError('Cannot send the request to %s' % self.target)

    def _read_head(self):
        interim = 0
        while True:
            line = self._readline()
            if not line:
                raise _NoStatusLine()
            text = line.decode('latin-1').rstrip('\r\n')
            parts = text.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith('HTTP/') or not parts[1].isdigit():
                self.close()
                raise WBEMConnectionError('Invalid HTTP status line from %s: %r'
                                          % (self.target, text[:100]),
                                          error_name='BAD_HTTP_RESPONSE')
            version, status = parts[0], int(parts[1])
            reason = parts[2] if len(parts) > 2 else ''
            headers = self._read_headers()
            if 100 <= status < 200:
                # 100 Continue and other informational responses: skipped, a few of them
                interim += 1
                if interim > MAX_INTERIM:
                    self.close()
                    raise WBEMConnectionError('%s sent more than %d informational (1xx) '
                                              'responses' % (self.target, MAX_INTERIM),
                                              error_name='TOO_MANY_1XX_RESPONSES')
                continue
            return HTTPResponse(self, version, status, reason, headers)

    def _read_headers(self):
        headers = []
        while True:
            line = self._readline()
            if not line:
                self.close()
                raise WBEMConnectionError('The connection to %s was closed in the HTTP header'
                                          % self.target, error_name='INCOMPLETE_READ')
            if line in (b'\r\n', b'\n'):
                return headers
            if len(headers) >= MAX_HEADERS:
                self.close()
                raise WBEMConnectionError('Too many HTTP header fields from %s' % self.target,
                                          error_name='BAD_HTTP_RESPONSE')
            text = line.decode('latin-1').rstrip('\r\n')
            if text[:1] in (' ', '\t') and headers:
                name, value = headers[-1]
                headers[-1] = (name, value + ' ' + text.strip())
                continue
            name, sep, value = text.partition(':')
            if not sep or not name.strip():
                self.close()
                raise WBEMConnectionError('Invalid HTTP header line from %s: %r'
                                          % (self.target, text[:100]),
                                          error_name='BAD_HTTP_RESPONSE')
            headers.append((name.strip(), value.strip()))

    def iter_body(self, response, chunk_size):
        encoding = response.header('transfer-encoding', '').lower()
        try:
            if 'chunked' in encoding:
                yield from self._iter_chunked(response, chunk_size)
            elif response.header('content-length') is not None:
                try:
                    remaining = int(response.header('content-length'))
                    if remaining < 0:
                        raise ValueError(remaining)
                except ValueError:
                    self.close()
                    raise WBEMConnectionError('Invalid Content-Length from %s'
                                              % self.target, error_name='BAD_HTTP_RESPONSE')
                while remaining > 0:
                    data = self._read_some(min(chunk_size, remaining))
                    if not data:
                        self.close()
                        raise WBEMConnectionError(
                            'The connection to %s was closed after %d bytes of a %d byte '
                            'response body' % (self.target, response.body_length,
                                               response.body_length + remaining),
                            error_name='INCOMPLETE_READ')
                    remaining -= len(data)
                    response.body_length += len(data)
                    yield data
            else:
                while True:
                    data = self._read_some(chunk_size)
                    if not data:
                        break
                    response.body_length += len(data)
                    yield data
                self.close()
        except GeneratorExit:
            self.close()
            raise
        response.complete = True
        self._response_pending = False
        if response.will_close:
            self.close()
        else:
            self._reused = True

    def _iter_chunked(self, response, chunk_size):
        while True:
            line = self._readline()
            if not line:
                self.close()
                raise WBEMConnectionError('The connection to %s was closed in a chunked body'
                                          % self.target, error_name='INCOMPLETE_READ')
            size_text = line.split(b';', 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                self.close()
                raise WBEMConnectionError('Invalid chunk size from %s: %r'
                                          % (self.target, size_text[:20]),
                                          error_name='BAD_HTTP_RESPONSE')
            if size == 0:
                break
            remaining = size
            while remaining > 0:
                data = self._read_some(min(chunk_size, remaining))
                if not data:
                    self.close()
                    raise WBEMConnectionError('The connection to %s was closed in a chunk'
                                              % self.target, error_name='INCOMPLETE_READ')
                remaining -= len(data)
                response.body_length += len(data)
                yield data
            if self._readline() not in (b'\r\n', b'\n'):
                self.close()
                raise WBEMConnectionError('A chunk from %s is not terminated by CRLF'
                                          % self.target, error_name='BAD_HTTP_RESPONSE')
        for name, value in self._read_headers():
            response.trailers[name.lower()] = value


class _NoStatusLine(Exception):
    """The server closed the connection before sending a status line."""
