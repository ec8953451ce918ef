# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP(S) side of the test CIMOM: DSP0200 CIM operations over HTTP/1.1.

One :class:`CIMOMApp` (repository, dispatcher, quirks, request log, credentials) serves one or
two listening sockets on 127.0.0.1 (plain HTTP and/or HTTPS), each a threaded HTTP/1.1 server
with keep-alive. TLS handshakes run in the connection's thread, so a slow or broken client
never blocks the others.

HTTP behaviour (DSP0200):

- ``POST`` and ``M-POST`` (with the ``Man``/``NN-`` extension headers) to any path;
- authentication: HTTP Basic against the configured user, or a client certificate signed by
  the configured CA (its subject CN becomes the user name); ``401`` with
  ``WWW-Authenticate: Basic realm="hostsec-test-cimom"`` otherwise;
- ``400``/``501`` with a ``CIMError`` header (``request-not-well-formed``,
  ``request-not-valid``, ``header-mismatch``, ``unsupported-protocol-version``,
  ``unsupported-cim-version``, ``unsupported-dtd-version``,
  ``multiple-requests-unsupported``) for requests that are not valid CIM-XML or whose
  ``CIMMethod``/``CIMObject`` headers do not match the body;
- ``200`` with ``CIMOperation: MethodResponse`` and ``Content-Type: application/xml;
  charset="utf-8"`` for every CIM operation response, including ERROR responses.

