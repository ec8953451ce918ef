# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""krb5_ticket's client (module_utils) against MIT's kinit and klist, same throwaway KDC.

- acquire: a new TGT with a password into a file cache -- ours (GSSAPI acquire with password,
  store into a private cache, atomic write) against ``kinit`` reading the password on stdin;
- no change: the decision of a run that finds a valid TGT (read the cache, compare; no KDC)
  against ``klist -s`` (exit status only).

Each is measured twice for ours: in one process (the client's own cost) and as one Python
process per run (as under Ansible, which adds its own per-task overhead on top). The MIT tools
always run as a process. Prints medians and the ratio MIT / ours (above 1: ours is faster).
Usage: python benchmarks/krb5_ticket.py [RUNS]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.krb5 import USERS, Krb5Service  # noqa: E402  pylint: disable=wrong-import-position

CLIENT = """
import json, sys, time
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import ticket
args = json.load(sys.stdin)
runs = args.pop('runs')
times = []
for _run in range(runs):
    start = time.perf_counter()
    result = ticket.present(ticket.TicketRequest(**args))
    times.append(time.perf_counter() - start)
print(json.dumps({'action': result['action'], 'times': times}))
"""


def run_client(env, args, runs):
    """``runs`` calls in one process; returns (action, [seconds])."""
    proc = subprocess.run([sys.executable, '-c', CLIENT], input=json.dumps(dict(args, runs=runs)),
                          env=env, capture_output=True, text=True, timeout=600, check=True)
    result = json.loads(proc.stdout)
    return result['action'], result['times']


def per_process(env, args, runs):
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        action, _inner = run_client(env, args, 1)
        times.append(time.perf_counter() - start)
    return action, times


def timed_tool(argv, env, stdin, runs):
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise RuntimeError('%s failed: %s' % (' '.join(argv), proc.stderr))
    return times


def row(label, ours, theirs, tool):
    ratio = statistics.median(theirs) / statistics.median(ours)
    print('%-34s runs=%-3d ours=%.4fs %s=%.4fs ratio=%.2f' % (
        label, len(ours), statistics.median(ours), tool, statistics.median(theirs), ratio))
    return ratio


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    paths.sync_collection()
    with tempfile.TemporaryDirectory() as workdir:
        with Krb5Service(workdir) as kdc:
            env = kdc.client_env(PYTHONPATH=paths.COLLECTIONS)
            ccache = 'FILE:' + os.path.join(kdc.ccache_dir, 'bench')
            acquire = {'principal': kdc.principal('alice'), 'password': USERS['alice'],
                       'ccache': ccache, 'force': True}
            kinit = ['kinit', '-c', 'FILE:' + os.path.join(kdc.ccache_dir, 'kinit'),
                     kdc.principal('alice')]
            theirs = timed_tool(kinit, env, USERS['alice'] + '\n', runs)
            action, ours = run_client(env, acquire, runs)
            assert action == 'acquire', action
            ratios = {'acquire': row('acquire, in one process', ours, theirs, 'kinit')}
            action, ours = per_process(env, acquire, max(runs // 2, 3))
            ratios['acquire_process'] = row('acquire, process per run', ours, theirs, 'kinit')

            keep = dict(acquire, force=False)
            klist = ['klist', '-s', '-c', ccache]
            theirs = timed_tool(klist, env, None, runs)
            action, ours = run_client(env, keep, runs)
            assert action == 'none', action
            ratios['none'] = row('no change, in one process', ours, theirs, 'klist -s')
            action, ours = per_process(env, keep, max(runs // 2, 3))
            ratios['none_process'] = row('no change, process per run', ours, theirs, 'klist -s')
    print('krb5_ticket: acquire_ratio=%.2f acquire_process_ratio=%.2f no_change_ratio=%.2f '
          'no_change_process_ratio=%.2f' % (ratios['acquire'], ratios['acquire_process'],
                                            ratios['none'], ratios['none_process']))


if __name__ == '__main__':
    main()
