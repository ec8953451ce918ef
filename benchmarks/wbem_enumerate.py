# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: EnumerateInstances of a large class, our WBEM client against pywbem 1.9.

A static HTTP server on 127.0.0.1 (a free port, in this process) answers every POST with the
same pre-built CIM-XML EnumerateInstances response: N instances of a class with 12 properties
of mixed types (strings, boolean, uint8/16/32/64, sint32, real64, datetime, a string array).
Each client runs in its own subprocess, which reports the wall time of the operation and the
increase of its peak RSS (the largest RSS sampled every 2 ms from /proc/self/statm during
the operation, minus the RSS before it):

- pywbem 1.9 ``EnumerateInstances`` (the anchor);
- ours, ``EnumerateInstances`` (list API: all instances held at the end);
- ours, ``IterEnumerateInstances`` with the traditional operation (iterator API: instances
  are processed one by one and dropped).

The last line is ``wbem_enumerate: speedup=X.X memory_ratio=Y.YY`` for the 50 000 instance
list API case: speedup = pywbem time / our time, memory_ratio = our RSS increase / pywbem's.
Run with the project's venv: ``.venv/bin/python benchmarks/wbem_enumerate.py`` (or
``make bench``). Options: ``--sizes 10000,50000``, ``--repeat N`` (best of N, default 1).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COLLECTIONS = os.path.join(ROOT, 'build', 'collections')
CLASSNAME = 'HOSTSEC_BenchElement'


def build_response(count):
    """The CIM-XML EnumerateInstances response with ``count`` instances (bytes)."""
    parts = ['<?xml version="1.0" encoding="utf-8" ?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.0">'
             '<MESSAGE ID="1001" PROTOCOLVERSION="1.0"><SIMPLERSP>'
             '<IMETHODRESPONSE NAME="EnumerateInstances"><IRETURNVALUE>\n']
    for i in range(count):
        ident = 'hostsec:bench:%08d' % i
        parts.append(
            '<VALUE.NAMEDINSTANCE><INSTANCENAME CLASSNAME="%(c)s"><KEYBINDING NAME="InstanceID">'
            '<KEYVALUE VALUETYPE="string" TYPE="string">%(id)s</KEYVALUE></KEYBINDING>'
            '</INSTANCENAME><INSTANCE CLASSNAME="%(c)s">'
            '<PROPERTY NAME="InstanceID" TYPE="string"><VALUE>%(id)s</VALUE></PROPERTY>'
            '<PROPERTY NAME="ElementName" TYPE="string"><VALUE>node%(i)d.example.org</VALUE>'
            '</PROPERTY>'
            '<PROPERTY NAME="Description" TYPE="string"><VALUE>Compute node %(i)d in rack '
            '%(r)d &amp; row %(w)d</VALUE></PROPERTY>'
            '<PROPERTY NAME="Enabled" TYPE="boolean"><VALUE>%(b)s</VALUE></PROPERTY>'
            '<PROPERTY NAME="HealthState" TYPE="uint16"><VALUE>%(h)d</VALUE></PROPERTY>'
            '<PROPERTY NAME="Cores" TYPE="uint8"><VALUE>%(cores)d</VALUE></PROPERTY>'
            '<PROPERTY NAME="MemoryKiB" TYPE="uint64"><VALUE>%(mem)d</VALUE></PROPERTY>'
            '<PROPERTY NAME="Jobs" TYPE="uint32"><VALUE>%(jobs)d</VALUE></PROPERTY>'
            '<PROPERTY NAME="Offset" TYPE="sint32"><VALUE>%(off)d</VALUE></PROPERTY>'
            '<PROPERTY NAME="Load" TYPE="real64"><VALUE>%(load)s</VALUE></PROPERTY>'
            '<PROPERTY NAME="InstallDate" TYPE="datetime"><VALUE>2024%(mo)02d%(d)02d'
            '101530.000000+060</VALUE></PROPERTY>'
            '<PROPERTY.ARRAY NAME="Roles" TYPE="string"><VALUE.ARRAY><VALUE>compute</VALUE>'
            '<VALUE>batch</VALUE><VALUE>rack%(r)d</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>'
            '</INSTANCE></VALUE.NAMEDINSTANCE>\n'
            % {'c': CLASSNAME, 'id': ident, 'i': i, 'r': i // 40, 'w': i // 800,
               'b': 'TRUE' if i % 3 else 'FALSE', 'h': (5, 10, 20)[i % 3], 'cores': 16 + i % 112,
               'mem': 268435456 + i * 4096, 'jobs': i % 977, 'off': (i % 200) - 100,
               'load': repr(0.01 * (i % 1000)), 'mo': 1 + i % 12, 'd': 1 + i % 28})
    parts.append('</IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>\n')
    return ''.join(parts).encode('utf-8')


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    body = b''

    def do_POST(self):  # noqa: N802 (http.server API)
        length = int(self.headers.get('Content-Length', '0'))
        self.rfile.read(length)
        self.send_response(200)
        self.send_header('Content-Type', 'application/xml; charset="utf-8"')
        self.send_header('CIMOperation', 'MethodResponse')
        self.send_header('Content-Length', str(len(self.body)))
        self.end_headers()
        view = memoryview(self.body)
        for start in range(0, len(view), 1 << 20):
            self.wfile.write(view[start:start + (1 << 20)])

    def log_message(self, *args):  # silence
        pass


