# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the WBEM client unit tests: CIM-XML response bodies and canned HTTP servers."""

import socket
import threading

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.operations import WBEMConnection

HEAD = ('<?xml version="1.0" encoding="utf-8" ?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.0">'
        '<MESSAGE ID="1001" PROTOCOLVERSION="1.0"><SIMPLERSP>')
TAIL = '</SIMPLERSP></MESSAGE></CIM>'


def imethod_response(method, body):
    """A CIM-XML IMETHODRESPONSE document (bytes) with ``body`` inside."""
    return (HEAD + '<IMETHODRESPONSE NAME="%s">%s</IMETHODRESPONSE>' % (method, body)
            + TAIL).encode('utf-8')


def method_response(method, body):
    return (HEAD + '<METHODRESPONSE NAME="%s">%s</METHODRESPONSE>' % (method, body)
            + TAIL).encode('utf-8')


def instance_xml(i, classname='T_Node'):
    return ('<VALUE.NAMEDINSTANCE><INSTANCENAME CLASSNAME="%(c)s"><KEYBINDING NAME="Id">'
            '<KEYVALUE VALUETYPE="numeric" TYPE="uint32">%(i)d</KEYVALUE></KEYBINDING>'
            '</INSTANCENAME><INSTANCE CLASSNAME="%(c)s">'
            '<PROPERTY NAME="Id" TYPE="uint32"><VALUE>%(i)d</VALUE></PROPERTY>'
            '<PROPERTY NAME="Name" TYPE="string"><VALUE>node%(i)d</VALUE></PROPERTY>'
            '</INSTANCE></VALUE.NAMEDINSTANCE>' % {'c': classname, 'i': i})


def enum_response(count, classname='T_Node'):
    return imethod_response('EnumerateInstances', '<IRETURNVALUE>%s</IRETURNVALUE>' % ''.join(
        instance_xml(i, classname) for i in range(count)))


def http_response(body, status=200, reason='OK', headers=None, chunked=False, trailers=None,
                  content_type='application/xml; charset="utf-8"'):
    lines = ['HTTP/1.1 %d %s' % (status, reason)]
    if content_type:
        lines.append('Content-Type: %s' % content_type)
    for name, value in (headers or {}).items():
        lines.append('%s: %s' % (name, value))
    if chunked:
        lines.append('Transfer-Encoding: chunked')
        if trailers:
            lines.append('Trailer: %s' % ', '.join(trailers))
        parts = []
        for start in range(0, len(body), 100):
            piece = body[start:start + 100]
            parts.append(b'%x\r\n' % len(piece) + piece + b'\r\n')
        tail = b'0\r\n' + b''.join(('%s: %s\r\n' % item).encode('latin-1')
                                   for item in (trailers or {}).items()) + b'\r\n'
        return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + b''.join(parts) + tail
    lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


class FakeSocket(object):
    """A socket whose peer is a list of canned responses (one per request)."""

    def __init__(self, wire):
        self.wire = wire
        self.pending = b''
        self.closed = False

    def settimeout(self, timeout):
        pass

    def sendall(self, data):
        self.wire.requests.append(bytes(data))
        self.pending = self.wire.responses.pop(0) if self.wire.responses else b''

    def recv(self, size):
        data, self.pending = self.pending[:size], self.pending[size:]
        return data

    def close(self):
        self.closed = True


class Wire(object):
    """socket_factory for WBEMConnection: plays ``responses`` back, records requests."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests = []
        self.connects = 0

    def __call__(self, address, timeout):
        self.connects += 1
        return FakeSocket(self)

    def bodies(self):
        return [request.partition(b'\r\n\r\n')[2] for request in self.requests]

    def heads(self):
        return [request.partition(b'\r\n\r\n')[0].decode('latin-1') for request in self.requests]


def connection(*responses, **kwargs):
    """(WBEMConnection over a Wire, the Wire)."""
    wire = Wire(*responses)
    kwargs.setdefault('use_pull_operations', None)
    conn = WBEMConnection('http://127.0.0.1:5988', socket_factory=wire, **kwargs)
    return conn, wire


class CannedServer(object):
    """A real TCP server on 127.0.0.1 (free port) that answers each connection with ``reply``
    (bytes, or None to accept and never answer); stops when the test ends."""

    def __init__(self, reply=None, close=False):
        self.reply = reply
        self.close = close
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.connections = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections.append(conn)
            if self.reply is not None:
                try:
                    conn.settimeout(2)
                    conn.recv(65536)
                    conn.sendall(self.reply)
                    if self.close:
                        conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        for conn in self.connections:
            conn.close()
        self.sock.close()
