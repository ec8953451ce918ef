# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One GET with the MyProxy client (module_utils), measured: for the hostile-server tests.

JSON on stdin: ``port``, ``ca_dir``, ``timeout``. Prints JSON: ``error`` (the exception's
``to_dict()``, or ``None``), ``elapsed`` (seconds the GET took), ``rss_before_kib`` (RSS of
this process right before the GET, after the imports and the key generation) and
``rss_peak_kib`` (peak RSS during the GET: the peak is reset before it through
``/proc/self/clear_refs``, so the transient peak of the imports does not hide it).
PYTHONPATH must contain build/collections.
"""

import json
import sys
import time

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import HostsecError
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.client import MyProxyClient
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509


def status_kib(field):
    """``VmRSS`` / ``VmHWM`` (peak) of this process, in KiB."""
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError('%s not in /proc/self/status' % field)


def main():
    args = json.load(sys.stdin)
    key = mx509.generate_key('ec', 256)
    client = MyProxyClient('localhost', port=args['port'], ca_dir=args['ca_dir'],
                           timeout=args['timeout'])
    with open('/proc/self/clear_refs', 'w') as handle:
        handle.write('5')  # reset the peak RSS (VmHWM) to the current RSS
    before = status_kib('VmRSS')
    start = time.monotonic()
    error = None
    try:
        client.get('hostile', 'hostile-Pass1', lifetime=3600, key=key)
    except HostsecError as exc:
        error = exc.to_dict()
    elapsed = time.monotonic() - start
    json.dump({'error': error, 'elapsed': elapsed, 'rss_before_kib': before,
               'rss_peak_kib': status_kib('VmHWM')},
              sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
