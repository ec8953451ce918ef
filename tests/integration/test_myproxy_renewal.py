# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MyProxy renewal (myproxy_logon renew_with, ``myproxy-logon -a``) against Debian's
myproxy-server with renewal policies.

One server for the module: ``authorized_renewers`` lets alice, bob and carol renew,
``default_renewers`` lets carol renew credentials that have no renewers policy of their own,
and ``allow_self_authorization`` lets a proxy renew itself. The credentials are stored by
myproxy_credential without a passphrase (renewal only). One playbook checks the module: a
service (bob) renews alice's expiring proxy, the no-change run, refusals by the credential's
renewers policy and by default_renewers (the file stays as it was), self-renewal, an expired
renewal credential. Then the C ``myproxy-logon -a`` renews a credential myproxy_credential
stored, and the C client and the module agree on a refusal.
"""

import datetime
import hashlib
import os
import shutil
import subprocess

import pytest

from harness import ansible
from harness.services.myproxy import MyProxyService

pytestmark = pytest.mark.slow

RENEWAL_CONFIG = [
    'authorized_renewers "*/CN=alice" "*/CN=bob" "*/CN=carol"',
    'default_renewers "*/CN=carol"',
    'allow_self_authorization true',
]


@pytest.fixture(scope='module')
def myproxy(tmp_path_factory):
    with MyProxyService(str(tmp_path_factory.mktemp('myproxy-renewal') / 'server'),
                        extra_config=RENEWAL_CONFIG) as service:
        yield service


def _proxy(user, path, seconds, expired=False):
    """Write a proxy of ``user`` (the harness user dict) valid for ``seconds`` to ``path``."""
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import proxy as mproxy
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (
        Credential, read_credential_file)
    owner = read_credential_file(user['cert'], user['key_plain'])
    key = mx509.generate_key('rsa', 2048)
    now = mx509.now() - (datetime.timedelta(seconds=seconds + 600) if expired
                         else datetime.timedelta(0))
    cert = mproxy.sign_proxy(key.public_key(), owner.cert, owner.key, seconds, now=now)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(Credential(cert, key, [owner.cert]).to_pem())
    return path


def _digest(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


PLAYBOOK = r'''
- name: Renewal
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/hostsec.mgmt.myproxy:
      server: "{{ myproxy_server }}"
      port: "{{ myproxy_port }}"
      ca_dir: "{{ myproxy_ca_dir }}"
  vars:
    alice: "{{ myproxy_users.alice }}"
    bob: "{{ myproxy_users.bob }}"
    carol: "{{ myproxy_users.carol }}"
  tasks:
    - name: Store alice's credentials without a passphrase (renewal only)
      hostsec.mgmt.myproxy_credential:
        username: "{{ item.username }}"
        passphrase: ''
        renewers: "{{ item.renewers | default(omit) }}"
        client_cert: "{{ alice.cert }}"
        client_key: "{{ alice.key_plain }}"
      loop:
        - {username: renew-alice, renewers: '*/CN=bob'}
        - {username: default-alice}
        - {username: self-alice, renewers: '*/CN=alice'}
        - {username: c-alice, renewers: '*/CN=bob'}
      register: stored

    - name: Storing again changes nothing
      hostsec.mgmt.myproxy_credential:
        username: renew-alice
        passphrase: ''
        renewers: '*/CN=bob'
        client_cert: "{{ alice.cert }}"
        client_key: "{{ alice.key_plain }}"
      register: stored_again

    - name: Check mode says a renewal is due, without contacting the server
      hostsec.mgmt.myproxy_logon:
        username: renew-alice
        dest: "{{ scratch }}/bob-renews.pem"
        renew_with: "{{ scratch }}/bob-renews.pem"
        client_cert: "{{ bob.cert }}"
        client_key: "{{ bob.key_plain }}"
      check_mode: true
      register: check_run

    - name: Bob (a service) renews alice's expiring proxy with his own certificate
      hostsec.mgmt.myproxy_logon:
        username: renew-alice
        dest: "{{ scratch }}/bob-renews.pem"
        renew_with: "{{ scratch }}/bob-renews.pem"
        client_cert: "{{ bob.cert }}"
        client_key: "{{ bob.key_plain }}"
        lifetime: 6h
      register: renewed

    - name: The renewed proxy is valid, so the next run neither renews nor contacts the server
      hostsec.mgmt.myproxy_logon:
        username: renew-alice
        port: "{{ myproxy_dead_port }}"
        dest: "{{ scratch }}/bob-renews.pem"
        renew_with: "{{ scratch }}/bob-renews.pem"
        client_cert: "{{ bob.cert }}"
        client_key: "{{ bob.key_plain }}"
        lifetime: 6h
      register: again

    - name: Carol is not in the credential's renewers policy
      hostsec.mgmt.myproxy_logon:
        username: renew-alice
        dest: "{{ scratch }}/carol-refused.pem"
        renew_with: "{{ scratch }}/carol-refused.pem"
        client_cert: "{{ carol.cert }}"
        client_key: "{{ carol.key_plain }}"
      register: refused
      ignore_errors: true

    - name: Carol renews a credential without a renewers policy (server's default_renewers)
      hostsec.mgmt.myproxy_logon:
        username: default-alice
        dest: "{{ scratch }}/carol-default.pem"
        renew_with: "{{ scratch }}/carol-default.pem"
        client_cert: "{{ carol.cert }}"
        client_key: "{{ carol.key_plain }}"
      register: by_default

    - name: Bob is not in the server's default_renewers
      hostsec.mgmt.myproxy_logon:
        username: default-alice
        dest: "{{ scratch }}/bob-default.pem"
        renew_with: "{{ scratch }}/bob-default.pem"
        client_cert: "{{ bob.cert }}"
        client_key: "{{ bob.key_plain }}"
      register: default_refused
      ignore_errors: true

    - name: Alice's proxy renews itself (renewers */CN=alice, allow_self_authorization)
      hostsec.mgmt.myproxy_logon:
        username: self-alice
        dest: "{{ scratch }}/self.pem"
        renew_with: "{{ scratch }}/self.pem"
      register: self_renewed

    - name: An expired proxy cannot renew
      hostsec.mgmt.myproxy_logon:
        username: self-alice
        dest: "{{ scratch }}/expired.pem"
        renew_with: "{{ scratch }}/expired.pem"
      register: expired
      ignore_errors: true

    - name: A link at dest is never used to renew (nor followed)
      hostsec.mgmt.myproxy_logon:
        username: renew-alice
        dest: "{{ scratch }}/link.pem"
        renew_with: "{{ scratch }}/link.pem"
        client_cert: "{{ bob.cert }}"
        client_key: "{{ bob.key_plain }}"
      register: via_link
      ignore_errors: true

    - name: The myproxy_client role renews with myproxy_client_renew_with
      ansible.builtin.include_role:
        name: hostsec.mgmt.myproxy_client
      vars:
        myproxy_client_server: "{{ myproxy_server }}"
        myproxy_client_port: "{{ myproxy_port }}"
        myproxy_client_ca_dir: "{{ myproxy_ca_dir }}"
        myproxy_client_install_packages: false
        myproxy_client_trustroots: false
        myproxy_client_username: renew-alice
        myproxy_client_proxy_path: "{{ scratch }}/role.pem"
        myproxy_client_renew_with: "{{ scratch }}/role.pem"
        myproxy_client_cert: "{{ bob.cert }}"
        myproxy_client_key: "{{ bob.key_plain }}"
        myproxy_client_lifetime: 6h
        myproxy_client_renew_below: 1h

    - name: Results
      ansible.builtin.assert:
        that:
          - stored.results | map(attribute='changed') | list == [true, true, true, true]
          - stored.results[0].credential.renewers == '*/CN=bob'
          - stored_again is not changed
          - check_run is changed and check_run.reason == 'expiring'
          - not check_run.renewed and not check_run.retrieved and check_run.server is none
          - renewed is changed and renewed.retrieved and renewed.renewed
          - renewed.reason == 'expiring'
          - renewed.identity == alice.subject
          - renewed.proxy_type == 'rfc3820'
          - renewed.remaining > 5 * 3600
          - again is not changed and again.reason == 'valid'
          - not again.renewed and again.server is none
          - refused is failed
          - refused.error.class == 'MyProxyAuthorizationError'
          - refused.error.name == 'RENEWAL_REFUSED'
          - "'renewers policy' in refused.msg and 'authorized_renewers' in refused.msg"
          - refused.error.client == carol.subject
          - by_default is changed and by_default.renewed
          - default_refused is failed and default_refused.error.name == 'RENEWAL_REFUSED'
          - "'default_renewers' in default_refused.msg"
          - self_renewed is changed and self_renewed.renewed
          - self_renewed.identity == alice.subject
          - expired is failed and expired.error.name == 'RENEWAL_CREDENTIAL_EXPIRED'
          - via_link is failed and via_link.error.name == 'RENEWAL_CREDENTIAL_UNUSABLE'
          - via_link.error.reason == 'symlink'
          - myproxy_client_proxy is changed and myproxy_client_proxy.renewed
          - myproxy_client_proxy.identity == alice.subject
'''


def test_renewal(myproxy, tmp_path):
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    alice = myproxy.users['alice']
    # Expiring proxies of alice (30 minutes left, below the default min_lifetime of 1 hour).
    for name in ('bob-renews', 'carol-refused', 'carol-default', 'bob-default', 'self', 'role'):
        _proxy(alice, str(scratch / ('%s.pem' % name)), 1800)
    _proxy(alice, str(scratch / 'expired.pem'), 1800, expired=True)
    _proxy(alice, str(scratch / 'victim.pem'), 1800)
    os.symlink(str(scratch / 'victim.pem'), str(scratch / 'link.pem'))
    victim_before = _digest(str(scratch / 'victim.pem'))
    refused_before = _digest(str(scratch / 'carol-refused.pem'))
    playbook = tmp_path / 'renewal.yml'
    playbook.write_text(PLAYBOOK)
    from harness.process import free_port
    run = ansible.run_playbook(str(playbook), extra_vars=dict(
        myproxy.ansible_vars(), scratch=str(scratch), myproxy_dead_port=free_port()),
        env={'MYPROXY_SERVER': '', 'X509_USER_PROXY': '', 'X509_USER_CERT': '',
             'X509_USER_KEY': ''})
    assert run.rc == 0, run.explain()
    # A refused renewal leaves the file as it was (content and mode).
    assert _digest(str(scratch / 'carol-refused.pem')) == refused_before
    assert os.stat(str(scratch / 'carol-refused.pem')).st_mode & 0o777 == 0o600
    # The link was neither followed nor replaced.
    assert os.path.islink(str(scratch / 'link.pem'))
    assert _digest(str(scratch / 'victim.pem')) == victim_before
    # The C client renews with the proxy myproxy_logon renewed (stored by myproxy_credential).
    out = str(scratch / 'c-renewed.pem')
    proc = subprocess.run(['myproxy-logon', '-a', str(scratch / 'bob-renews.pem'),
                           '-l', 'c-alice', '-t', '1', '-o', out],
                          env=myproxy.client_env(user='bob'), capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (
        read_credential_file)
    assert read_credential_file(out).identity == alice['subject']
    # ... and is refused where the module is: carol is not in c-alice's renewers policy.
    proc = subprocess.run(['myproxy-logon', '-a', str(scratch / 'bob-renews.pem'),
                           '-l', 'c-alice', '-t', '1', '-o', out + '.carol'],
                          env=myproxy.client_env(user='carol'), capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode != 0 and not os.path.exists(out + '.carol')


def test_renewal_of_a_passphrase_protected_credential_is_refused(myproxy, tmp_path):
    """The server renews only credentials without a passphrase: the module's error says so."""
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    alice = myproxy.users['alice']
    dest = _proxy(alice, str(scratch / 'x509up'), 1800)
    before = _digest(dest)
    args = ('server=localhost port=%d ca_dir=%s username=pp-alice dest=%s renew_with=%s '
            'client_cert=%s client_key=%s' % (myproxy.port, myproxy.ca_dir, dest, dest,
                                              myproxy.users['bob']['cert'],
                                              myproxy.users['bob']['key_plain']))
    store = ansible.run_adhoc('hostsec.mgmt.myproxy_credential', (
        'server=localhost port=%d ca_dir=%s username=pp-alice passphrase=pp-Passphrase-1 '
        'renewers=*/CN=bob client_cert=%s client_key=%s'
        % (myproxy.port, myproxy.ca_dir, alice['cert'], alice['key_plain'])))
    assert store.rc == 0, store.explain()
    run = ansible.run_adhoc('hostsec.mgmt.myproxy_logon', args)
    assert run.rc != 0
    result = run.results[-1]['result']
    assert result['error']['name'] == 'RENEWAL_REFUSED', result
    assert 'without a passphrase' in result['msg']
    assert _digest(dest) == before
    shutil.rmtree(str(scratch), ignore_errors=True)
