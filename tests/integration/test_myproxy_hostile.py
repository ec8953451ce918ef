# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MyProxy client's GET against a hostile server (tests/harness/hostile_myproxy.py).

A server that announces a huge chain, sends a giant certificate or trickles its reply gets a
clean error (the exception class and its error name), within a bound of the configured
``timeout``, and without the client's memory growing with what the server offers. The client
runs in a subprocess (tests/harness/bin/myproxy_get_peak.py) that reports its own peak RSS.

Print the figures with::

    .venv/bin/python -m pytest tests/integration/test_myproxy_hostile.py -q -s
"""

import json
import os
import subprocess
import sys
import time

import pytest

from harness import paths
from harness.hostile_myproxy import HostileMyProxyServer

pytestmark = pytest.mark.slow

PROBE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness',
                     'bin', 'myproxy_get_peak.py')
# What the client may hold on top of its baseline: a certificate limit and a read chunk, with
# room for the interpreter; far below what the servers offer (255 x 60 kB chain, 4 MiB
# certificate; the servers send at most MAX_BYTES).
RSS_GROWTH_LIMIT_KIB = 4 * 1024
MAX_BYTES = 48 * 1024 * 1024


def run_get(server, timeout):
    env = dict(os.environ, PYTHONPATH=paths.COLLECTIONS)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, PROBE], input=json.dumps(
        {'port': server.port, 'ca_dir': server.ca_dir, 'timeout': timeout}),
        env=env, capture_output=True, text=True, timeout=120, check=False)
    wall = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    result['growth_kib'] = result['rss_peak_kib'] - result['rss_before_kib']
    print('\n%s: error=%s elapsed=%.2fs wall=%.2fs peak_rss=%d KiB growth=%d KiB '
          'server_sent=%s bytes' % (server.mode, (result['error'] or {}).get('name'),
                                    result['elapsed'], wall, result['rss_peak_kib'],
                                    result['growth_kib'], server.sent))
    return result


def test_huge_chain_is_refused_before_it_is_read(tmp_path):
    with HostileMyProxyServer(str(tmp_path), 'long_chain', max_bytes=MAX_BYTES) as server:
        result = run_get(server, timeout=10)
    assert result['error']['class'] == 'MyProxyProtocolError'
    assert result['error']['name'] == 'CHAIN_TOO_LONG'
    assert result['error']['count'] == 255 and result['error']['limit'] == 10
    assert result['growth_kib'] < RSS_GROWTH_LIMIT_KIB
    assert result['elapsed'] < 3 * 10


def test_giant_certificate_is_refused_from_its_header(tmp_path):
    with HostileMyProxyServer(str(tmp_path), 'giant', max_bytes=MAX_BYTES) as server:
        result = run_get(server, timeout=10)
        sent = server.sent
    assert result['error']['class'] == 'MyProxyProtocolError'
    assert result['error']['name'] == 'CERTIFICATE_TOO_LARGE'
    assert result['error']['size'] == 4 * 1024 * 1024 and result['error']['limit'] == 64 * 1024
    assert result['growth_kib'] < RSS_GROWTH_LIMIT_KIB
    # The client hung up long before the 4 MiB were through (TCP buffers hold some).
    assert sent[0] < 4 * 1024 * 1024


def test_trickled_chain_hits_the_total_deadline(tmp_path):
    # 9 certificates (within the limit) of 5 bytes, one byte every 0.15 s: each element takes
    # 0.75 s, less than the 1 s timeout, the whole chain 6.75 s.
    with HostileMyProxyServer(str(tmp_path), 'trickle', count=9, delay=0.15) as server:
        result = run_get(server, timeout=1)
    assert result['error']['class'] == 'MyProxyConnectionError'
    assert result['error']['name'] == 'ETIMEDOUT'
    assert result['elapsed'] < 3 * 1
