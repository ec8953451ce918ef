# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start or stop a test service for an ``ansible-test integration`` setup target.

    python integration_service.py start KIND WORKDIR [--watch-pid PID]
    python integration_service.py stop KIND WORKDIR

KIND is ``wbem``, ``myproxy``, ``krb5`` or ``pam``. ``start`` starts the service through the
detached scripts of this directory (wbem_service.py, myproxy_service.py, ../krb5_kdc.py) in
``WORKDIR/service``; for ``pam`` it writes the pam_wrapper service directory and creates
throwaway local users (pam_unix; needs root). It writes ``WORKDIR/vars.json`` (mode 0600: it
holds passwords) with the variables the pytest drivers of tests/integration pass to the same
targets: the service's ``ansible_vars()`` plus what the drivers compute (a dead URL or port, a
scratch directory, an empty suffix, the throwaway users, a TOTP code). It prints only the
service's PID and the watchdog's PID, as JSON.

ansible-test has no teardown, so ``start`` also leaves a watchdog (a process of its own) that
runs ``stop`` as soon as the ansible-playbook run that started the service ends, whether the
play passed, failed or was killed. The PID it watches is ``--watch-pid``, by default the
outermost ansible-playbook process among this process's ancestors. The setup targets stop the
service with a handler at the end of the play as well; ``stop`` ends the watchdog (by its PID,
after checking that it is one), stops the service by its PID, deletes the throwaway users and
removes WORKDIR. ``stop`` of a stopped or missing service does nothing.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

HERE = os.path.abspath(__file__)
BIN = os.path.dirname(HERE)
HARNESS = os.path.dirname(BIN)
sys.path.insert(0, os.path.dirname(HARNESS))

from harness import detached  # noqa: E402  pylint: disable=wrong-import-position
from harness.process import LOOPBACK, free_port  # noqa: E402  pylint: disable=wrong-import-position

KINDS = ('wbem', 'myproxy', 'krb5', 'pam')
#: The detached start/stop script of each service that runs as a process.
SCRIPTS = {
    'wbem': os.path.join(BIN, 'wbem_service.py'),
    'myproxy': os.path.join(BIN, 'myproxy_service.py'),
    'krb5': os.path.join(HARNESS, 'krb5_kdc.py'),
}
#: Where each script records the service's PID: (file in its workdir, key or None for a bare PID).
PID_SOURCES = {
    'wbem': ('vars.json', 'wbem_pid'),
    'myproxy': (os.path.join('server', 'myproxy.pid'), None),
    'krb5': ('kdc.pid', None),
}


def _write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)


def _read_json(path, default=None):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default


def service_pid(kind, service_dir):
    """The PID the detached script of ``kind`` recorded, or ``None``."""
    if kind not in PID_SOURCES:
        return None
    name, key = PID_SOURCES[kind]
    path = os.path.join(service_dir, name)
    if key:
        return (_read_json(path) or {}).get(key)
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


# -- the extra variables of each kind (what the pytest drivers compute) --------------------

def _wbem_extra(workdir, variables):
    tls = os.path.dirname(variables['wbem_ca_certs'])
    return {'wbem_dead_url': 'https://%s:%d' % (LOOPBACK, free_port()),
            'wbem_untrusted_ca': os.path.join(tls, 'untrusted-ca.pem'),
            'wbem_suffix': ''}


def _myproxy_extra(workdir, variables):
    scratch = os.path.join(workdir, 'scratch')
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    return {'myproxy_scratch': scratch, 'myproxy_dead_port': free_port(), 'myproxy_suffix': ''}


def _krb5_extra(workdir, variables):
    test_dir = os.path.join(workdir, 'test')
    os.makedirs(test_dir, mode=0o700, exist_ok=True)
    return {'krb5_test_dir': test_dir}


EXTRA = {'wbem': _wbem_extra, 'myproxy': _myproxy_extra, 'krb5': _krb5_extra}


def _users_file(workdir):
    return os.path.join(workdir, 'unix_users.json')


def _start_pam(workdir):
    """pam_wrapper's service directory, throwaway users for pam_unix (as test_pam.py makes
    them: ok, expired with chage -E 0, must change with chage -d 0) and a TOTP code."""
    from harness.services.pam import OTP_SECRETS, PamWrapperService, totp  # pylint: disable=import-outside-toplevel
    service = PamWrapperService(os.path.join(workdir, 'service'))
    service.start()
    variables = service.ansible_vars()
    if os.geteuid() != 0:
        raise SystemExit('integration_service.py: pam_unix users need root')
    password = 'Unix-Pa55-%s' % uuid.uuid4().hex[:8]
    prefix = 'hsi%s' % uuid.uuid4().hex[:6]
    users = {kind: '%s%s' % (prefix, kind) for kind in ('ok', 'exp', 'chg')}
    created = []
    for user in users.values():
        # Recorded before useradd, so that stop deletes it whatever happens next.
        created.append(user)
        _write_private(_users_file(workdir), json.dumps(created))
        subprocess.run(['useradd', '-M', '-s', '/usr/sbin/nologin', user], check=True)
        subprocess.run(['chpasswd'], input='%s:%s\n' % (user, password), text=True, check=True)
    subprocess.run(['chage', '-E', '0', users['exp']], check=True)
    subprocess.run(['chage', '-d', '0', users['chg']], check=True)
    users['unknown'] = '%snobody' % prefix
    variables.update(unix_users=users, unix_password=password,
                     otp_code=totp(OTP_SECRETS['alice']))
    return variables


