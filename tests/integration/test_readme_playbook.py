# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's "A complete playbook" runs as it is, from the release tarball, on a stock host.

The collection is built with ``ansible-galaxy collection build`` and installed into a temp
path, the only one on ANSIBLE_COLLECTIONS_PATH. The playbook is taken from README.md unchanged;
only its ``vars:`` are overridden with extra vars (``-e @file``, as a user's site values would
be): the stock ``login`` PAM service with a throwaway unix user, the test KDC, the test
myproxy-server and the test CIMOM over HTTPS. The managed host is localhost with the system
``/usr/bin/python3`` (distro packages only, no pykrb5). The first run changes things, the second
reports ``changed=0``, as the README promises.
"""

import os
import pwd
import re
import stat
import subprocess
import uuid

import pytest
import yaml

from harness import ansible, paths
from harness.services.krb5 import Krb5Service
from harness.services.myproxy import MyProxyService
from harness.services.wbem import WbemService

pytestmark = pytest.mark.slow

SYSTEM_PYTHON = '/usr/bin/python3'
PASSWORD = 'Readme-Pa55-%s' % uuid.uuid4().hex[:8]
PASSPHRASE = 'readme-Passphrase-%s' % uuid.uuid4().hex[:8]
MYPROXY_ACCOUNT = 'readme-ingest'


def _readme_playbook():
    with open(os.path.join(paths.ROOT, 'README.md')) as handle:
        text = handle.read()
    section = text.split('## A complete playbook', 1)[1].split('\n## ', 1)[0]
    (block,) = re.findall(r'```yaml\n(.*?)```', section, re.S)
    return block


@pytest.fixture(scope='module')
def stock_python():
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip('no system Python at %s' % SYSTEM_PYTHON)
    pykrb5 = subprocess.run([SYSTEM_PYTHON, '-c', 'import krb5'], capture_output=True, text=True,
                            check=False, env={'PATH': '/usr/bin:/bin', 'PYTHONNOUSERSITE': '1'})
    assert pykrb5.returncode != 0 and 'krb5' in pykrb5.stderr, \
        'pykrb5 is importable by %s: this test needs a stock host without it' % SYSTEM_PYTHON
    return SYSTEM_PYTHON


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """The tarball installed into a path of its own; returns that collections path."""
    tarball = ansible.build_collection(tmp_path_factory.mktemp('dist'))
    install = tmp_path_factory.mktemp('user-collections')
    run = ansible.run_command([paths.tool('ansible-galaxy'), 'collection', 'install', '--force',
                               '-p', str(install), tarball])
    assert run.rc == 0, run.explain()
    assert (install / 'ansible_collections' / 'hostsec' / 'mgmt' / 'MANIFEST.json').is_file()
    return str(install)


@pytest.fixture(scope='module')
def unix_user():
    if os.geteuid() != 0:
        pytest.skip('creating a local user for the login service needs root (make test runs as root)')
    if not os.path.exists('/etc/pam.d/login'):
        pytest.skip('this host has no /etc/pam.d/login')
    name = 'hsr%s' % uuid.uuid4().hex[:6]
    subprocess.run(['useradd', '-M', '-s', '/usr/sbin/nologin', name], check=True)
    try:
        subprocess.run(['chpasswd'], input='%s:%s\n' % (name, PASSWORD), text=True, check=True)
        yield name
    finally:
        subprocess.run(['userdel', '-f', name], check=False)


@pytest.fixture(scope='module')
def services(tmp_path_factory):
    base = tmp_path_factory.mktemp('readme-services')
    with Krb5Service(str(base / 'krb5')) as kdc, \
            MyProxyService(str(base / 'myproxy')) as myproxy, \
            WbemService(str(base / 'wbem'), http=False) as wbem:
        yield kdc, myproxy, wbem


def _store_credential(myproxy, tmp_path):
    """The credential the README's myproxy_logon fetches, stored with myproxy_credential."""
    alice = myproxy.users['alice']
    play = tmp_path / 'store.yml'
    play.write_text(yaml.safe_dump([{
        'name': 'Store the ingest credential', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'Store', 'hostsec.mgmt.myproxy_credential': {
            'server': myproxy.host, 'port': myproxy.port, 'ca_dir': myproxy.ca_dir,
            'username': MYPROXY_ACCOUNT, 'passphrase': PASSPHRASE,
            'client_cert': alice['cert'], 'client_key': alice['key'],
            'client_key_passphrase': alice['key_passphrase']}}]}]))
    run = ansible.run_playbook(str(play), env={'MYPROXY_SERVER': '', 'X509_USER_PROXY': ''})
    assert run.rc == 0, run.explain()
    assert run.task('Store')['changed'], run.explain()


