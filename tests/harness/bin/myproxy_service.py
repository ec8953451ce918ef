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

import json
import os
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from harness.services.myproxy import MyProxyService  # noqa: E402  pylint: disable=wrong-import-position


def start(workdir):
    if os.path.exists(os.path.join(workdir, 'vars.json')):
        stop(workdir)
    service = MyProxyService(os.path.join(workdir, 'server'))
    os.makedirs(service.workdir, exist_ok=True)
    try:
        service.start()
    except BaseException:
        service.stop()
        raise
    variables = service.ansible_vars()
    variables['myproxy_pid'] = service.pid
    path = os.path.join(workdir, 'vars.json')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(variables, handle, indent=2)
    print(json.dumps(variables))


def _is_myproxy(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return b'myproxy-server' in handle.read().split(b'\0')[0]
    except OSError:
        return False


def stop(workdir):
    pid_file = os.path.join(workdir, 'server', 'myproxy.pid')
    pid = None
    if os.path.exists(pid_file):
        with open(pid_file) as handle:
            text = handle.read().strip()
        pid = int(text) if text.isdigit() else None
    if pid and _is_myproxy(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _is_myproxy(pid):
            time.sleep(0.05)
        if _is_myproxy(pid):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(workdir, ignore_errors=True)


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
