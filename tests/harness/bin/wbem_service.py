# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start or stop the test CIMOM from outside pytest (molecule scenarios, benchmarks).

    python wbem_service.py start WORKDIR [--bulk N]   # prints the service's ansible vars as JSON
    python wbem_service.py stop WORKDIR                # stops the server by its PID, removes WORKDIR

``start`` leaves the server running (in a session of its own) and writes its ansible vars,
its environment variables (``wbem_environment``) and its PID (``wbem_pid``) to
``WORKDIR/vars.json`` (mode 0600: it holds the password). ``stop`` signals exactly that PID
after checking that it is the test CIMOM, never a process found by name. ``stop`` on a stopped
or missing service does nothing.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from harness import detached  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.wbem import WbemService  # noqa: E402  pylint: disable=wrong-import-position


def start(workdir, bulk):
    if os.path.exists(os.path.join(workdir, 'vars.json')):
        stop(workdir)
    service = WbemService(os.path.join(workdir, 'server'), bulk=bulk)
    detached.start(service, workdir, 'wbem_pid',
                   lambda running: {'wbem_environment': running.environment()})


def _is_test_cimom(pid):
    argv = detached.cmdline(pid) or []
    return any(arg.rstrip(b'/').endswith(b'wbem_server') for arg in argv[1:3])


def stop(workdir):
    path = os.path.join(workdir, 'vars.json')
    pid = None
    if os.path.exists(path):
        with open(path) as handle:
            pid = json.load(handle).get('wbem_pid')
    detached.stop(workdir, pid, _is_test_cimom)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('action', choices=['start', 'stop'])
    parser.add_argument('workdir')
    parser.add_argument('--bulk', type=int, default=50, help='HOSTSEC_BulkElement instances')
    args = parser.parse_args(argv[1:])
    workdir = os.path.abspath(args.workdir)
    if args.action == 'start':
        start(workdir, args.bulk)
    else:
        stop(workdir)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
