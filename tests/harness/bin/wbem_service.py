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
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from harness.services.wbem import WbemService  # noqa: E402  pylint: disable=wrong-import-position


def start(workdir, bulk):
    if os.path.exists(os.path.join(workdir, 'vars.json')):
        stop(workdir)
    service = WbemService(os.path.join(workdir, 'server'), bulk=bulk)
    os.makedirs(service.workdir, exist_ok=True)
    try:
        service.start()
    except BaseException:
        service.stop()
        raise
    variables = service.ansible_vars()
    variables['wbem_environment'] = service.environment()
    variables['wbem_pid'] = service.pid
    path = os.path.join(workdir, 'vars.json')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(variables, handle, indent=2)
    print(json.dumps(variables))


def _is_test_cimom(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            argv = handle.read().split(b'\0')
    except OSError:
        return False
    return any(arg.rstrip(b'/').endswith(b'wbem_server') for arg in argv[1:3])


def stop(workdir):
    path = os.path.join(workdir, 'vars.json')
    pid = None
    if os.path.exists(path):
        with open(path) as handle:
            pid = json.load(handle).get('wbem_pid')
    if pid and _is_test_cimom(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _is_test_cimom(pid):
            time.sleep(0.05)
        if _is_test_cimom(pid):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(workdir, ignore_errors=True)


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
