# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The myproxy modules in playbooks against Debian's myproxy-server.

Each module's target (``targets/<module>/tasks/main.yml``) runs in a play of its own; the
targets assert on the results themselves. On top, this file checks what only the outside can
see: that credentials the modules stored are retrievable with the C ``myproxy-logon``, that
the no-change run of myproxy_logon contacts no server, and that no passphrase or private key
material appears in anything Ansible prints or returns, even at ``-vvvv``.
"""

import json
import os
import re
import subprocess

import pytest

from harness import ansible
from harness import attacker as hostile
from harness import gridpki
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


@pytest.fixture
def attacker():
    with hostile.attacker_user() as user:
        yield user


def _store_for_logon(myproxy, username, passphrase):
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.client import MyProxyClient
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (
        read_credential_file)
    user = myproxy.users['carol']
    owner = read_credential_file(user['cert'], user['key'], passphrase=user['key_passphrase'])
    MyProxyClient('localhost', myproxy.port, ca_dir=myproxy.ca_dir, credential=owner).store(
        username, owner, passphrase)
    return user


def _mallory_proxy():
    """A proxy of a self-signed identity /O=Grid/CN=mallory: what any local user can make."""
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import proxy as mproxy
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (
        Credential)
    fake_ca = gridpki.CertificateAuthority(subject='/O=Grid/CN=mallory')
    key, cert = fake_ca.issue('/O=Grid/CN=mallory')
    proxy_key = mx509.generate_key('rsa', 2048)
    proxy = mproxy.sign_proxy(proxy_key.public_key(), cert, key, 7 * 86400)
    return Credential(proxy, proxy_key, [cert]).to_pem()


def test_logon_planted_files_are_replaced_never_used(myproxy, tmp_path, attacker):
    """A second uid plants, in a sticky world-writable directory, a link to root's proxy, a
    copy of it owned by itself, a copy its group may read, and self-signed proxies (one of its
    own, one it got root to own). Run as root, each is replaced by a fresh credential from the
    server, root-owned and 0600; root's proxy is never touched."""
    _name, uid, gid = attacker
    user = _store_for_logon(myproxy, 'plant-carol', 'plant-Pass-1')
    base = {'server': 'localhost', 'port': myproxy.port, 'ca_dir': myproxy.ca_dir,
            'username': 'plant-carol', 'passphrase': 'plant-Pass-1'}
    victim = str(tmp_path / 'root-x509up')
    first = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', json.dumps(dict(base, dest=victim)))
    assert first.rc == 0 and first.results[-1]['result']['retrieved'], first.explain()
    victim_before = hostile.facts(victim)
    with open(victim, 'rb') as handle:
        victim_bytes = handle.read()
    shared = hostile.shared_dir(str(tmp_path / 'shared'))
    mallory = _mallory_proxy()
    planted = []
    for name, reason, plant in (
            ('link', 'symlink', lambda p: hostile.plant_link(p, victim, uid, gid)),
            ('foreign', 'not_owner', lambda p: hostile.plant_file(p, victim_bytes, uid, gid)),
            ('exposed', 'exposed', lambda p: hostile.plant_file(p, victim_bytes, 0, gid, 0o640)),
            ('mallory', 'not_owner', lambda p: hostile.plant_file(p, mallory, uid, gid)),
            ('mallory-root', 'untrusted', lambda p: hostile.plant_file(p, mallory, 0, 0))):
        path = os.path.join(shared, 'x509up_' + name)
        plant(path)
        planted.append((path, reason))
    for path, reason in planted:
        run = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', json.dumps(dict(base, dest=path)))
        assert run.rc == 0, run.explain()
        result = run.results[-1]['result']
        assert result['changed'] and result['retrieved'] and result['reason'] == reason, \
            run.explain()
        assert result['identity'] == user['subject']
        kind, owner, group, mode, digest = hostile.facts(path)
        assert (kind, owner, group, mode) == ('file', 0, 0, 0o600), path
        assert digest != victim_before[4]
        assert hostile.facts(victim) == victim_before
        again = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', json.dumps(dict(base, dest=path)))
        assert again.results[-1]['result']['changed'] is False, again.explain()
    assert not [p for p in os.listdir(shared) if p.startswith('.')]


