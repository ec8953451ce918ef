# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The myproxy modules in playbooks against Debian's myproxy-server.

Each module's target (``targets/<module>/tasks/main.yml``) runs in a play of its own; the
targets assert on the results themselves. On top, this file checks what only the outside can
see: that credentials the modules stored are retrievable with the C ``myproxy-logon``, that
the no-change run of myproxy_logon contacts no server, and that no passphrase or private key
material appears in anything Ansible prints or returns, even at ``-vvvv``.
"""

import os
import re
import subprocess

import pytest

from harness import ansible
from harness.process import free_port
from harness.services.myproxy import MyProxyService

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def myproxy(tmp_path_factory):
    with MyProxyService(str(tmp_path_factory.mktemp('myproxy') / 'server')) as service:
        yield service


def run_target(myproxy, tmp_path, target, verbosity=0, suffix=''):
    """Run a target; ``suffix`` is appended to the MyProxy usernames it uses, so that a
    target can run twice against one server."""
    scratch = tmp_path / ('scratch-%s' % target)
    scratch.mkdir(exist_ok=True)
    extra_vars = dict(myproxy.ansible_vars(), myproxy_scratch=str(scratch),
                      myproxy_dead_port=free_port(), myproxy_suffix=suffix)
    run = ansible.run_playbook(ansible.target_playbook(tmp_path, target), extra_vars=extra_vars,
                               env={'MYPROXY_SERVER': '', 'X509_USER_PROXY': '',
                                    'X509_USER_CERT': '', 'X509_USER_KEY': ''},
                               verbosity=verbosity)
    assert run.rc == 0, run.explain()
    return run, scratch


def test_myproxy_logon_target(myproxy, tmp_path):
    run, _scratch = run_target(myproxy, tmp_path, 'myproxy_logon')
    assert run.recap['localhost']['failed'] == 0


def test_myproxy_credential_target(myproxy, tmp_path):
    run, scratch = run_target(myproxy, tmp_path, 'myproxy_credential')
    # What the module stored (STORE) and delegated (PUT), the C myproxy-logon retrieves.
    for credname, passphrase in (('', 'cred-Passphrase-2'), ('batch', 'batch-Passphrase-1')):
        out = str(scratch / ('c-logon-%s.pem' % (credname or 'default')))
        argv = ['myproxy-logon', '-S', '-l', 'cred-alice', '-t', '1', '-o', out]
        if credname:
            argv += ['-k', credname]
        proc = subprocess.run(argv, input=passphrase + '\n', env=myproxy.client_env(),
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with open(out, 'rb') as handle:
            assert handle.read().count(b'-----BEGIN CERTIFICATE-----') >= 2


def test_myproxy_info_target(myproxy, tmp_path):
    run_target(myproxy, tmp_path, 'myproxy_info')


def test_myproxy_trustroots_target(myproxy, tmp_path):
    run_target(myproxy, tmp_path, 'myproxy_trustroots')


def test_logon_no_change_run_contacts_no_server(myproxy, tmp_path):
    """After a logon, the next run with the server stopped still succeeds without a change."""
    dest = str(tmp_path / 'x509up_nochange')
    user = myproxy.users['carol']
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.client import MyProxyClient
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (
        read_credential_file)
    owner = read_credential_file(user['cert'], user['key'], passphrase=user['key_passphrase'])
    MyProxyClient('localhost', myproxy.port, ca_dir=myproxy.ca_dir, credential=owner).store(
        'nochange-carol', owner, 'nochange-Pass-1')
    args = ('server=localhost port=%d ca_dir=%s username=nochange-carol dest=%s '
            'passphrase=nochange-Pass-1' % (myproxy.port, myproxy.ca_dir, dest))
    first = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', args)
    assert first.rc == 0, first.explain()
    assert first.results[-1]['result']['retrieved'] is True
    # A server port where nothing listens: any contact would fail the task.
    dead = args.replace('port=%d' % myproxy.port, 'port=%d' % free_port())
    second = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', dead)
    assert second.rc == 0, second.explain()
    result = second.results[-1]['result']
    assert result['changed'] is False and result['retrieved'] is False
    assert result['server'] is None and result['reason'] == 'valid'


def _key_material(path):
    """Base64 lines of every private key in ``path`` (long enough to be meaningful)."""
    lines, inside = [], False
    with open(path) as handle:
        for line in handle:
            if 'PRIVATE KEY-----' in line:
                inside = 'BEGIN' in line
                continue
            if inside and len(line.strip()) >= 40 and ':' not in line:
                lines.append(line.strip())
    return lines


def test_no_secret_in_verbose_output(myproxy, tmp_path):
    """Passphrases and private keys never appear in what Ansible prints or returns (-vvvv)."""
    run, scratch = run_target(myproxy, tmp_path, 'myproxy_logon', verbosity=4, suffix='-v')
    run2, _scratch = run_target(myproxy, tmp_path, 'myproxy_credential', verbosity=4,
                                suffix='-v')
    output = run.output + '\n' + run2.output
    # -vvvv really was in effect: connection details and module invocations are printed.
    assert 'ESTABLISH LOCAL CONNECTION' in output
    assert '"invocation"' in output
    secrets = ['logon-Passphrase-7', 'not-the-Passphrase-9', 'cred-Passphrase-1',
               'cred-Passphrase-2', 'batch-Passphrase-1', 'rotated-Passphrase-3',
               'this-is-weak-Passphrase']
    secrets += [info['key_passphrase'] for info in myproxy.users.values()]
    for secret in secrets:
        assert secret not in output, 'a passphrase appears in the output'
    assert not re.search(r'-----BEGIN [A-Z ]*PRIVATE KEY-----', output)
    material = []
    for info in myproxy.users.values():
        material += _key_material(info['key_plain'])
    proxy = scratch / 'x509up_logon'
    assert proxy.exists()
    material += _key_material(str(proxy))
    assert len(material) > 20
    for line in material:
        assert line not in output, 'private key material appears in the output'


def _distribution_python():
    """/usr/bin/python3 when it has the distribution's cryptography and pyOpenSSL."""
    python = '/usr/bin/python3'
    if not os.path.exists(python):
        return None
    proc = subprocess.run([python, '-c', 'import cryptography, OpenSSL'], capture_output=True,
                          check=False)
    return python if proc.returncode == 0 else None


