# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop the test servers: loopback only, free ports, stopped by the PID we started."""

import os
import signal
import socket
import subprocess
import time

LOOPBACK = '127.0.0.1'


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port, host=LOOPBACK, timeout=30.0, process=None):
    """Wait until ``host:port`` accepts TCP connections; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError('process %s exited with %s before listening on %s:%s'
                               % (process.args, process.returncode, host, port))
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('nothing listens on %s:%s after %ss' % (host, port, timeout))


def wait_for_file(path, timeout=30.0, process=None):
    """Wait until ``path`` exists and is not empty (a port or PID file written by a daemon)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError('process %s exited with %s before writing %s'
                               % (process.args, process.returncode, path))
        time.sleep(0.05)
    raise RuntimeError('%s did not appear after %ss' % (path, timeout))


class ManagedProcess(object):
    """A server process we started; :meth:`stop` signals exactly that PID.

    Output goes to ``log_path``. For daemons that fork, give the PID file they write as
    ``pid_file`` and :meth:`stop` signals the PID read from it (which the daemon started for
    us), never a process found by name.
    """

    def __init__(self, argv, log_path, env=None, cwd=None, pid_file=None):
        self.argv = list(argv)
        self.log_path = log_path
        self.pid_file = pid_file
        self._log = open(log_path, 'ab')
        self.popen = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                      start_new_session=True)

    @property
    def pid(self):
        if self.pid_file and os.path.exists(self.pid_file):
            with open(self.pid_file) as handle:
                text = handle.read().strip()
            if text.isdigit():
                return int(text)
        return self.popen.pid

    def log(self):
        try:
            with open(self.log_path, 'rb') as handle:
                return handle.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def stop(self, timeout=10.0):
        pids = [self.popen.pid]
        if self.pid != self.popen.pid:
            pids.insert(0, self.pid)
        for pid in pids:
            _terminate(pid, timeout)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self._log.close()


def _alive(pid):
    """True while ``pid`` runs (a zombie no longer counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True


def _terminate(pid, timeout):
    if not _alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our child; otherwise just poll.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        if not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
