# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MyProxy logon: our client against the Globus C myproxy-logon, same server, same key size.

One myproxy-server (tests/harness) on 127.0.0.1 holds a stored credential. Each run retrieves a
12-hour proxy with a fresh RSA key and writes it to a file:

- ``myproxy-logon``: the C client, one process per logon;
- ours: tests/harness/bin/myproxy_probe.py, one Python process per logon (what a module does
  on the managed host, without Ansible's own overhead);
- ours in one process: the GET alone (key generation, TLS, protocol), no interpreter start-up.

Prints the median seconds of each and the ratio ours / C (target: 1.5 or less). Then runs the
myproxy_logon module twice through a counting TCP proxy in front of the server: the first run
retrieves a proxy, the second (no-change) run must not open a single connection; it prints the
connections each run made and the no-change run's wall time (ansible ad-hoc, process included)
and the cost of its decision alone (reading and checking the proxy file in-process).

Usage: python benchmarks/myproxy_logon.py [runs]   (default 15 runs per tool)
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import ansible, paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.faults import CuttingProxy  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.myproxy import MyProxyService  # noqa: E402  pylint: disable=wrong-import-position

PROBE = os.path.join(ROOT, 'tests', 'harness', 'bin', 'myproxy_probe.py')
USER = 'bench-alice'
PASSPHRASE = 'bench-Passphrase-1'
IN_PROCESS = """
import json, sys, time
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.client import MyProxyClient
args = json.load(sys.stdin)
runs = args.pop('runs')
client = MyProxyClient(args['server'], port=args['port'], ca_dir=args['ca_dir'])
client.get(args['username'], args['passphrase'], lifetime=args['lifetime'], key_size=args['key_size'])
times = []
for _index in range(runs):
    start = time.perf_counter()
    client.get(args['username'], args['passphrase'], lifetime=args['lifetime'],
               key_size=args['key_size'])
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""
DECIDE = """
import json, sys, time
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.manage import inspect_proxy_file
path, runs = sys.argv[1], int(sys.argv[2])
times = []
for _index in range(runs):
    start = time.perf_counter()
    state = inspect_proxy_file(path, 3600)
    times.append(time.perf_counter() - start)
assert state['usable'], state
print(json.dumps(times))
"""


def timed(argv, stdin, env):
    start = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError('%s failed: %s %s' % (argv[0], proc.stdout, proc.stderr))
    return elapsed


def key_bits(path):
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (  # pylint: disable=import-outside-toplevel
        read_credential_file)
    return read_credential_file(path).describe()['key_size']


def main(argv):
    runs = int(argv[1]) if len(argv) > 1 else 15
    paths.sync_collection()
    sys.path.insert(0, paths.COLLECTIONS)
    env = dict(os.environ, PYTHONPATH=paths.COLLECTIONS)
    workdir = tempfile.mkdtemp(prefix='hostsec-bench-myproxy-')
    with MyProxyService(os.path.join(workdir, 'server')) as service:
        from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.client import MyProxyClient  # pylint: disable=import-outside-toplevel
        from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import read_credential_file  # pylint: disable=import-outside-toplevel
        info = service.users['alice']
        owner = read_credential_file(info['cert'], info['key'], passphrase=info['key_passphrase'])
        MyProxyClient('localhost', service.port, ca_dir=service.ca_dir,
                      credential=owner).store(USER, owner, PASSPHRASE)
        c_env = service.client_env()
        c_out = os.path.join(workdir, 'c-proxy.pem')
        c_argv = ['myproxy-logon', '-S', '-l', USER, '-t', '12', '-o', c_out]
        timed(c_argv, PASSPHRASE + '\n', c_env)            # warm-up
        bits = key_bits(c_out)
        request = {'server': 'localhost', 'port': service.port, 'ca_dir': service.ca_dir,
                   'username': USER, 'passphrase': PASSPHRASE, 'lifetime': 12 * 3600,
                   'key_size': bits, 'dest': os.path.join(workdir, 'our-proxy.pem')}
        timed([sys.executable, PROBE], json.dumps(request), env)  # warm-up
        assert key_bits(request['dest']) == bits
        theirs, ours = [], []
        for _index in range(runs):                          # interleaved: same load for both
            theirs.append(timed(c_argv, PASSPHRASE + '\n', c_env))
            ours.append(timed([sys.executable, PROBE], json.dumps(request), env))
        proc = subprocess.run([sys.executable, '-c', IN_PROCESS],
                              input=json.dumps(dict(request, runs=runs)), env=env,
                              capture_output=True, text=True, timeout=600, check=True)
        in_process = json.loads(proc.stdout)

        c_median, our_median = statistics.median(theirs), statistics.median(ours)
        print('myproxy logon, RSA %d-bit key, %d runs each, medians:' % (bits, runs))
        print('  myproxy-logon (C), process per logon : %.3f s' % c_median)
        print('  ours, process per logon              : %.3f s' % our_median)
        print('  ours, in one process (GET only)      : %.3f s' % statistics.median(in_process))
        print('  ratio ours / C (process per logon)   : %.2f  (target <= 1.5)'
              % (our_median / c_median))

        dest = os.path.join(workdir, 'x509up_module')
        with CuttingProxy(service.port) as counter:
            args = ('server=localhost port=%d ca_dir=%s username=%s passphrase=%s dest=%s'
                    % (counter.port, service.ca_dir, USER, PASSPHRASE, dest))
            first = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', args)
            after_first = counter.connections
            start = time.perf_counter()
            second = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', args)
            no_change = time.perf_counter() - start
            after_second = counter.connections
        for run in (first, second):
            if run.rc != 0:
                raise RuntimeError(run.explain())
        result = second.results[-1]['result']
        proc = subprocess.run([sys.executable, '-c', DECIDE, dest, str(runs)], env=env,
                              capture_output=True, text=True, timeout=120, check=True)
        decide = statistics.median(json.loads(proc.stdout))
        print('myproxy_logon module, no-change run:')
        print('  server connections: first run %d, no-change run %d  (target 0)'
              % (after_first, after_second - after_first))
        print('  no-change run: changed=%s reason=%s, %.2f s wall (ansible ad-hoc, process '
              'included); decision alone %.4f s'
              % (result['changed'], result['reason'], no_change, decide))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