@pytest.mark.skipif(_distribution_python() is None,
                    reason='/usr/bin/python3 without python3-cryptography/python3-openssl')
def test_modules_with_the_distribution_libraries(myproxy, tmp_path):
    """The managed-host code with the OS packages (Debian 12: cryptography 38, pyOpenSSL 23)
    instead of the virtualenv's newer releases."""
    python = {'ansible_python_interpreter': _distribution_python()}
    alice = myproxy.users['alice']
    common = 'server=localhost port=%d ca_dir=%s' % (myproxy.port, myproxy.ca_dir)
    proxy = str(tmp_path / 'x509up_distro')
    steps = [
        ('hostsec.mgmt.myproxy_credential', '%s username=distro passphrase=distro-Pass-1 '
         'method=put client_cert=%s client_key=%s client_key_passphrase=%s'
         % (common, alice['cert'], alice['key'], alice['key_passphrase']), True),
        ('hostsec.mgmt.myproxy_logon', '%s username=distro passphrase=distro-Pass-1 dest=%s'
         % (common, proxy), True),
        ('hostsec.mgmt.myproxy_logon', '%s username=distro passphrase=distro-Pass-1 dest=%s'
         % (common, proxy), False),
        ('hostsec.mgmt.myproxy_info', '%s username=distro client_proxy=%s' % (common, proxy),
         False),
        ('hostsec.mgmt.myproxy_trustroots', 'server=localhost port=%d dest=%s bootstrap=true'
         % (myproxy.port, tmp_path / 'certs'), True),
    ]
    for module, args, changed in steps:
        run = ansible.run_adhoc(module, args, extra_vars=python)
        assert run.rc == 0, run.explain()
        result = run.results[-1]['result']
        assert result['changed'] is changed, (module, result)
    assert result['added']


def _tree(directory):
    """``{file name: content}`` of a directory."""
    return {entry.name: entry.read_bytes() for entry in sorted(directory.iterdir())}


def test_trustroots_bootstrap_verifies_a_populated_ca_dir(myproxy, tmp_path):
    """bootstrap=true with trust roots in ca_dir verifies first: a man in the middle (here a
    second myproxy-server with a CA of its own) is refused and the directory stays as it was,
    even with remove_stale (before: it connected unverified, wrote the impostor's CA and
    removed the real one)."""
    certdir = tmp_path / 'certificates'
    first = ansible.run_adhoc('hostsec.mgmt.myproxy_trustroots',
                              'server=localhost port=%d dest=%s bootstrap=true'
                              % (myproxy.port, certdir))
    assert first.rc == 0, first.explain()
    result = first.results[-1]['result']
    assert result['changed'] is True and result['bootstrapped'] is True
    assert any('not verified' in warning for warning in result.get('warnings', []))
    before = _tree(certdir)
    assert myproxy.ca_hash + '.0' in before

    with MyProxyService(str(tmp_path / 'impostor')) as impostor:
        # Same CA name (so the same <hash>.0 file name), another key: the impostor's CA
        # would replace the real one.
        with open(os.path.join(impostor.ca_dir, impostor.ca_hash + '.0'), 'rb') as handle:
            assert handle.read() != before[myproxy.ca_hash + '.0']
        attack = ansible.run_adhoc('hostsec.mgmt.myproxy_trustroots',
                                   'server=localhost port=%d dest=%s bootstrap=true '
                                   'remove_stale=true' % (impostor.port, certdir))
    result = attack.results[-1]['result']
    assert attack.rc != 0 and attack.results[-1]['status'] == 'failed', attack.explain()
    assert result['error']['class'] == 'MyProxyServerIdentityError'
    assert result['error']['name'] == 'UNTRUSTED_SERVER_CERTIFICATE'
    assert result['bootstrapped'] is False
    assert _tree(certdir) == before

    # The real server, bootstrap=true on the populated directory: verified, no warning.
    again = ansible.run_adhoc('hostsec.mgmt.myproxy_trustroots',
                              'server=localhost port=%d dest=%s bootstrap=true remove_stale=true'
                              % (myproxy.port, certdir))
    assert again.rc == 0, again.explain()
    result = again.results[-1]['result']
    assert result['changed'] is False and result['bootstrapped'] is False
    assert not result.get('warnings')
    assert _tree(certdir) == before
