# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test services left running outside pytest (molecule scenarios, benchmarks): see bin/."""

import json
import os
import shutil
import signal
import time


def start(service, workdir, pid_var, extra=None):
    """Start ``service`` and write its ansible vars (plus its PID under ``pid_var`` and what
    ``extra(service)`` returns, once it runs) to ``WORKDIR/vars.json`` with mode 0600 (they
    hold passwords); print them."""
    os.makedirs(service.workdir, exist_ok=True)
    try:
        service.start()
    except BaseException:
        service.stop()
        raise
    variables = service.ansible_vars()
    if extra is not None:
        variables.update(extra(service))
    variables[pid_var] = service.pid
    fd = os.open(os.path.join(workdir, 'vars.json'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(variables, handle, indent=2)
    print(json.dumps(variables))


def stop(workdir, pid, is_ours, timeout=10.0):
    """Stop exactly ``pid`` when ``is_ours(pid)`` says it is the test service (never a process
    found by name): SIGTERM, then SIGKILL after ``timeout``; then remove ``workdir``."""
    if pid and is_ours(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and is_ours(pid):
            time.sleep(0.05)
        if is_ours(pid):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(workdir, ignore_errors=True)


def cmdline(pid):
    """The argv of process ``pid`` as bytes, or ``None`` when it is gone."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read().split(b'\0')
    except OSError:
        return None