Every request is appended to the request log (JSON lines, see :class:`RequestLog`) *before*
its response is sent, so a client that got a response finds its request in the log.
"""

import base64
import hmac
import json
import logging
import os
import re
import selectors
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

from pywbem import CIMError, CIM_ERR_NOT_SUPPORTED

from . import cimxml
from .quirks import QuirkState

LOG = logging.getLogger('hostsec-test-cimom')
LOOPBACK = '127.0.0.1'
REALM = 'hostsec-test-cimom'
MAX_BODY = 32 * 1024 * 1024
HANDSHAKE_TIMEOUT = 30
XML_CONTENT_TYPE = 'application/xml; charset="utf-8"'


class RequestLog(object):
    """The request log: one JSON object per line, appended to ``path``.

    Keys of an entry: ``seq`` (1, 2, ... since the server started), ``time`` (epoch seconds),
    ``client`` (address:port), ``scheme`` (http/https), ``http_method``, ``http_status``,
    ``user`` and ``auth`` (basic, certificate, none or null when authentication failed),
    ``operation`` (intrinsic operation name, ``InvokeMethod`` for extrinsic methods),
    ``method`` (extrinsic method name), ``namespace``, ``classname``, ``path`` (target
    object path, untyped WBEM URI without host), ``properties`` (property names of
    NewInstance/ModifiedInstance), ``property_list``, ``query``, ``write`` (operation changes
    the repository; InvokeMethod counts as a write), ``cim_status`` (0 on success) and
    ``cim_status_name`` (``CIM_ERR_...``), ``port`` (the server port the request came in on:
    with ``--extra-https-ports`` each port is one endpoint of a fleet), ``cimerror`` (the CIMError header of HTTP-level
    errors), ``quirks`` (names of the quirks applied), ``duration`` (seconds).
    Tests may truncate the file at any time to reset the log.
    """

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._seq = 0

    def write(self, entry):
        with self._lock:
            self._seq += 1
            entry['seq'] = self._seq
            line = json.dumps(entry, sort_keys=True, default=str) + '\n'
            with open(self.path, 'a', encoding='utf-8') as handle:
                handle.write(line)


class CIMOMApp(object):
    """What every connection of the test CIMOM shares."""

    def __init__(self, conn, state_dir, hostname, username=None, password=None, quirk_state=None):
        self.conn = conn
        self.hostname = hostname
        self.username = username
        self.password = password
        self.quirks = quirk_state or QuirkState(os.path.join(state_dir, 'quirks.json'))
        self.log = RequestLog(os.path.join(state_dir, 'requests.jsonl'))
        self.dispatcher = cimxml.Dispatcher(conn, hostname)

    def authenticate(self, headers, peer_user):
        """``(user, method)``; ``(None, None)`` when the request is not authenticated."""
        if self.username is None:
            return None, 'none'
        if peer_user:
            return peer_user, 'certificate'
        auth = headers.get('authorization', '')
        if auth[:6].lower() == 'basic ':
            try:
                user, _sep, password = base64.b64decode(auth[6:].strip()).decode('utf-8').partition(':')
            except (ValueError, UnicodeDecodeError):
                return None, None
            if hmac.compare_digest(user.encode('utf-8'), self.username.encode('utf-8')) and \
                    hmac.compare_digest(password.encode('utf-8'), (self.password or '').encode('utf-8')):
                return user, 'basic'
        return None, None


def _common_name(cert):
    for rdn in cert.get('subject', ()):
        for key, value in rdn:
            if key == 'commonName':
                return value
    return None


class _Abort(Exception):
    """The response has been sent (or the connection dropped): stop handling the request."""


class CIMXMLHandler(BaseHTTPRequestHandler):
    """One connection; each request is a CIM operation."""

    protocol_version = 'HTTP/1.1'
    server_version = 'hostsec-test-cimom/1.0'
    sys_version = ''
    timeout = 300  # idle keep-alive connections are closed after that

    def setup(self):
        self.peer_user = None
        context = self.server.ssl_context
        if context is not None:
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            self.request = context.wrap_socket(self.request, server_side=True)
            cert = self.request.getpeercert()
            if cert:
                self.peer_user = _common_name(cert)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            if self.server.ssl_context is not None:
                self.request.close()  # the TLS socket; socketserver only knows the raw one

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        LOG.debug('%s %s', self.address_string(), format % args)

    # -- low-level responses -------------------------------------------------------------

    def _send(self, status, headers, body=b'', close=False):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        if close or self.close_connection:
            self.send_header('Connection', 'close')
            self.close_connection = True
        # Headers and body in one write: two small writes and a delayed ACK cost 40 ms.
        self._headers_buffer.append(b'\r\n')
        if body and self.command != 'HEAD':
            self._headers_buffer.append(body)
        self.flush_headers()

    def _cim_headers(self):
        headers = [('CIMOperation', 'MethodResponse')]
        if self._ext_prefix:
            headers = [('Ext', '')] + [(self._ext_prefix + name, value) for name, value in headers]
        return [('Content-Type', XML_CONTENT_TYPE)] + headers

    def _http_error(self, entry, status, cimerror, message, close=False):
        headers = [('Content-Type', 'text/plain; charset=utf-8')]
        if cimerror:
            headers.append(((self._ext_prefix or '') + 'CIMError', cimerror))
        entry.update(http_status=status, cimerror=cimerror, error=message)
        self._finish_entry(entry)
        self._send(status, headers, (message + '\n').encode('utf-8'), close=close)
        raise _Abort()

    def _finish_entry(self, entry):
        entry['duration'] = round(time.monotonic() - self._started, 6)
        self.server.app.log.write(entry)

    # -- request body ----------------------------------------------------------------------

    def _read_body(self, headers, entry):
        if 'chunked' in headers.get('transfer-encoding', '').lower():
            chunks = []
            size = 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    length = int(line.split(b';', 1)[0].strip(), 16)
                except ValueError:
                    self._http_error(entry, 400, None, 'invalid chunked request body', close=True)
                if length == 0:
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                        pass
                    return b''.join(chunks)
                size += length
                if size > MAX_BODY:
                    self._http_error(entry, 413, None, 'request body too large', close=True)
                chunks.append(self.rfile.read(length))
                self.rfile.readline(65537)
        length = headers.get('content-length')
        if length is None:
            self._http_error(entry, 411, None, 'Content-Length required', close=True)
        try:
            length = int(length)
        except ValueError:
            self._http_error(entry, 400, None, 'invalid Content-Length', close=True)
        if length > MAX_BODY or length < 0:
            self._http_error(entry, 413, None, 'request body too large', close=True)
        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True
            raise _Abort()
        return body

    # -- requests --------------------------------------------------------------------------

    def do_POST(self):  # pylint: disable=invalid-name
        self._handle()

    def do_MPOST(self):  # pylint: disable=invalid-name
        self._handle()

    def _handle(self):
        self._started = time.monotonic()  # pylint: disable=attribute-defined-outside-init
        self._ext_prefix = ''  # pylint: disable=attribute-defined-outside-init
        try:
            self._handle_request()
        except _Abort:
            pass
        except (ConnectionError, socket.timeout, ssl.SSLError) as exc:
            LOG.info('connection from %s dropped: %s', self.address_string(), exc)
            self.close_connection = True
        except Exception:  # pylint: disable=broad-except
            LOG.exception('request from %s failed', self.address_string())
            self.close_connection = True
            try:
                self._send(500, [('Content-Type', 'text/plain; charset=utf-8')], b'internal error of the test CIMOM\n',
                           close=True)
            except OSError:
                pass

    def _handle_request(self):
        # pylint: disable=too-many-branches,too-many-statements
        app = self.server.app
        headers = {name.lower(): value for name, value in self.headers.items()}
        if self.command == 'M-POST':
            match = re.search(r'ns=(\d+)', headers.get('man', ''))
            if match:
                self._ext_prefix = match.group(1) + '-'  # pylint: disable=attribute-defined-outside-init
                for name in list(headers):
                    if name.startswith(self._ext_prefix):
                        headers[name[len(self._ext_prefix):]] = headers[name]
        entry = {'time': round(time.time(), 6), 'client': '%s:%s' % self.client_address[:2],
                 'port': self.server.server_address[1], 'scheme': self.server.scheme, 'http_method': self.command,
                 'operation': unquote(headers.get('cimmethod', '')) or None, 'quirks': []}
        body = self._read_body(headers, entry)
        quirks = app.quirks

        user, auth = app.authenticate(headers, self.peer_user)
        entry.update(user=user, auth=auth)
        if quirks.match('always_401', operation=entry['operation']) is not None:
            entry['quirks'].append('always_401')
            auth = None
        if auth is None:
            entry.update(http_status=401, auth=None)
            self._finish_entry(entry)
            self._send(401, [('WWW-Authenticate', 'Basic realm="%s"' % REALM),
                             ('Content-Type', 'text/plain; charset=utf-8')], b'authentication required\n')
            return

        if headers.get('cimoperation', '').lower() != 'methodcall':
            self._http_error(entry, 400, 'header-mismatch', 'CIMOperation header must be MethodCall')
        version = headers.get('cimprotocolversion')
        if version is not None and not version.strip().startswith('1.'):
            self._http_error(entry, 501, 'unsupported-protocol-version', 'CIMProtocolVersion %s' % version)
        content_type = headers.get('content-type', XML_CONTENT_TYPE).lower()
        if 'xml' not in content_type:
            self._http_error(entry, 400, 'request-not-valid', 'Content-Type %s is not XML' % content_type)
        try:
            request = cimxml.parse_request(body, headers)
        except cimxml.RequestError as exc:
            self._http_error(entry, exc.status, exc.cimerror, str(exc))

        error = None
        try:
            if request.kind == 'intrinsic':
                cimxml.check_intrinsic(request)
        except CIMError as exc:
            error = exc
        entry.update(request.summary() if error is None else
                     {'operation': request.operation, 'method': request.method, 'namespace': request.namespace,
                      'classname': request.classname})
        entry['write'] = request.operation in cimxml.WRITE_OPERATIONS
        match = {'operation': request.operation, 'method': request.method, 'classname': request.classname}

        raw = quirks.match('raw_response', **match)
        if raw is not None:
            entry['quirks'].append('raw_response')
            self._send_raw(entry, raw)
            return
        if quirks.match('http_500', **match) is not None:
            entry['quirks'].append('http_500')
            entry['http_status'] = 500
            self._finish_entry(entry)
            self._send(500, [('Content-Type', 'text/html; charset=utf-8'),
                             ('PGErrorDetail', quote('hostsec test CIMOM: quirk http_500'))],
                       b'<html><head><title>500 Internal Server Error</title></head>'
                       b'<body><h1>Internal Server Error</h1></body></html>\n')
            return

        result = None
        if error is None:
            cim_error = quirks.match('cim_error', **match)
            no_pull = quirks.match('no_pull', **match) if request.operation in cimxml.PULL_OPERATIONS else None
            try:
                if cim_error is not None:
                    entry['quirks'].append('cim_error')
                    code = cim_error.get('code', cim_error['value'])
                    raise CIMError(cimxml.status_code(code), cim_error.get('description', 'quirk cim_error'))
                if no_pull is not None:
                    entry['quirks'].append('no_pull')
                    code = CIM_ERR_NOT_SUPPORTED if no_pull['value'] is True else cimxml.status_code(no_pull['value'])
                    raise CIMError(code, 'pull operations are not supported by this server')
                ignore = quirks.match('ignore_writes', **match) if request.operation in cimxml.VOID_OPERATIONS \
                    and request.operation in cimxml.WRITE_OPERATIONS else None
                if ignore is not None:
                    entry['quirks'].append('ignore_writes')
                else:
                    result = app.dispatcher.run(request)
                if request.operation in ('GetClass', 'EnumerateClasses') and \
                        quirks.match('upper_parameter_qualifiers', **match) is not None:
                    entry['quirks'].append('upper_parameter_qualifiers')
                    result = cimxml.upper_parameter_qualifiers(result)
                drops = quirks.match('modify_drops_unlisted', **match) \
                    if ignore is None and request.operation == 'ModifyInstance' \
                    and request.params.get('PropertyList') is not None else None
                if drops is not None:
                    entry['quirks'].append('modify_drops_unlisted')
                    app.dispatcher.drop_unlisted(request.params['ModifiedInstance'].path,
                                                 request.params['PropertyList'], keep_keys=bool(drops.get('keep_keys')))
            except CIMError as exc:
                error = exc
            except Exception as exc:  # pylint: disable=broad-except
                LOG.exception('%s failed', request.operation)
                error = cimxml.internal_error(exc)
        if request.classname and not entry.get('classname'):
            entry['classname'] = request.classname

        flags = {}
        for name in ('empty_ireturnvalue', 'omit_empty_ireturnvalue'):
            if quirks.match(name, **match) is not None:
                entry['quirks'].append(name)
                flags[name] = True
        try:
            text = cimxml.encode_response(request, result=result, error=error, hostname=app.hostname, **flags)
        except Exception as exc:  # pylint: disable=broad-except
            LOG.exception('encoding the response of %s failed', request.operation)
            error = cimxml.internal_error(exc)
            text = cimxml.encode_response(request, error=error, hostname=app.hostname)
        if quirks.match('single_namespace_element', **match) is not None:
            entry['quirks'].append('single_namespace_element')
            text = cimxml.single_namespace_element(text)
        if request.operation in ('GetQualifier', 'EnumerateQualifiers') and \
                quirks.match('qualifier_no_isarray', **match) is not None:
            entry['quirks'].append('qualifier_no_isarray')
            text = cimxml.qualifier_no_isarray(text)
        if quirks.match('compact_empty_elements', **match) is not None:
            entry['quirks'].append('compact_empty_elements')
        else:
            text = cimxml.expand_empty_elements(text)
        data = text.encode('utf-8')
        code = error.status_code if error is not None else 0
        entry.update(http_status=200, cim_status=code, cim_status_name=cimxml.status_name(code))
        if error is not None:
            entry['error'] = error.status_description

        delay = quirks.match('delay', **match)
        reset = quirks.match('reset', **match)
        chunked = quirks.match('chunked', **match)
        close = quirks.match('close', **match)
        for name, config in (('delay', delay), ('reset', reset), ('chunked', chunked), ('close', close)):
            if config is not None:
                entry['quirks'].append(name)
        self._finish_entry(entry)
        if delay is not None:
            time.sleep(float(delay['value']))
        if reset is not None:
            self._send_reset(data, float(reset.get('fraction', 0.5)))
        elif chunked is not None:
            self._send_chunked(data, chunked, code, error, close=close is not None)
        else:
            self._send(200, self._cim_headers(), data, close=close is not None)

    def _send_raw(self, entry, raw):
        status = int(raw.get('status', 200))
        if raw.get('body_base64') is not None:
            body = base64.b64decode(raw['body_base64'])
        else:
            body = str(raw.get('body', '')).encode('utf-8')
        headers = [('Content-Type', raw.get('content_type', XML_CONTENT_TYPE))]
        headers.extend((str(k), str(v)) for k, v in (raw.get('headers') or {}).items())
        entry['http_status'] = status
        self._finish_entry(entry)
        self._send(status, headers, body)

    def _send_reset(self, data, fraction):
        self.send_response(200)
        for name, value in self._cim_headers():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data[:max(1, int(len(data) * fraction))])
        self.wfile.flush()
        # SO_LINGER 0: closing sends a TCP RST instead of a FIN (and no TLS close_notify).
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.close_connection = True
        self.connection.close()

    def _send_chunked(self, data, config, code, error, close=False):
        size = max(1, int(config.get('chunk_size', 100)))
        trailers = bool(config.get('trailers'))
        self.send_response(200)
        for name, value in self._cim_headers():
            self.send_header(name, value)
        self.send_header('Transfer-Encoding', 'chunked')
        if trailers:
            self.send_header('Trailer', 'CIMStatusCode, CIMStatusCodeDescription')
        if close or self.close_connection:
            self.send_header('Connection', 'close')
            self.close_connection = True
        self.end_headers()
        for start in range(0, len(data), size):
            chunk = data[start:start + size]
            self.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
        self.wfile.write(b'0\r\n')
        if trailers:
            self.wfile.write(b'CIMStatusCode: %d\r\n' % code)
            if error is not None:
                self.wfile.write(b'CIMStatusCodeDescription: %s\r\n' % quote(error.status_description).encode('ascii'))
        self.wfile.write(b'\r\n')


setattr(CIMXMLHandler, 'do_M-POST', CIMXMLHandler.do_MPOST)


class CIMOMHTTPServer(ThreadingHTTPServer):
    """A listening socket of the test CIMOM (plain HTTP, or HTTPS with ``ssl_context``)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, port, ssl_context=None):
        self.app = app
        self.ssl_context = ssl_context
        self.scheme = 'https' if ssl_context is not None else 'http'
        super().__init__((LOOPBACK, port), CIMXMLHandler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        LOG.info('connection from %s:%s failed: %s: %s', client_address[0], client_address[1],
                 type(exc).__name__, exc)


def tls_context(certfile, keyfile, client_ca=None, require_client_cert=False):
    """The server-side TLS context: TLS >= 1.2; client certificates verified against
    ``client_ca`` (optional unless ``require_client_cert``)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    if client_ca:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return context


def serve_many(servers, stop_event):
    """Accept on the listening sockets of ``servers`` in one thread (a fleet of endpoints:
    hundreds of ports, one selector instead of a thread per port), each connection handled in
    a thread of its own, until ``stop_event`` is set."""
    with selectors.DefaultSelector() as selector:
        for server in servers:
            selector.register(server, selectors.EVENT_READ, server)
        while not stop_event.is_set():
            for key, _events in selector.select(0.2):
                key.data._handle_request_noblock()  # pylint: disable=protected-access


def serve(servers, stop_event, fleet=()):
    """Serve every server in its own thread, and those of ``fleet`` in one accept thread
    (:func:`serve_many`), until ``stop_event`` is set, then shut down."""
    threads = []
    if fleet:
        fleet_stop = threading.Event()
        thread = threading.Thread(target=serve_many, args=(fleet, fleet_stop), name='serve-fleet', daemon=True)
        thread.start()
        threads.append(thread)
    for server in servers:
        thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2},
                                  name='serve-%s' % server.scheme, daemon=True)
        thread.start()
        threads.append(thread)
    stop_event.wait()
    if fleet:
        fleet_stop.set()
        threads[0].join(5)
        for server in fleet:
            server.server_close()
    for server in servers:
        server.shutdown()
        server.server_close()
    for thread in threads:
        thread.join(5)
