# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile WBEM servers, and the WBEM client run in a child process to measure it.

:class:`HostileServer` listens on a free port of 127.0.0.1 (a thread per connection, as in
:mod:`.faults`) and answers every CIM-XML request with one of the :data:`SCENARIOS`: an
endless body, a trickled body, a flood of ``100 Continue``, one endless object, endless
nesting, a giant attribute ... Every scenario stops by itself: after ``max_seconds`` or
``max_bytes`` the server closes the connection, so even a client without limits ends.

:func:`run_client` runs one operation of the collection's WBEM client against it in a child
process (``python -m harness.hostile_http``) and returns what happened: the error class and
name, the seconds until the error, and the child's peak RSS (``VmHWM``). The child limits its
address space (``RLIMIT_AS``) and its run time (``alarm``), so a client that has no limits of
its own fails there instead of eating the test machine.
"""

import json
import os
import re
import select
import socket
import subprocess
import sys
import time

from .faults import _Listener

MIB = 1024 * 1024

_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.0">'
         '<MESSAGE ID="1001" PROTOCOLVERSION="1.0"><SIMPLERSP><IMETHODRESPONSE NAME="%s">'
         '<IRETURNVALUE>')
_TAIL = '</IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>'
_ITEM = ('<INSTANCENAME CLASSNAME="CIM_Foo"><KEYBINDING NAME="Name"><KEYVALUE '
         'VALUETYPE="string">node%08d</KEYVALUE></KEYBINDING></INSTANCENAME>\n')
_BATCH = 500   # items of a chunk of an endless body (about 64 KiB)


def _chunk(data):
    return b'%x\r\n%s\r\n' % (len(data), data)


def _chunked_head():
    return (b'HTTP/1.1 200 OK\r\nContent-Type: application/xml; charset="utf-8"\r\n'
            b'Transfer-Encoding: chunked\r\n\r\n')


def _endless_items(method):
    """A chunked response of valid INSTANCENAME items that never ends."""
    yield _chunked_head() + _chunk((_HEAD % method).encode())
    number = 0
    while True:
        yield _chunk(''.join(_ITEM % (number + i) for i in range(_BATCH)).encode())
        number += _BATCH


def _many_items(method, count=60000):
    """The reference: a large but finite valid response (``count`` INSTANCENAME items)."""
    yield _chunked_head() + _chunk((_HEAD % method).encode())
    for number in range(0, count, _BATCH):
        yield _chunk(''.join(_ITEM % (number + i) for i in range(_BATCH)).encode())
    yield _chunk(_TAIL.encode()) + b'0\r\n\r\n'


def _endless_body(method):
    """A chunked response of IRETURNVALUE children the operation does not expect."""
    yield _chunked_head() + _chunk((_HEAD % method).encode())
    block = _chunk(b'<CLASSNAME NAME="CIM_Foo"/>' * 2400)
    while True:
        yield block


def _huge_content_length(method):
    """Content-Length of 100 GiB, then valid items."""
    yield (b'HTTP/1.1 200 OK\r\nContent-Type: application/xml; charset="utf-8"\r\n'
           b'Content-Length: %d\r\n\r\n' % (100 * 1024 * MIB) + (_HEAD % method).encode())
    number = 0
    while True:
        yield ''.join(_ITEM % (number + i) for i in range(_BATCH)).encode()
        number += _BATCH


def _huge_chain(method):
    """One item (INSTANCENAME) whose list of key bindings never ends."""
    yield _chunked_head() + _chunk(((_HEAD % method) + '<INSTANCENAME CLASSNAME="CIM_Foo">')
                                   .encode())
    block = _chunk(b'<KEYBINDING NAME="k"><KEYVALUE>1</KEYVALUE></KEYBINDING>' * 1200)
    while True:
        yield block


def _deep_nesting(method):
    """Elements nested ever deeper below IRETURNVALUE."""
    yield _chunked_head() + _chunk((_HEAD % method).encode())
    block = _chunk(b'<VALUE.ARRAY>' * 5000)
    while True:
        yield block


def _giant_attribute(method):
    """An attribute value that never ends."""
    yield _chunked_head() + _chunk(((_HEAD % method) + '<INSTANCENAME CLASSNAME="').encode())
    block = _chunk(b'A' * 65536)
    while True:
        yield block


def _trickle(method):
    """A small valid response (Content-Length), sent one byte every 0.25 s."""
    body = ((_HEAD % method) + _ITEM % 1 + _TAIL).encode()
    yield (b'HTTP/1.1 200 OK\r\nContent-Type: application/xml; charset="utf-8"\r\n'
           b'Content-Length: %d\r\n\r\n' % len(body))
    for index in range(len(body)):
        yield 0.25
        yield body[index:index + 1]


def _continue_flood(_method):
    """``100 Continue`` responses as fast as the client reads them."""
    block = b'HTTP/1.1 100 Continue\r\n\r\n' * 1000
    while True:
        yield block


def _continue_slow(_method):
    """One ``100 Continue`` every 0.5 s (each read gets data well within the timeout)."""
    while True:
        yield b'HTTP/1.1 100 Continue\r\n\r\n'
        yield 0.5


SCENARIOS = {
    'many_items': _many_items,
    'endless_items': _endless_items,
    'endless_body': _endless_body,
    'huge_content_length': _huge_content_length,
    'huge_chain': _huge_chain,
    'deep_nesting': _deep_nesting,
    'giant_attribute': _giant_attribute,
    'trickle': _trickle,
    'continue_flood': _continue_flood,
    'continue_slow': _continue_slow,
}


class HostileServer(_Listener):
    """Answer each request with ``scenario``; stop after ``max_seconds`` or ``max_bytes``.

    ``sent`` lists the bytes sent per connection.
    """

    def __init__(self, scenario, max_seconds=30.0, max_bytes=512 * MIB, max_connections=4):
        super(HostileServer, self).__init__(max_connections)
        self.scenario = SCENARIOS[scenario]
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self.sent = []

    def _read_request(self, client):
        data = b''
        deadline = time.monotonic() + 10
        while b'\r\n\r\n' not in data:
            if time.monotonic() > deadline or self._stop.is_set():
                return None
            if not select.select([client], [], [], 0.1)[0]:
                continue
            piece = client.recv(65536)
            if not piece:
                return None
            data += piece
        head, _sep, body = data.partition(b'\r\n\r\n')
        match = re.search(br'(?i)content-length:\s*(\d+)', head)
        length = int(match.group(1)) if match else 0
        while len(body) < length and time.monotonic() < deadline:
            piece = client.recv(65536)
            if not piece:
                return None
            body += piece
        match = re.search(br'<I?METHODCALL NAME="([^"]+)"', body)
        return match.group(1).decode('utf-8', 'replace') if match else 'Unknown'

    def handle(self, client):
        index = len(self.sent)
        self.sent.append(0)
        started = time.monotonic()
        try:
            method = self._read_request(client)
            if method is None:
                return
            for piece in self.scenario(method):
                if self._stop.is_set() or time.monotonic() - started > self.max_seconds:
                    return
                if isinstance(piece, float):
                    if self._stop.wait(piece):
                        return
                    continue
                if self.sent[index] + len(piece) > self.max_bytes:
                    return
                client.sendall(piece)
                self.sent[index] += len(piece)
        except OSError:
            return
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()


# ---------------------------------------------------------------- the client, in a child


def run_client(url, operation='EnumerateInstanceNames', timeout=5.0, options=None,
               wall=90, address_space=1024 * MIB):
    """Run ``operation`` of ``WBEMConnection(url, timeout=timeout, **options)`` in a child.

    Returns a dict: ``error_class``, ``error_name``, ``message`` (``None`` when the operation
    succeeded), ``result_count``, ``seconds`` (the operation's duration) and ``peak_rss_mib``
    (the child's VmHWM at the end, interpreter and imports included).
    """
    from . import paths  # pylint: disable=import-outside-toplevel
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([tests_dir, paths.COLLECTIONS])
    spec = dict(url=url, operation=operation, timeout=timeout, options=options or {},
                wall=wall, address_space=address_space)
    proc = subprocess.run([sys.executable, '-m', 'harness.hostile_http', json.dumps(spec)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          cwd=tests_dir, timeout=wall + 30, check=False)
    lines = proc.stdout.decode('utf-8', 'replace').strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise AssertionError('the client child failed (rc %s): %s %s'
                             % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    return json.loads(lines[-1])


def _peak_rss_mib():
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024.0
    return None


def _child(spec):
    import resource  # pylint: disable=import-outside-toplevel
    import signal  # pylint: disable=import-outside-toplevel
    resource.setrlimit(resource.RLIMIT_AS, (spec['address_space'], spec['address_space']))
    signal.alarm(int(spec['wall']))
    # pylint: disable=import-outside-toplevel
    from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import HostsecError
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.operations import (
        WBEMConnection)
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.xml_parse import Limits
    result = dict(error_class=None, error_name=None, message=None, result_count=None)
    started = time.monotonic()
    try:
        options = dict(spec['options'])
        if 'max_response_size' in options:
            options['limits'] = Limits(max_size=options.pop('max_response_size'))
        conn = WBEMConnection(spec['url'], timeout=spec['timeout'], **options)
        operation = spec['operation']
        if operation == 'EnumerateInstanceNames':
            result['result_count'] = len(conn.EnumerateInstanceNames('CIM_Foo'))
        elif operation == 'IterEnumerateInstancePaths':
            count = 0
            for _path in conn.IterEnumerateInstancePaths('CIM_Foo'):
                count += 1
            result['result_count'] = count
        else:
            raise ValueError('unknown operation %s' % operation)
    except HostsecError as exc:
        result.update(error_class=type(exc).__name__, error_name=exc.error_name,
                      message=str(exc)[:500])
    except Exception as exc:  # pylint: disable=broad-except
        result.update(error_class=type(exc).__name__, error_name='UNCAUGHT',
                      message=str(exc)[:500])
    result['seconds'] = round(time.monotonic() - started, 2)
    result['peak_rss_mib'] = round(_peak_rss_mib(), 1)
    sys.stdout.write(json.dumps(result) + '\n')


if __name__ == '__main__':
    _child(json.loads(sys.argv[1]))
