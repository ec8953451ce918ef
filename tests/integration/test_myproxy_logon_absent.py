# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""myproxy_logon state=absent: the local proxy file goes, the stored credential stays, a planted
link is removed without touching its target, and check mode removes nothing."""

import os
import subprocess

import pytest
import yaml

from harness import ansible
from harness.services.myproxy import MyProxyService

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def myproxy(tmp_path_factory):
    with MyProxyService(str(tmp_path_factory.mktemp('myproxy-absent') / 'server')) as service:
        yield service


def _play(myproxy, tmp_path, tasks):
    defaults = {'server': myproxy.host, 'port': myproxy.port, 'ca_dir': myproxy.ca_dir}
    play = tmp_path / 'play.yml'
    play.write_text(yaml.safe_dump([{
        'name': 'myproxy_logon absent', 'hosts': 'localhost', 'gather_facts': False,
        'module_defaults': {'group/hostsec.mgmt.myproxy': defaults}, 'tasks': tasks}]))
    run = ansible.run_playbook(str(play), env={'MYPROXY_SERVER': '', 'X509_USER_PROXY': ''},
                               diff=True)
    assert run.rc == 0, run.explain()
    return run


def test_absent_removes_the_file_and_keeps_the_stored_credential(myproxy, tmp_path):
    alice = myproxy.users['alice']
    dest = str(tmp_path / 'x509up_absent')
    logon = {'username': 'absent-alice', 'passphrase': 'absent-Passphrase-1', 'dest': dest}
    run = _play(myproxy, tmp_path, [
        {'name': 'store', 'hostsec.mgmt.myproxy_credential': {
            'username': 'absent-alice', 'passphrase': 'absent-Passphrase-1',
            'client_cert': alice['cert'], 'client_key': alice['key'],
            'client_key_passphrase': alice['key_passphrase']}},
        {'name': 'logon', 'hostsec.mgmt.myproxy_logon': logon},
        {'name': 'check mode', 'hostsec.mgmt.myproxy_logon': {'state': 'absent', 'dest': dest},
         'check_mode': True, 'register': 'check'},
        {'name': 'file still there', 'ansible.builtin.stat': {'path': dest}, 'register': 'kept'},
        {'name': 'absent', 'hostsec.mgmt.myproxy_logon': {'state': 'absent', 'dest': dest},
         'register': 'gone'},
        {'name': 'absent again', 'hostsec.mgmt.myproxy_logon': {'state': 'absent', 'dest': dest},
         'register': 'again'},
        {'name': 'check', 'ansible.builtin.assert': {'that': [
            'check is changed', 'kept.stat.exists', 'gone is changed',
            "gone.reason == 'removed'", 'not gone.retrieved', 'gone.server is none',
            'again is not changed', "again.reason == 'absent'"]}},
    ])
    assert not os.path.lexists(dest)
    # The credential on the server is untouched: the C client still retrieves it.
    out = str(tmp_path / 'c-logon.pem')
    proc = subprocess.run(['myproxy-logon', '-S', '-l', 'absent-alice', '-t', '1', '-o', out],
                          input='absent-Passphrase-1\n', env=myproxy.client_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert 'check' in run.output


def test_absent_removes_a_planted_link_not_its_target(myproxy, tmp_path):
    victim = tmp_path / 'root-proxy'
    victim.write_bytes(b'root proxy, not to be touched')
    os.chmod(str(victim), 0o600)
    dest = tmp_path / 'x509up_link'
    dest.symlink_to(victim)
    _play(myproxy, tmp_path, [
        {'name': 'absent', 'hostsec.mgmt.myproxy_logon': {'state': 'absent', 'dest': str(dest)},
         'register': 'gone'},
        {'name': 'check', 'ansible.builtin.assert': {'that': [
            'gone is changed', "gone.reason == 'removed_symlink'"]}}])
    assert not os.path.lexists(str(dest))
    assert victim.read_bytes() == b'root proxy, not to be touched'