def test_the_readme_playbook_runs_twice_from_the_tarball(stock_python, installed, unix_user,
                                                         services, tmp_path):
    kdc, myproxy, wbem = services
    _store_credential(myproxy, tmp_path)
    (tmp_path / 'backup').mkdir()
    (tmp_path / 'ingest').mkdir()
    ccache = tmp_path / 'backup' / 'krb5cc'
    proxy = tmp_path / 'ingest' / 'proxy.pem'
    site = {
        # Play 1: the stock login service, the test KDC and the test myproxy-server.
        'pam_service': 'login',
        'test_account': unix_user,
        'test_account_password': PASSWORD,
        'krb5_config': kdc.krb5_conf,
        'backup_principal': kdc.principal('robot'),
        'backup_keytab': kdc.keytabs['robot'],
        'backup_ccache': 'FILE:%s' % ccache,
        'backup_user': unix_user,
        'host_keytab': kdc.keytabs['service'],
        'myproxy_server': myproxy.host,
        'myproxy_port': myproxy.port,
        'myproxy_ca_dir': myproxy.ca_dir,
        'ingest_account': MYPROXY_ACCOUNT,
        'ingest_passphrase': PASSPHRASE,
        'ingest_proxy': str(proxy),
        'ingest_user': unix_user,
        # Play 2: the test CIMOM over HTTPS.
        'cim_server': wbem.https_url,
        'cim_username': wbem.username,
        'cim_password': wbem.password,
        'cim_ca_certs': wbem.ca_file,
    }
    playbook = tmp_path / 'site.yml'
    playbook.write_text(_readme_playbook())
    inventory = tmp_path / 'inventory.ini'
    # become: true of the README; this host has su and no sudo, and the test runs as root.
    inventory.write_text('[login_nodes]\nlocalhost ansible_connection=local '
                         'ansible_python_interpreter=%s ansible_become_method=su\n' % stock_python)
    # Only the user's installed copy on the collections path, no client settings from the env.
    env = {'ANSIBLE_COLLECTIONS_PATH': installed, 'MYPROXY_SERVER': '', 'X509_USER_PROXY': '',
           'KRB5_CONFIG': '', 'KRB5CCNAME': '', 'WBEM_SERVER': ''}
    secrets = (PASSWORD, PASSPHRASE, wbem.password)

    first = ansible.run_playbook(str(playbook), extra_vars=site, env=env,
                                 inventory=str(inventory), verbosity=3)
    assert first.rc == 0, first.explain()
    assert first.recap['localhost']['failed'] == 0, first.explain()
    assert first.recap['localhost']['changed'] >= 3, first.explain()
    installed_module = os.path.join(installed, 'ansible_collections', 'hostsec', 'mgmt',
                                    'plugins', 'modules', 'pam_check.py')
    assert installed_module in first.output, first.explain()
    assert stock_python in first.output, first.explain()
    pam = first.task("The login service accepts the site's test account")
    assert pam['outcome'] == 'PAM_SUCCESS', pam
    verified = first.task('Prove the host keytab works with a GSSAPI handshake')
    assert verified['verified'] is True, verified
    assert first.task('Keep a renewable ticket for the backup robot')['changed']
    assert first.task('Keep a proxy for the ingest service, fetched again below 6 hours')['changed']
    systems = first.task('The computer systems each CIMOM manages')
    assert systems['instances'], systems
    assert first.task("Send the site's alerts to the central listener (only this owner's "
                      "objects are touched)")['changed']
    uid = pwd.getpwnam(unix_user).pw_uid
    for path in (ccache, proxy):
        info = os.lstat(str(path))
        assert stat.S_ISREG(info.st_mode), path
        assert stat.S_IMODE(info.st_mode) == 0o600, (path, oct(info.st_mode))
        assert info.st_uid == uid, (path, info.st_uid)

    second = ansible.run_playbook(str(playbook), extra_vars=site, env=env,
                                  inventory=str(inventory))
    assert second.rc == 0, second.explain()
    assert second.recap['localhost']['failed'] == 0, second.explain()
    assert second.recap['localhost']['changed'] == 0, second.explain()
    assert second.recap['localhost']['ok'] == first.recap['localhost']['ok'], second.explain()
    for run in (first, second):
        for secret in secrets:
            assert secret not in run.output
