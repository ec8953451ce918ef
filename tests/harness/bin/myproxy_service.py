# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start or stop the test myproxy-server from outside pytest (molecule scenarios).

    python myproxy_service.py start WORKDIR   # prints the service's ansible vars as JSON
    python myproxy_service.py stop WORKDIR    # stops the server by its PID, removes WORKDIR

``start`` leaves the daemon running (it detaches itself) and records its PID in
``WORKDIR/server/myproxy.pid``; ``stop`` signals exactly that PID after checking that it is
a myproxy-server, never a process found by name. ``stop`` on a stopped or missing service
does nothing.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from harness import detached  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.myproxy import MyProxyService  # noqa: E402  pylint: disable=wrong-import-position


def start(workdir):
    if os.path.exists(os.path.join(workdir, 'vars.json')):
        stop(workdir)
    detached.start(MyProxyService(os.path.join(workdir, 'server')), workdir, 'myproxy_pid')


def _is_myproxy(pid):
    argv = detached.cmdline(pid)
    return bool(argv) and b'myproxy-server' in argv[0]


def stop(workdir):
    pid_file = os.path.join(workdir, 'server', 'myproxy.pid')
    pid = None
    if os.path.exists(pid_file):
        with open(pid_file) as handle:
            text = handle.read().strip()
        pid = int(text) if text.isdigit() else None
    detached.stop(workdir, pid, _is_myproxy)


def main(argv):
    if len(argv) != 3 or argv[1] not in ('start', 'stop'):
        sys.stderr.write(__doc__)
        return 2
    workdir = os.path.abspath(argv[2])
    if argv[1] == 'start':
        start(workdir)
    else:
        stop(workdir)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
