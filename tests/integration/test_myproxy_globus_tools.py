# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the MyProxy guide says about the Globus tools and our proxy files holds.

myproxy_logon writes RSA proxies (the default ``key_type``) that Globus' own
``grid-proxy-info`` reads; EC proxies (``key_type: ec``) are valid for OpenSSL-based clients but
Globus' GSI does not read their key ("Couldn't read proxy"), as the guide says.
"""

import shutil
import subprocess

import pytest
import yaml

from harness import ansible
from harness.services.myproxy import MyProxyService

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def myproxy(tmp_path_factory):
    with MyProxyService(str(tmp_path_factory.mktemp('myproxy-globus') / 'server')) as service:
        yield service


def _grid_proxy_info(myproxy, path):
    return subprocess.run(['grid-proxy-info', '-f', path], env=myproxy.environment(),
                          capture_output=True, text=True, errors='replace', timeout=60,
                          check=False)


def test_rsa_proxies_are_read_by_grid_proxy_info_and_ec_ones_are_not(myproxy, tmp_path):
    if not shutil.which('grid-proxy-info'):
        pytest.fail('grid-proxy-info is missing (Debian package globus-proxy-utils, pulled in '
                    'by the myproxy package of bindep.txt)')
    alice = myproxy.users['alice']
    defaults = {'server': myproxy.host, 'port': myproxy.port, 'ca_dir': myproxy.ca_dir}
    tasks = [{'name': 'Store a credential', 'hostsec.mgmt.myproxy_credential': {
        'username': 'globus-alice', 'passphrase': 'globus-Passphrase-1',
        'client_cert': alice['cert'], 'client_key': alice['key'],
        'client_key_passphrase': alice['key_passphrase']}}]
    for key_type, key_size in (('rsa', 2048), ('ec', 384)):
        tasks.append({'name': 'Log on with a %s key' % key_type, 'hostsec.mgmt.myproxy_logon': {
            'username': 'globus-alice', 'passphrase': 'globus-Passphrase-1',
            'dest': str(tmp_path / ('x509up_%s' % key_type)), 'key_type': key_type,
            'key_size': key_size}})
    play = tmp_path / 'play.yml'
    play.write_text(yaml.safe_dump([{
        'name': 'Proxies for the Globus tools', 'hosts': 'localhost', 'gather_facts': False,
        'module_defaults': {'group/hostsec.mgmt.myproxy': defaults}, 'tasks': tasks}]))
    run = ansible.run_playbook(str(play), env={'MYPROXY_SERVER': '', 'X509_USER_PROXY': ''})
    assert run.rc == 0, run.explain()
    rsa = _grid_proxy_info(myproxy, str(tmp_path / 'x509up_rsa'))
    assert rsa.returncode == 0, rsa.stdout + rsa.stderr
    assert 'CN=alice' in rsa.stdout and 'timeleft' in rsa.stdout, rsa.stdout
    ec = _grid_proxy_info(myproxy, str(tmp_path / 'x509up_ec'))
    assert ec.returncode != 0 and "Couldn't read proxy" in ec.stderr, ec.stdout + ec.stderr