def serve(body):
    handler = type('Handler', (_Handler,), {'body': body})
    server = HTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


CLIENT = r'''
import gc, json, sys, time
sys.path.insert(0, %(collections)r)
mode, port, classname = sys.argv[1], int(sys.argv[2]), sys.argv[3]
url = 'http://127.0.0.1:%%d' %% port
if mode == 'pywbem':
    import pywbem
    conn = pywbem.WBEMConnection(url, None, default_namespace='root/cimv2', timeout=600)
    run = lambda: conn.EnumerateInstances(classname)
else:
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.operations import WBEMConnection
    conn = WBEMConnection(url, default_namespace='root/cimv2', timeout=600,
                          use_pull_operations=False)
    if mode == 'ours-list':
        run = lambda: conn.EnumerateInstances(classname)
    else:
        def run():
            count = 0
            for inst in conn.IterEnumerateInstances(classname):
                count += 1 if inst['InstanceID'] else 0
            return count
import os, threading
PAGE_KIB = os.sysconf('SC_PAGE_SIZE') // 1024
def rss_kib():
    with open('/proc/self/statm') as handle:
        return int(handle.read().split()[1]) * PAGE_KIB
peak = [0]
done = threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss_kib())
        done.wait(0.002)
gc.collect()
before = rss_kib()
peak[0] = before
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
start = time.perf_counter()
result = run()
elapsed = time.perf_counter() - start
done.set()
sampler.join()
peak[0] = max(peak[0], rss_kib())
count = result if isinstance(result, int) else len(result)
print(json.dumps({'seconds': elapsed, 'rss_kib': peak[0] - before, 'count': count}))
'''


def measure(mode, port, expected, repeat):
    best = None
    for _attempt in range(repeat):
        proc = subprocess.run([sys.executable, '-c', CLIENT % {'collections': COLLECTIONS},
                               mode, str(port), CLASSNAME], capture_output=True, text=True,
                              check=False, timeout=3600)
        if proc.returncode != 0:
            raise SystemExit('%s client failed:\n%s' % (mode, proc.stderr[-3000:]))
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if result['count'] != expected:
            raise SystemExit('%s client returned %d instances, expected %d'
                             % (mode, result['count'], expected))
        if best is None or result['seconds'] < best['seconds']:
            best = result
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sizes', default='10000,50000')
    parser.add_argument('--repeat', type=int, default=1)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(',')]
    if not os.path.isdir(os.path.join(COLLECTIONS, 'ansible_collections')):
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'sync_collection.py'),
                        '-q', '--dest', os.path.join(COLLECTIONS, 'ansible_collections',
                                                     'hostsec', 'mgmt')], check=True)
    results = {}
    print('%-8s %-10s %10s %14s' % ('size', 'client', 'seconds', 'peak RSS +MiB'))
    for size in sizes:
        body = build_response(size)
        server = serve(body)
        port = server.server_address[1]
        try:
            for mode in ('pywbem', 'ours-list', 'ours-iter'):
                res = measure(mode, port, size, args.repeat)
                results[(size, mode)] = res
                print('%-8d %-10s %10.2f %14.1f' % (size, mode, res['seconds'],
                                                    res['rss_kib'] / 1024.0))
        finally:
            server.shutdown()
            server.server_close()
        anchor = results[(size, 'pywbem')]
        ours = results[(size, 'ours-list')]
        print('%-8d response %.1f MiB; list API: speedup %.1fx, memory ratio %.2f; '
              'iterator API: speedup %.1fx, memory ratio %.2f'
              % (size, len(body) / 1048576.0, anchor['seconds'] / ours['seconds'],
                 ours['rss_kib'] / float(max(anchor['rss_kib'], 1)),
                 anchor['seconds'] / results[(size, 'ours-iter')]['seconds'],
                 results[(size, 'ours-iter')]['rss_kib'] / float(max(anchor['rss_kib'], 1))))
    if len(sizes) >= 2:
        small, large = results[(sizes[0], 'ours-iter')], results[(sizes[-1], 'ours-iter')]
        print('iterator API peak RSS increase: %d instances %.1f MiB, %d instances %.1f MiB '
              '(ratio %.2f)' % (sizes[0], small['rss_kib'] / 1024.0, sizes[-1],
                                large['rss_kib'] / 1024.0,
                                large['rss_kib'] / float(max(small['rss_kib'], 1))))
    last = sizes[-1]
    anchor, ours = results[(last, 'pywbem')], results[(last, 'ours-list')]
    print('wbem_enumerate: speedup=%.1f memory_ratio=%.2f'
          % (anchor['seconds'] / ours['seconds'],
             ours['rss_kib'] / float(max(anchor['rss_kib'], 1))))


if __name__ == '__main__':
    main()
