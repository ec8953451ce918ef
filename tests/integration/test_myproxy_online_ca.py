# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""myproxy_logon and myproxy_info against Debian's myproxy-server as an online CA.

The server (``online_ca=True`` of the harness) has ``certificate_issuer_cert`` /
``certificate_issuer_key`` of a CA of its own (``/O=Hostsec Test/CN=Hostsec Online CA``, in
the client's CA directory), a ``certificate_mapfile`` mapping the test users to their DNs, and
``pam "required"`` with ``pam_id`` naming the pam_matrix service of a pam_wrapper directory:
myproxy-server runs with pam_wrapper preloaded, so the passwords are pam_matrix's, not the
system's. No credential is stored: every logon is a certificate issued by the CA.

The C ``myproxy-logon`` runs side by side: both get an end-entity certificate of the same
subject from the right password, both fail on a wrong one, and the module keeps the
certificate the C client wrote (the validity check accepts an issued end-entity certificate).
"""

import os
import subprocess

import pytest

from harness import ansible
from harness.process import free_port
from harness.services.myproxy import MyProxyService
from harness.services.pam import MATRIX_USERS, PamWrapperService

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def online_ca(tmp_path_factory):
    base = tmp_path_factory.mktemp('myproxy-ca')
    with PamWrapperService(str(base / 'pam')) as pam:
        with MyProxyService(str(base / 'server'), online_ca=True,
                            server_env=pam.environment(),
                            extra_config=['pam "required"', 'pam_id "hostsec-matrix"']) as service:
            yield service


PLAYBOOK = r'''
- name: Online CA
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/hostsec.mgmt.myproxy:
      server: "{{ myproxy_server }}"
      port: "{{ myproxy_port }}"
      ca_dir: "{{ myproxy_ca_dir }}"
  vars:
    alice: "{{ myproxy_users.alice }}"
  tasks:
    - name: Check mode says a certificate would be retrieved
      hostsec.mgmt.myproxy_logon:
        username: alice
        passphrase: "{{ alice_password }}"
        dest: "{{ scratch }}/alice.pem"
      check_mode: true
      register: check_run

    - name: Log on with the PAM password; the CA issues a certificate
      hostsec.mgmt.myproxy_logon:
        username: alice
        passphrase: "{{ alice_password }}"
        dest: "{{ scratch }}/alice.pem"
        lifetime: 6h
      register: issued

    - name: The issued certificate is valid; the next run does not contact the server
      hostsec.mgmt.myproxy_logon:
        username: alice
        passphrase: "{{ alice_password }}"
        port: "{{ myproxy_dead_port }}"
        dest: "{{ scratch }}/alice.pem"
        lifetime: 6h
        identity: "{{ alice.subject }}"
      register: again

    - name: The certificate the C myproxy-logon wrote is valid as well
      hostsec.mgmt.myproxy_logon:
        username: alice
        passphrase: "{{ alice_password }}"
        port: "{{ myproxy_dead_port }}"
        dest: "{{ c_dest }}"
        min_lifetime: 10m
      register: from_c

    - name: A wrong password
      hostsec.mgmt.myproxy_logon:
        username: alice
        passphrase: wrong-Passw0rd
        dest: "{{ scratch }}/wrong.pem"
      register: wrong
      ignore_errors: true

    - name: A user the CA cannot map to a DN
      hostsec.mgmt.myproxy_logon:
        username: nobody
        passphrase: "{{ alice_password }}"
        dest: "{{ scratch }}/nobody.pem"
      register: unknown
      ignore_errors: true

    - name: Nothing is stored on the server for alice
      hostsec.mgmt.myproxy_info:
        username: alice
        client_cert: "{{ alice.cert }}"
        client_key: "{{ alice.key_plain }}"
      register: info

    - name: Results
      ansible.builtin.assert:
        that:
          - check_run is changed and check_run.reason == 'missing'
          - check_run.server is none and not check_run.retrieved
          - issued is changed and issued.retrieved and not issued.renewed
          - issued.proxy_type == 'end_entity'
          - issued.subject == alice.subject and issued.identity == alice.subject
          - issued.issuer == myproxy_issuer_subject
          - issued.chain_length == 0
          - issued.remaining > 3600
          - again is not changed and again.reason == 'valid' and again.server is none
          - again.proxy_type == 'end_entity'
          - from_c is not changed and from_c.reason == 'valid'
          - from_c.subject == issued.subject and from_c.proxy_type == 'end_entity'
          - wrong is failed
          - wrong.error.class == 'MyProxyAuthenticationError'
          - wrong.error.name == 'BAD_PASSPHRASE'
          - unknown is failed and unknown.error.name == 'UNKNOWN_USERNAME'
          - info is not changed and not info.exists and info.credentials == []
'''


def _c_logon(online_ca, out, password):
    return subprocess.run(['myproxy-logon', '-S', '-l', 'alice', '-t', '1', '-o', out],
                          input=password + '\n', env=online_ca.client_env(),
                          capture_output=True, text=True, timeout=60, check=False)


def test_online_ca(online_ca, tmp_path):
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    password = MATRIX_USERS['alice'][0]
    c_dest = str(scratch / 'c-alice.pem')
    proc = _c_logon(online_ca, c_dest, password)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wrong = _c_logon(online_ca, c_dest + '.wrong', 'wrong-Passw0rd')
    assert wrong.returncode != 0 and 'invalid password' in wrong.stdout + wrong.stderr
    assert not os.path.exists(c_dest + '.wrong')
    playbook = tmp_path / 'online-ca.yml'
    playbook.write_text(PLAYBOOK)
    run = ansible.run_playbook(str(playbook), extra_vars=dict(
        online_ca.ansible_vars(), scratch=str(scratch), c_dest=c_dest,
        alice_password=password, myproxy_dead_port=free_port()),
        env={'MYPROXY_SERVER': '', 'X509_USER_PROXY': '', 'X509_USER_CERT': '',
             'X509_USER_KEY': ''})
    assert run.rc == 0, run.explain()
    # The same subject form from both clients: the end-entity DN the mapfile gives.
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (
        read_credential_file)
    c_cred = read_credential_file(c_dest)
    ours = read_credential_file(str(scratch / 'alice.pem'))
    assert c_cred.proxy_type == ours.proxy_type == 'end_entity'
    assert c_cred.describe()['subject'] == ours.describe()['subject'] \
        == online_ca.users['alice']['subject']
    assert not os.path.exists(str(scratch / 'wrong.pem'))
