# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PAM domain against real PAM stacks.

- pam_wrapper + pam_matrix (a private service directory, nothing of /etc/pam.d is read),
- pam_unix with throwaway local users that these tests create and always remove,
- pam_google_authenticator for a password + one-time-code stack.

Every outcome of the module_utils client is compared with what ``pamtester`` reports for the
same service, user and answers. The pam_check target playbook runs the module itself through
Ansible, and a -vvvv run is searched for every secret.
"""

import json
import os
import re
import subprocess
import sys
import uuid

import pytest

from harness import ansible, paths
from harness.services.pam import (
    FLOOD_BYTES, MATRIX_USERS, OTP_SECRETS, PamWrapperService, totp)

from ansible_collections.hostsec.mgmt.plugins.module_utils.pam import client
from ansible_collections.hostsec.mgmt.plugins.module_utils.pam.codes import RETURN_CODES

pytestmark = pytest.mark.slow

PROBE = os.path.join(paths.ROOT, 'tests', 'harness', 'bin', 'pam_probe.py')
TARGET = os.path.join(paths.ROOT, 'tests', 'integration', 'targets', 'pam_check', 'run.yml')
NAME_BY_MESSAGE = {text: name for _code, (name, text) in RETURN_CODES.items()}
UNIX_PASSWORD = 'Unix-Pa55-%s' % uuid.uuid4().hex[:8]


@pytest.fixture(scope='module')
def pam(tmp_path_factory):
    with PamWrapperService(str(tmp_path_factory.mktemp('pam'))) as service:
        yield service


@pytest.fixture(scope='module')
def unix_users():
    """Throwaway local users: ok, expired (chage -E 0), must change password (chage -d 0)."""
    if os.geteuid() != 0:
        pytest.skip('creating local users for pam_unix needs root (make test runs as root)')
    prefix = 'hst%s' % uuid.uuid4().hex[:6]
    users = {kind: '%s%s' % (prefix, kind) for kind in ('ok', 'exp', 'chg')}
    created = []
    try:
        for user in users.values():
            subprocess.run(['useradd', '-M', '-s', '/usr/sbin/nologin', user], check=True)
            created.append(user)
            subprocess.run(['chpasswd'], input='%s:%s\n' % (user, UNIX_PASSWORD), text=True,
                           check=True)
        subprocess.run(['chage', '-E', '0', users['exp']], check=True)
        subprocess.run(['chage', '-d', '0', users['chg']], check=True)
        users['unknown'] = '%snobody' % prefix
        yield users
    finally:
        for user in created:
            subprocess.run(['userdel', '-f', user], check=False)


def probe(pam, **kwargs):
    env = dict(os.environ, PYTHONPATH=paths.COLLECTIONS, **pam.environment())
    proc = subprocess.run([sys.executable, PROBE], input=json.dumps(kwargs), env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def probe_measured(env, **kwargs):
    """Run the probe with ``env``; return (result, size of its JSON, its peak RSS in KiB)."""
    proc = subprocess.run([sys.executable, PROBE], input=json.dumps(kwargs), env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    maxrss = re.search(r'^hostsec-probe-maxrss-kb=(\d+)$', proc.stderr, re.M)
    return json.loads(proc.stdout), len(proc.stdout), int(maxrss.group(1))


def pamtester(pam, service, user, answers, steps):
    """Outcome name pamtester reports for the same case (it answers prompts from stdin)."""
    env = dict(os.environ, **pam.environment())
    proc = subprocess.run(['pamtester', service, user] + list(steps),
                          input=''.join(a + '\n' for a in answers), env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode == 0:
        return 'PAM_SUCCESS'
    assert proc.returncode == 1, 'pamtester crashed (%s): %s' % (proc.returncode, proc.stderr)
    message = proc.stderr.strip().splitlines()[-1].split('pamtester: ', 1)[-1]
    return NAME_BY_MESSAGE.get(message, message)


MATRIX_CASES = [
    # id, service, user, password, steps, expected outcome, failed step
    ('matrix-ok-session', 'hostsec-matrix', 'alice', MATRIX_USERS['alice'][0],
     ['authenticate', 'acct_mgmt', 'open_session'], 'PAM_SUCCESS', None),
    ('matrix-wrong-password', 'hostsec-matrix', 'alice', 'not-the-password',
     ['authenticate', 'acct_mgmt'], 'PAM_AUTH_ERR', 'authenticate'),
    ('matrix-unknown-user', 'hostsec-matrix', 'mallory', 'whatever',
     ['authenticate'], 'PAM_AUTH_ERR', 'authenticate'),
    ('matrix-service-not-allowed', 'hostsec-matrix', 'carol', MATRIX_USERS['carol'][0],
     ['authenticate', 'acct_mgmt'], 'PAM_PERM_DENIED', 'acct_mgmt'),
    ('deny-stack', 'hostsec-deny', 'alice', MATRIX_USERS['alice'][0],
     ['authenticate'], 'PAM_AUTH_ERR', 'authenticate'),
    ('no-service-file-uses-other', 'hostsec-no-such-service', 'alice',
     MATRIX_USERS['alice'][0], ['authenticate'], 'PAM_AUTH_ERR', 'authenticate'),
]


@pytest.mark.parametrize('case', MATRIX_CASES, ids=[c[0] for c in MATRIX_CASES])
def test_pam_matrix_outcomes_match_pamtester(pam, case):
    _id, service, user, password, steps, expected, failed_step = case
    result = probe(pam, service=service, user=user, password=password, steps=steps)
    assert result['outcome'] == expected
    assert result['failed_step'] == failed_step
    assert pamtester(pam, service, user, [password], steps) == expected


UNIX_CASES = [
    ('unix-ok-session', 'ok', True, ['authenticate', 'acct_mgmt', 'open_session'],
     'PAM_SUCCESS', None),
    ('unix-wrong-password', 'ok', False, ['authenticate', 'acct_mgmt'], 'PAM_AUTH_ERR',
     'authenticate'),
    ('unix-unknown-user', 'unknown', True, ['authenticate'], 'PAM_USER_UNKNOWN', 'authenticate'),
    ('unix-expired-account', 'exp', True, ['authenticate', 'acct_mgmt'], 'PAM_ACCT_EXPIRED',
     'acct_mgmt'),
    ('unix-must-change-password', 'chg', True, ['authenticate', 'acct_mgmt'],
     'PAM_NEW_AUTHTOK_REQD', 'acct_mgmt'),
]


@pytest.mark.parametrize('case', UNIX_CASES, ids=[c[0] for c in UNIX_CASES])
def test_pam_unix_outcomes_match_pamtester(pam, unix_users, case):
    _id, kind, right_password, steps, expected, failed_step = case
    user = unix_users[kind]
    password = UNIX_PASSWORD if right_password else 'wrong-%s' % UNIX_PASSWORD
    result = probe(pam, service='hostsec-unix', user=user, password=password, steps=steps)
    assert (result['outcome'], result['failed_step']) == (expected, failed_step)
    assert pamtester(pam, 'hostsec-unix', user, [password], steps) == expected


def test_pam_unix_failure_delay_is_recorded_not_waited_for(pam, unix_users):
    result = probe(pam, service='hostsec-unix', user=unix_users['ok'], password='wrong',
                   steps=['authenticate'])
    assert result['outcome'] == 'PAM_AUTH_ERR'
    assert result['fail_delay_usec'] > 0
    honored = probe(pam, service='hostsec-unix', user=unix_users['ok'], password='wrong',
                    steps=['authenticate'], honor_fail_delay=True)
    assert honored['outcome'] == 'PAM_AUTH_ERR' and honored['fail_delay_usec'] is None


def test_password_plus_one_time_code(pam):
    password = MATRIX_USERS['alice'][0]
    code = totp(OTP_SECRETS['alice'])
    prompts = [{'pattern': '(?i)verification code', 'answer': code}]
    result = probe(pam, service='hostsec-otp', user='alice', password=password,
                   prompts=prompts, steps=['authenticate'])
    assert result['outcome'] == 'PAM_SUCCESS'
    assert [(p['text'], p['answered_by']) for p in result['prompts']] == [
        ('Password: ', 'password'), ('Verification code: ', 'prompts[0]')]
    assert pamtester(pam, 'hostsec-otp', 'alice', [password, code], ['authenticate']) == \
        'PAM_SUCCESS'
    wrong = '%06d' % ((int(code) + 500000) % 1000000)
    result = probe(pam, service='hostsec-otp', user='alice', password=password,
                   prompts=[{'pattern': 'code', 'answer': wrong}], steps=['authenticate'])
    assert result['outcome'] == 'PAM_AUTH_ERR'
    assert pamtester(pam, 'hostsec-otp', 'alice', [password, wrong], ['authenticate']) == \
        'PAM_AUTH_ERR'


def test_messages_and_environment_from_the_stack(pam):
    # pamtester cannot run this stack: pam_matrix "verbose" passes a NULL response pointer
    # with its messages and libpam_misc's conversation crashes on it.
    result = probe(pam, service='hostsec-matrix-verbose', user='alice',
                   password=MATRIX_USERS['alice'][0],
                   steps=['authenticate', 'open_session'])
    assert result['outcome'] == 'PAM_SUCCESS'
    assert {'style': 'info', 'text': 'Welcome to hostsec-matrix-verbose, alice'} in \
        result['messages']
    assert {'style': 'info', 'text': 'Authentication succeeded'} in result['messages']
    assert result['pam_env'] == {'HOMEDIR': '/home/alice'}
    assert [c['step'] for c in result['cleanup']] == ['close_session']


def test_items_reach_the_modules_and_secrets_are_redacted(pam, unix_users):
    password = UNIX_PASSWORD
    result = probe(pam, service='hostsec-items', user=unix_users['ok'], password=password,
                   steps=['authenticate'], rhost='198.51.100.7', ruser='remote-bob',
                   tty='pts/7')
    assert result['outcome'] == 'PAM_SUCCESS'
    env = result['pam_env']
    assert env['PAM_RHOST'] == '198.51.100.7'
    assert env['PAM_RUSER'] == 'remote-bob'
    assert env['PAM_TTY'] == 'pts/7'
    assert env['PAM_USER'] == unix_users['ok']
    assert env['PAM_AUTHTOK'] == '********'
    assert password not in json.dumps(result)


def test_config_dir_reads_a_staged_configuration_without_pam_wrapper(pam):
    env = dict(os.environ, PYTHONPATH=paths.COLLECTIONS)
    for variable in ('LD_PRELOAD', 'PAM_WRAPPER', 'PAM_WRAPPER_SERVICE_DIR'):
        env.pop(variable, None)
    kwargs = dict(service='hostsec-matrix', user='alice', password=MATRIX_USERS['alice'][0],
                  config_dir=pam.service_dir)
    proc = subprocess.run([sys.executable, PROBE], input=json.dumps(kwargs), env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(proc.stdout)
    assert result['outcome'] == 'PAM_SUCCESS'
    assert result['service_file'] == os.path.join(pam.service_dir, 'hostsec-matrix')


def test_fail_delay_is_zero_after_a_successful_authentication(pam, unix_users):
    """pam_unix asks for its delay before it knows the outcome; libpam waits only after a
    failure, so a success reports 0 (it reported pam_unix's ~2 s before)."""
    result = probe(pam, service='hostsec-unix', user=unix_users['ok'], password=UNIX_PASSWORD,
                   steps=['authenticate'])
    assert result['outcome'] == 'PAM_SUCCESS'
    assert result['fail_delay_usec'] == 0


def _without_preload(pam):
    env = dict(os.environ, PYTHONPATH=paths.COLLECTIONS, PAM_WRAPPER='1',
               PAM_WRAPPER_SERVICE_DIR=pam.service_dir)
    env.pop('LD_PRELOAD', None)
    return env


def test_pam_wrapper_variables_without_the_preload_name_the_file_libpam_read(pam):
    """PAM_WRAPPER=1 and PAM_WRAPPER_SERVICE_DIR without LD_PRELOAD: libpam reads /etc/pam.d,
    and service_file must say so, not name the unread file in PAM_WRAPPER_SERVICE_DIR."""
    if not os.path.isfile('/etc/pam.d/other'):
        pytest.skip('no /etc/pam.d/other on this system')
    env = _without_preload(pam)
    assert os.path.isfile(os.path.join(pam.service_dir, 'other'))
    # A wrong password for a user that does not exist: the system's "other" stack refuses it.
    nobody = 'hsnobody-%s' % uuid.uuid4().hex[:6]
    result, _size, _rss = probe_measured(env, service='other', user=nobody,
                                         password='not-a-password', steps=['authenticate'])
    assert result['outcome'] != 'PAM_SUCCESS'
    assert result['service_file'] == '/etc/pam.d/other'
    assert any('pam_wrapper is not loaded' in note for note in result['notes']), result['notes']
    # A service that exists only in the pam_wrapper directory: there is no file libpam read.
    assert not os.path.exists('/etc/pam.d/hostsec-matrix')
    result, _size, _rss = probe_measured(env, service='hostsec-matrix', user='alice',
                                         password='not-a-password', steps=['authenticate'])
    assert result['service_file'] is None
    assert any(pam.service_dir in note for note in result['notes']), result['notes']
    # With the preload, the pam_wrapper directory is what libpam read, and there is no note.
    result = probe(pam, service='hostsec-matrix', user='alice', password='not-a-password',
                   steps=['authenticate'])
    assert result['service_file'] == os.path.join(pam.service_dir, 'hostsec-matrix')
    assert result['notes'] == []


def test_a_stack_that_prints_50_mib_gets_a_bounded_result(pam):
    """pam_exec "stdout" sends every line of a 50 MiB output as an info message: the result
    stays small, says that messages were dropped, and the process does not grow with it."""
    env = dict(os.environ, PYTHONPATH=paths.COLLECTIONS, **pam.environment())
    password = MATRIX_USERS['alice'][0]
    _quiet, _quiet_size, quiet_rss = probe_measured(env, service='hostsec-matrix', user='alice',
                                                    password=password, steps=['authenticate'])
    result, size, rss = probe_measured(env, service='hostsec-flood', user='alice',
                                       password=password, steps=['authenticate'])
    print('hostsec-flood: result %d bytes, peak RSS %d KiB (hostsec-matrix: %d KiB)'
          % (size, rss, quiet_rss))
    assert result['outcome'] == 'PAM_SUCCESS'
    assert size < 256 * 1024
    assert 0 < len(result['messages']) <= client.MAX_MESSAGES
    assert sum(len(m['text']) for m in result['messages']) <= client.MAX_MESSAGES_BYTES
    assert result['truncated'] is True
    assert result['notes'] and 'dropped' in result['notes'][0]
    dropped = int(result['notes'][0].split()[0])
    assert dropped + len(result['messages']) >= FLOOD_BYTES // 1000
    # Generous: the fixed code grows by well under 1 MiB; keeping the output took > 100 MiB.
    assert rss - quiet_rss < 32 * 1024


def test_one_huge_message_is_cut(pam):
    result = probe(pam, service='hostsec-big-message', user='alice',
                   password=MATRIX_USERS['alice'][0], steps=['authenticate'])
    assert result['outcome'] == 'PAM_SUCCESS'
    assert [len(m['text']) for m in result['messages']] == [client.MAX_TEXT_BYTES]
    assert result['truncated'] is True
    assert result['notes'] == ['1 PAM message or prompt text(s) were cut to %d bytes'
                               % client.MAX_TEXT_BYTES]


def _measuring_interpreter(directory):
    """A Python interpreter for Ansible that runs the module in a child and appends the
    child's peak RSS (KiB) to ``rss.txt`` in ``directory``."""
    path = os.path.join(str(directory), 'python-rss')
    script = ('#!%s\nimport resource, subprocess, sys\n'
              'rc = subprocess.call([%r] + sys.argv[1:])\n'
              'with open(%r, "a") as out:\n'
              '    out.write("%%d\\n" %%\n'
              '              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n'
              'sys.exit(rc)\n')
    with open(path, 'w') as handle:
        handle.write(script % (sys.executable, sys.executable,
                               os.path.join(str(directory), 'rss.txt')))
    os.chmod(path, 0o755)
    return path


def test_pam_check_module_with_a_50_mib_stack(pam, tmp_path):
    """The module itself, through ansible: bounded result and output, the note as a warning,
    and the module process's peak RSS stays that of a quiet stack."""
    interpreter = _measuring_interpreter(tmp_path)
    env = dict(pam.environment(), HOSTSEC_PAM_PASSWORD=MATRIX_USERS['alice'][0])
    runs = {}
    for service in ('hostsec-matrix', 'hostsec-flood'):
        runs[service] = ansible.run_adhoc(
            'hostsec.mgmt.pam_check', 'service=%s user=alice steps=authenticate' % service,
            env=env, extra_vars={'ansible_python_interpreter': interpreter})
        assert runs[service].rc == 0, runs[service].explain()
    with open(str(tmp_path / 'rss.txt')) as handle:
        quiet_rss, flood_rss = [int(line) for line in handle.read().split()]
    run = runs['hostsec-flood']
    result = run.results[-1]['result']
    print('pam_check on hostsec-flood: result %d bytes, printed %d bytes, module peak RSS '
          '%d KiB (hostsec-matrix: %d KiB)' % (len(json.dumps(result)), len(run.stdout),
                                               flood_rss, quiet_rss))
    assert result['outcome'] == 'PAM_SUCCESS' and result['truncated'] is True
    assert len(json.dumps(result)) < 256 * 1024
    assert len(run.stdout) + len(run.stderr) < 512 * 1024
    assert any('were dropped' in warning for warning in result['warnings'])
    assert flood_rss - quiet_rss < 32 * 1024


def run_target(pam, unix_users, verbosity=0, bin_dir=None):
    extra_vars = dict(pam.ansible_vars(), unix_users=unix_users, unix_password=UNIX_PASSWORD,
                      otp_code=totp(OTP_SECRETS['alice']))
    run = ansible.run_playbook(TARGET, extra_vars=extra_vars, verbosity=verbosity,
                               bin_dir=bin_dir)
    return run, extra_vars


def test_pam_check_module_target(pam, unix_users):
    run, _extra_vars = run_target(pam, unix_users)
    assert run.rc == 0, run.explain()
    recap = run.recap['localhost']
    assert recap['failed'] == 0 and recap['changed'] == 0, run.explain()
    assert 'Traceback' not in run.output


def test_pam_check_module_target_on_the_oldest_supported_ansible_core(pam, unix_users):
    """meta/runtime.yml's requires_ansible is a claim: run the target with that release."""
    run, _extra_vars = run_target(pam, unix_users, bin_dir=paths.oldest_ansible_bin())
    assert run.rc == 0, run.explain()
    assert run.recap['localhost']['failed'] == 0, run.explain()


def test_pam_check_module_target_on_the_newest_ansible_core(pam, unix_users):
    """The newest ansible-core pip installs (on Python >= 3.12) runs the same target."""
    bin_dir, version = paths.newest_ansible_bin()
    assert tuple(int(part) for part in version.split('.')[:2]) >= (2, 20), version
    run, _extra_vars = run_target(pam, unix_users, bin_dir=bin_dir)
    assert run.rc == 0, run.explain()
    assert run.recap['localhost']['failed'] == 0, run.explain()


def test_no_secret_in_anything_ansible_printed_or_returned(pam, unix_users):
    run, extra_vars = run_target(pam, unix_users, verbosity=4)
    assert run.rc == 0, run.explain()
    secrets = [user['password'] for user in extra_vars['pam_matrix_users'].values()]
    secrets.append(UNIX_PASSWORD)
    output = run.output
    assert 'pam_check' in output and len(run.results) > 20
    for secret in secrets:
        assert secret not in output
    # The one-time code is six digits: look for it as a number of its own.
    assert not re.search(r'(?<![0-9])%s(?![0-9])' % extra_vars['otp_code'], output)
