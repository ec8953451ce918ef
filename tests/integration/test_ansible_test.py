# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ansible-test integration`` runs every target by itself, services included.

The module targets depend (meta/main.yml) on setup targets (tests/integration/targets/setup_*)
that start the real service through tests/harness/bin/integration_service.py and load the
variables the pytest drivers of this directory pass; a handler stops the service at the end of
the play, and a watchdog stops it when the ansible-playbook run ends in any other way.

``--local``: the modules need lxml, cryptography, gssapi and python-pam's ctypes stack in the
interpreter, and the services need pywbem, k5test and the harness from the project's .venv,
which is the Python ansible-test runs with. ``--venv`` would build a virtualenv with
ansible-core alone, without those.
"""

import os
import re
import subprocess
import sys

import pytest

from harness import ansible, paths

pytestmark = pytest.mark.slow

TARGETS_DIR = os.path.join(paths.ROOT, 'tests', 'integration', 'targets')
MODULE_TARGETS = sorted(name for name in os.listdir(TARGETS_DIR)
                        if not name.startswith('setup_')
                        and os.path.isdir(os.path.join(TARGETS_DIR, name)))
SERVICE_RE = re.compile(r'hostsec-it service=(?P<kind>\w+) pid=(?P<pid>\d*)\s+'
                        r'watchdog=(?P<watchdog>\d+)\s+workdir=(?P<workdir>\S+)\s+'
                        r'users=(?P<users>[\w,]*)')
#: What the argv of a service or watchdog process holds, per kind.
MARKERS = {'wbem': b'wbem_server', 'myproxy': b'myproxy-server', 'krb5': b'krb5kdc',
           'pam': b'integration_service.py'}


def _argv(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read()
    except OSError:
        return None


def _state(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _left_over(services):
    """Processes of ``services`` (parsed setup output) still there, and any process whose
    argv, environment or working directory names one of their working directories."""
    left = []
    for service in services:
        for key, marker in (('pid', MARKERS[service['kind']]),
                            ('watchdog', b'integration_service.py')):
            pid = service[key]
            if not pid:
                continue
            argv = _argv(int(pid))
            if argv and marker in argv and _state(int(pid)) not in ('Z', 'X', None):
                left.append('%s %s PID %s: %r' % (service['kind'], key, pid, argv))
    workdirs = [service['workdir'].encode() for service in services]
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        blobs = []
        for name in ('cmdline', 'environ'):
            try:
                with open('/proc/%s/%s' % (entry, name), 'rb') as handle:
                    blobs.append(handle.read())
            except OSError:
                pass
        try:
            blobs.append(os.readlink('/proc/%s/cwd' % entry).encode())
        except OSError:
            pass
        if any(workdir in blob for workdir in workdirs for blob in blobs):
            left.append('PID %s uses a service working directory: %r' % (entry, blobs[:1]))
    return left


def _run_ansible_test(args, timeout):
    env = dict(os.environ)
    env.update({'ANSIBLE_COLLECTIONS_PATH': paths.ANSIBLE_TEST_COLLECTIONS,
                'PATH': paths.BIN + os.pathsep + os.environ.get('PATH', ''),
                'ANSIBLE_NOCOLOR': '1', 'NO_COLOR': '1'})
    argv = [sys.executable, os.path.join(paths.ROOT, 'tools', 'run_ansible_test.py'),
            'integration', '--local', '--color', 'no', '-v'] + list(args)
    proc = subprocess.run(argv, cwd=paths.sync_ansible_test_collection(), env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    log = '$ %s\n%s\n%s' % (' '.join(argv), proc.stdout[-30000:], proc.stderr[-15000:])
    return proc, log


def _users_left(services):
    import pwd  # pylint: disable=import-outside-toplevel
    present = []
    for service in services:
        for user in filter(None, service['users'].split(',')):
            try:
                pwd.getpwnam(user)
                present.append(user)
            except KeyError:
                pass
    return present


def test_ansible_test_integration_runs_every_target_with_its_services():
    """`ansible-test integration --local` passes by itself: every module target ran, each
    with a service its setup target started, and no service, watchdog or throwaway user is
    left afterwards."""
    proc, log = _run_ansible_test([], timeout=2400)
    assert proc.returncode == 0, log
    ran = sorted(set(re.findall(r'^Running (\S+) integration test role', proc.stdout, re.M)))
    assert ran == MODULE_TARGETS, log
    services = [match.groupdict() for match in SERVICE_RE.finditer(proc.stdout)]
    # One service per target run, each of the kind its name says.
    assert sorted(s['kind'] for s in services) == sorted(
        {'wbem': 'wbem', 'myproxy': 'myproxy', 'krb5': 'krb5', 'pam': 'pam'}[t.split('_')[0]]
        for t in MODULE_TARGETS), log
    assert all(s['pid'] for s in services if s['kind'] != 'pam'), log
    assert [s for s in services if s['kind'] == 'pam' and len(s['users'].split(',')) == 3]
    assert not _left_over(services), _left_over(services)
    assert not any(os.path.exists(s['workdir']) for s in services), services
    assert not _users_left(services)
    # The setup targets load the services' passwords without printing them (no_log), even at
    # -v, where include_vars would show every variable it loaded.
    for secret in _fixed_secrets():
        assert secret not in proc.stdout + proc.stderr, 'a test password appears in the output'


def _fixed_secrets():
    """The passwords of the test services that do not change from run to run."""
    from harness.services import krb5, myproxy, pam  # pylint: disable=import-outside-toplevel
    secrets = list(krb5.USERS.values()) + list(myproxy.USERS.values())
    secrets += [password for password, _service in pam.MATRIX_USERS.values()]
    return secrets + list(pam.OTP_SECRETS.values())


def _wait_until(predicate, limit=60.0):
    """Poll ``predicate`` (bounded): the watchdog acts within a second or two of the end of
    the playbook run, the service then gets up to 10 s to stop before SIGKILL."""
    import time  # pylint: disable=import-outside-toplevel
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.parametrize('kind,role', [('wbem', 'setup_wbem_server'),
                                       ('pam', 'setup_pam_wrapper')])
def test_the_service_goes_when_the_play_fails(tmp_path, kind, role):
    """A failing task skips the handler: the watchdog still stops the service, deletes the
    throwaway users and removes the working directory once ansible-playbook has ended."""
    playbook = tmp_path / 'fail.yml'
    playbook.write_text(
        '- name: A target that fails after its setup\n'
        '  hosts: localhost\n'
        '  gather_facts: false\n'
        '  roles:\n'
        '    - %s\n'
        '  tasks:\n'
        '    - name: Fail\n'
        '      ansible.builtin.fail:\n'
        '        msg: failing on purpose\n' % role)
    run = ansible.run_playbook(str(playbook), env={'ANSIBLE_ROLES_PATH': TARGETS_DIR})
    assert run.rc != 0 and 'failing on purpose' in run.output, run.explain()
    assert 'RUNNING HANDLER' not in run.stdout, run.explain()
    services = [match.groupdict() for match in SERVICE_RE.finditer(run.stdout)]
    assert len(services) == 1 and services[0]['kind'] == kind, run.explain()
    if kind == 'pam':
        assert len(services[0]['users'].split(',')) == 3
    else:
        assert services[0]['pid']
    assert _wait_until(lambda: not _left_over(services)), _left_over(services)
    assert _wait_until(lambda: not os.path.exists(services[0]['workdir']))
    assert not _users_left(services)
