# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The myproxy modules' main() in-process, for paths that need no server."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import deps
from ansible_collections.hostsec.mgmt.plugins.modules import (
    myproxy_credential, myproxy_info, myproxy_logon, myproxy_trustroots)

SECRET = 'TOPSECRET-passphrase'


def run_main(capsys, module, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize('module,args', [
    (myproxy_logon, {'username': 'alice', 'passphrase': SECRET}),
    (myproxy_credential, {'username': 'alice', 'passphrase': SECRET}),
    (myproxy_info, {'username': 'alice'}),
    (myproxy_trustroots, {}),
])
def test_missing_dependency_names_the_packages(capsys, monkeypatch, module, args):
    monkeypatch.setattr(deps.PYOPENSSL, 'error', "ImportError: No module named 'OpenSSL'")
    result = run_main(capsys, module, dict(args, server='localhost'))
    assert result['failed']
    assert 'pyOpenSSL' in result['msg'] and 'python3-openssl' in result['msg']
    assert 'python3-pyOpenSSL' in result['msg']
    assert result['error']['class'] == 'MissingDependencyError'
    assert SECRET not in json.dumps(result)


def test_logon_validates_lifetimes_before_anything(capsys, tmp_path):
    result = run_main(capsys, myproxy_logon, {
        'username': 'alice', 'passphrase': SECRET, 'server': 'localhost',
        'dest': str(tmp_path / 'p'), 'lifetime': '1h', 'min_lifetime': '2h'})
    assert result['failed'] and result['msg'].startswith('MyProxyInputError: ')
    assert 'exception' not in result and SECRET not in json.dumps(result)
    assert not (tmp_path / 'p').exists()


def test_logon_check_mode_does_not_contact_the_server(capsys, tmp_path):
    # Port 1 on 127.0.0.1: nothing listens, any connection attempt would fail the task.
    result = run_main(capsys, myproxy_logon, {
        'username': 'alice', 'passphrase': SECRET, 'server': '127.0.0.1', 'port': 1,
        'dest': str(tmp_path / 'p'), '_ansible_check_mode': True, '_ansible_diff': True})
    assert result['changed'] and result['reason'] == 'missing' and not result['retrieved']
    assert result['diff']['before'] == {'path': str(tmp_path / 'p'), 'exists': False}
    assert not (tmp_path / 'p').exists()


def test_logon_missing_directory(capsys, tmp_path):
    result = run_main(capsys, myproxy_logon, {
        'username': 'alice', 'passphrase': SECRET, 'server': 'localhost',
        'dest': str(tmp_path / 'absent' / 'p')})
    assert result['failed'] and 'does not exist' in result['msg']


def test_logon_dead_server_is_a_clean_failure(capsys, tmp_path):
    result = run_main(capsys, myproxy_logon, {
        'username': 'alice', 'passphrase': SECRET, 'server': '127.0.0.1', 'port': 1,
        'ca_dir': str(tmp_path), 'dest': str(tmp_path / 'p'), 'timeout': 5})
    assert result['failed']
    assert result['msg'].startswith('MyProxyConnectionError: ECONNREFUSED: ')
    assert 'exception' not in result and SECRET not in json.dumps(result)


def test_credential_needs_passphrase_and_client_credential(capsys):
    result = run_main(capsys, myproxy_credential, {'username': 'alice', 'server': 'localhost'})
    assert result['failed'] and 'passphrase' in result['msg']
    result = run_main(capsys, myproxy_credential, {'username': 'alice', 'server': 'localhost',
                                                   'passphrase': SECRET})
    assert result['failed'] and result['error']['class'] == 'MyProxyInputError'
    assert 'client credential' in result['msg'] and SECRET not in json.dumps(result)


def test_credential_short_passphrase(capsys):
    result = run_main(capsys, myproxy_credential, {'username': 'alice', 'server': 'localhost',
                                                   'passphrase': 'abc'})
    assert result['failed'] and 'at least 6' in result['msg']


def test_no_server(capsys, monkeypatch):
    monkeypatch.delenv('MYPROXY_SERVER', raising=False)
    result = run_main(capsys, myproxy_trustroots, {'dest': '/nonexistent'})
    assert result['failed'] and 'MYPROXY_SERVER' in result['msg']