# -- the watchdog ------------------------------------------------------------------------------

def _stat(pid):
    """``(state, start time)`` of process ``pid`` from /proc, or ``None`` when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], fields[19]


def _parent(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def playbook_pid():
    """The outermost ansible-playbook process among this process's ancestors (the playbook
    run's main process; its workers are forks of it and carry the same argv)."""
    found, pid = None, os.getppid()
    while pid > 1:
        argv = detached.cmdline(pid) or []
        if any(os.path.basename(arg) == b'ansible-playbook' for arg in argv[:3]):
            found = pid
        pid = _parent(pid)
    return found


def _is_watchdog(pid):
    argv = detached.cmdline(pid) or []
    return any(arg.endswith(b'integration_service.py') for arg in argv[1:3]) and b'watch' in argv


def start_watchdog(kind, workdir, pid):
    stat = _stat(pid)
    if stat is None:
        raise SystemExit('integration_service.py: process %d to watch is gone' % pid)
    with open(os.devnull, 'r+b') as null:
        watchdog = subprocess.Popen(
            [sys.executable, HERE, 'watch', kind, workdir, '--watch-pid', str(pid),
             '--start-time', stat[1]],
            stdin=null, stdout=null, stderr=null, close_fds=True, start_new_session=True,
            cwd='/')
    _write_private(os.path.join(workdir, 'watchdog.pid'), '%d\n' % watchdog.pid)
    return watchdog.pid


def watch(kind, workdir, pid, start_time):
    """Wait until process ``pid`` (started at ``start_time``) ends, then stop the service."""
    while True:
        stat = _stat(pid)
        if stat is None or stat[0] in ('Z', 'X') or stat[1] != start_time:
            break
        if not os.path.isdir(workdir):
            return  # stopped by the play's handler already
        time.sleep(0.5)
    stop(kind, workdir, from_watchdog=True)


# -- start and stop --------------------------------------------------------------------------

def start(kind, workdir, watch_pid=None):
    watch_pid = watch_pid or playbook_pid()
    if not watch_pid:
        raise SystemExit('integration_service.py: no ansible-playbook among the ancestors of '
                         'this process: pass --watch-pid')
    if os.path.exists(os.path.join(workdir, 'vars.json')):
        stop(kind, workdir)
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    os.chmod(workdir, 0o700)
    # The watchdog first: whatever start leaves behind, it goes when the playbook run ends.
    watchdog = start_watchdog(kind, workdir, watch_pid)
    service_dir = os.path.join(workdir, 'service')
    try:
        if kind == 'pam':
            variables = _start_pam(workdir)
        else:
            subprocess.run([sys.executable, SCRIPTS[kind], 'start', service_dir], check=True,
                           stdout=subprocess.DEVNULL)
            variables = _read_json(os.path.join(service_dir, 'vars.json'))
            variables.update(EXTRA[kind](workdir, variables))
    except BaseException:
        stop(kind, workdir)
        raise
    _write_private(os.path.join(workdir, 'vars.json'), json.dumps(variables, indent=2))
    print(json.dumps({'service_pid': service_pid(kind, service_dir), 'watchdog_pid': watchdog,
                      'watched_pid': watch_pid, 'workdir': workdir,
                      'unix_users': _read_json(_users_file(workdir), [])}))


def stop(kind, workdir, from_watchdog=False):
    if not from_watchdog:
        try:
            with open(os.path.join(workdir, 'watchdog.pid')) as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            pid = None
        if pid and _is_watchdog(pid):
            os.kill(pid, signal.SIGTERM)
    service_dir = os.path.join(workdir, 'service')
    if kind in SCRIPTS:
        subprocess.run([sys.executable, SCRIPTS[kind], 'stop', service_dir], check=False,
                       stdout=subprocess.DEVNULL)
    for user in _read_json(_users_file(workdir), []):
        subprocess.run(['userdel', '-f', user], check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    shutil.rmtree(workdir, ignore_errors=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('action', choices=['start', 'stop', 'watch'])
    parser.add_argument('kind', choices=KINDS)
    parser.add_argument('workdir')
    parser.add_argument('--watch-pid', type=int, help='stop the service when this process ends')
    parser.add_argument('--start-time', help=argparse.SUPPRESS)
    args = parser.parse_args(argv[1:])
    workdir = os.path.abspath(args.workdir)
    if args.action == 'start':
        start(args.kind, workdir, args.watch_pid)
    elif args.action == 'watch':
        watch(args.kind, workdir, args.watch_pid, args.start_time)
    else:
        stop(args.kind, workdir)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
