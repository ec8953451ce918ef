# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PAM checks per second: the pam_check client (module_utils) against pamtester, same stacks.

Both run under pam_wrapper with the test service directory of tests/harness:

- success: authenticate + acct_mgmt of a pam_matrix user;
- wrong password: pam_unix refusing ``nobody``; pam_unix asks for a ~2 s failure delay, which
  pamtester waits for and the client records instead (``honor_fail_delay: false``).

Each tool runs as one process per check (as the module does under Ansible): the client through
tests/harness/bin/pam_probe.py, pamtester directly. Prints the median time per check of each
and the ratio pamtester / ours (above 1: ours is faster). A last row shows the client's cost per
check inside one process (the PAM transaction without Python's start-up), against the same
pamtester figure. Usage: python benchmarks/pam_check.py
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
from harness.services.pam import MATRIX_USERS, PamWrapperService  # noqa: E402  pylint: disable=wrong-import-position

PROBE = os.path.join(ROOT, 'tests', 'harness', 'bin', 'pam_probe.py')
IN_PROCESS = """
import json, sys, time
from ansible_collections.hostsec.mgmt.plugins.module_utils.pam import client
args = json.load(sys.stdin)
runs = args.pop('runs')
client.run_check(**args)
start = time.perf_counter()
for _ in range(runs):
    outcome = client.run_check(**args)['outcome']
print(json.dumps({'outcome': outcome, 'seconds': (time.perf_counter() - start) / runs}))
"""


def timed(argv, stdin, env):
    start = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    return time.perf_counter() - start, proc


def measure(pam, service, user, password, runs):
    env = dict(os.environ, PYTHONPATH=paths.COLLECTIONS, **pam.environment())
    ours, theirs = [], []
    request = json.dumps({'service': service, 'user': user, 'password': password})
    for _run in range(runs):
        seconds, proc = timed([sys.executable, PROBE], request, env)
        outcome = json.loads(proc.stdout)['outcome']
        ours.append(seconds)
        seconds, proc = timed(['pamtester', service, user, 'authenticate', 'acct_mgmt'],
                              password + '\n', env)
        theirs.append(seconds)
    return outcome, statistics.median(ours), statistics.median(theirs)


def in_process(pam, service, user, password, runs):
    env = dict(os.environ, PYTHONPATH=paths.COLLECTIONS, **pam.environment())
    request = json.dumps({'service': service, 'user': user, 'password': password, 'runs': runs})
    _seconds, proc = timed([sys.executable, '-c', IN_PROCESS], request, env)
    result = json.loads(proc.stdout)
    return result['outcome'], result['seconds']


def main():
    paths.sync_collection()
    with tempfile.TemporaryDirectory() as workdir:
        with PamWrapperService(workdir) as pam:
            rows = [('success', 'hostsec-matrix', 'alice', MATRIX_USERS['alice'][0], 15),
                    ('wrong password', 'hostsec-unix', 'nobody', 'not-the-password', 3)]
            ratios = {}
            pamtester_success = None
            for label, service, user, password, runs in rows:
                outcome, ours, theirs = measure(pam, service, user, password, runs)
                pamtester_success = pamtester_success or theirs
                ratios[label] = theirs / ours
                print('%-26s %-13s runs=%-4d ours=%.4fs pamtester=%.4fs ratio=%.2f'
                      % (label, outcome, runs, ours, theirs, ratios[label]))
            outcome, ours = in_process(pam, 'hostsec-matrix', 'alice', MATRIX_USERS['alice'][0],
                                       200)
            ratios['in-process'] = pamtester_success / ours
            print('%-26s %-13s runs=%-4d ours=%.4fs pamtester=%.4fs ratio=%.2f'
                  % ('success, in one process', outcome, 200, ours, pamtester_success,
                     ratios['in-process']))
    print('pam_check: success_ratio=%.2f wrong_password_ratio=%.2f in_process_ratio=%.2f'
          % (ratios['success'], ratios['wrong password'], ratios['in-process']))


if __name__ == '__main__':
    main()