def test_logon_checks_dest_before_contacting_the_server(myproxy, tmp_path):
    """A missing directory, an unknown owner or group, a directory as dest: the task fails on
    the file, not on the (dead) server, so nothing would have been fetched."""
    dead = {'server': 'localhost', 'port': free_port(), 'ca_dir': myproxy.ca_dir,
            'username': 'nobody-here', 'passphrase': 'x-Pass-1', 'timeout': 5}
    for extra, text in ((dict(dest=str(tmp_path / 'absent' / 'p')), 'does not exist'),
                        (dict(dest=str(tmp_path / 'p'), owner='no-such-user-hostsec'),
                         'unknown user'),
                        (dict(dest=str(tmp_path / 'p'), group='no-such-group-hostsec'),
                         'unknown group'),
                        (dict(dest=str(tmp_path)), 'is a directory')):
        run = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', json.dumps(dict(dead, **extra)))
        assert run.rc != 0
        result = run.results[-1]['result']
        assert result['error']['class'] in ('FileWriteError', 'InvalidInputError'), run.explain()
        assert text in result['msg'] and result['server'] is None, run.explain()
    assert os.listdir(str(tmp_path)) == []


def test_trustroots_planted_files_are_replaced_and_file_options_apply(
        myproxy, tmp_path, attacker):
    """In the CA directory another uid planted the CA file as a link to a root secret and the
    signing policy as a file of its own. Both are replaced, not followed nor kept; the files get
    the owner, group and mode asked for (symbolic mode)."""
    _name, uid, gid = attacker
    certdir = hostile.shared_dir(str(tmp_path / 'certificates'))
    victim = str(tmp_path / 'root-secret')
    hostile.plant_file(victim, b'ROOT SECRET', 0, 0)
    victim_before = hostile.facts(victim)
    ca_file, policy_file = myproxy.ca_hash + '.0', myproxy.ca_hash + '.signing_policy'
    with open(os.path.join(myproxy.ca_dir, policy_file), 'rb') as handle:
        policy = handle.read()
    hostile.plant_link(os.path.join(certdir, ca_file), victim, uid, gid)
    hostile.plant_file(os.path.join(certdir, policy_file), policy, uid, gid, 0o644)
    args = {'server': 'localhost', 'port': myproxy.port, 'ca_dir': myproxy.ca_dir,
            'dest': certdir}
    run = ansible.run_adhoc('hostsec.mgmt.myproxy_trustroots', json.dumps(args))
    assert run.rc == 0, run.explain()
    result = run.results[-1]['result']
    assert sorted(result['updated']) == [ca_file, policy_file], run.explain()
    for name in (ca_file, policy_file):
        kind, owner, group, mode, _digest = hostile.facts(os.path.join(certdir, name))
        assert (kind, owner, group, mode) == ('file', 0, 0, 0o644), name
    assert hostile.facts(victim) == victim_before
    nobody = 65534
    owned = ansible.run_adhoc('hostsec.mgmt.myproxy_trustroots', json.dumps(dict(
        args, owner=str(nobody), group=str(gid), mode='u=rw,g=r')))
    assert owned.rc == 0, owned.explain()
    assert sorted(owned.results[-1]['result']['updated']) == [ca_file, policy_file]
    for name in (ca_file, policy_file):
        kind, owner, group, mode, _digest = hostile.facts(os.path.join(certdir, name))
        assert (kind, owner, group, mode) == ('file', nobody, gid, 0o640), name
    again = ansible.run_adhoc('hostsec.mgmt.myproxy_trustroots', json.dumps(dict(
        args, owner=str(nobody), group=str(gid), mode='0640')))
    assert again.results[-1]['result']['changed'] is False, again.explain()


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
