# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every secret option can come from an environment variable (issue 11, section 4).

ansible-core shows the arguments of a failed ad-hoc task (``ansible -m ... -a '...'``), so a
secret given with ``-a`` can end up on the terminal. Each test here runs an ad-hoc command
whose secrets are only in the environment, at ``-vvv``, against the real service (pam_wrapper
+ pam_matrix, an MIT KDC, Debian's myproxy-server): it succeeds, fails without the variables,
and no secret appears in anything Ansible printed or returned.
"""

import json
import os

import pytest

from harness import ansible
from harness.services.krb5 import USERS as KRB5_USERS, Krb5Service
from harness.services.myproxy import MyProxyService
from harness.services.pam import MATRIX_USERS, PamWrapperService

pytestmark = pytest.mark.slow


def _adhoc(module, args, env, verbosity=3):
    return ansible.run_adhoc('hostsec.mgmt.' + module, json.dumps(args), env=env,
                             verbosity=verbosity)


def _assert_no_secret(run, secrets):
    assert '-vvv' in run.argv and 'ESTABLISH LOCAL CONNECTION' in run.output, run.explain()
    for secret in secrets:
        assert secret not in run.output, 'a secret appears in the output:\n' + run.explain()
        assert secret not in ' '.join(run.argv)


def test_pam_check_password_from_the_environment(tmp_path):
    password = MATRIX_USERS['alice'][0]
    with PamWrapperService(str(tmp_path / 'pam')) as pam:
        args = {'service': 'hostsec-matrix', 'user': 'alice'}
        env = dict(pam.environment(), HOSTSEC_PAM_PASSWORD=password)
        run = _adhoc('pam_check', args, env)
        assert run.rc == 0, run.explain()
        assert run.results[-1]['result']['outcome'] == 'PAM_SUCCESS'
        _assert_no_secret(run, [password])
        # An empty variable counts as unset: no password, the prompt is not answered.
        bare = _adhoc('pam_check', args, dict(pam.environment(), HOSTSEC_PAM_PASSWORD=''))
        assert bare.rc != 0
        assert bare.results[-1]['result']['outcome'] != 'PAM_SUCCESS'


def test_krb5_passwords_from_the_environment(tmp_path):
    with Krb5Service(str(tmp_path / 'krb5')) as kdc:
        alice = kdc.principal('alice')
        secret = KRB5_USERS['alice']
        ticket = {'principal': alice, 'ccache': 'FILE:%s' % (tmp_path / 'alice.cc'),
                  'krb5_config': kdc.krb5_conf}
        run = _adhoc('krb5_ticket', ticket, dict(kdc.env, HOSTSEC_KRB5_PASSWORD=secret))
        assert run.rc == 0, run.explain()
        result = run.results[-1]['result']
        assert result['changed'] and result['principal'] == alice
        _assert_no_secret(run, [secret])
        bare = _adhoc('krb5_ticket', dict(ticket, ccache='FILE:%s' % (tmp_path / 'bare.cc')),
                      kdc.env)
        assert bare.rc != 0
        verify = {'keytab': kdc.keytabs['service'], 'verify': True,
                  'initiator_principal': alice, 'krb5_config': kdc.krb5_conf}
        run = _adhoc('krb5_keytab_info', verify,
                     dict(kdc.env, HOSTSEC_KRB5_INITIATOR_PASSWORD=secret))
        assert run.rc == 0, run.explain()
        assert run.results[-1]['result']['verification'][0]['initiator'] == alice
        _assert_no_secret(run, [secret])


def test_myproxy_passphrases_from_the_environment(tmp_path):
    with MyProxyService(str(tmp_path / 'myproxy' / 'server')) as myproxy:
        alice = myproxy.users['alice']
        common = {'server': 'localhost', 'port': myproxy.port, 'ca_dir': myproxy.ca_dir,
                  'client_cert': alice['cert'], 'client_key': alice['key']}
        first, second = 'env-Passphrase-1', 'env-Passphrase-2'
        base_env = {'MYPROXY_SERVER': '', 'X509_USER_PROXY': '', 'X509_USER_CERT': '',
                    'X509_USER_KEY': ''}
        key_env = dict(base_env, HOSTSEC_MYPROXY_CLIENT_KEY_PASSPHRASE=alice['key_passphrase'],
                       HOSTSEC_MYPROXY_PRIVATE_KEY_PASSPHRASE=alice['key_passphrase'])
        store = dict(common, username='env-alice', certificate=alice['cert'],
                     private_key=alice['key'])
        secrets = [alice['key_passphrase'], first, second]

        run = _adhoc('myproxy_credential', store, dict(key_env, HOSTSEC_MYPROXY_PASSPHRASE=first))
        assert run.rc == 0, run.explain()
        assert run.results[-1]['result']['action'] == 'stored'
        _assert_no_secret(run, secrets)

        run = _adhoc('myproxy_credential', dict(common, username='env-alice'),
                     dict(key_env, HOSTSEC_MYPROXY_PASSPHRASE=first,
                          HOSTSEC_MYPROXY_NEW_PASSPHRASE=second))
        assert run.rc == 0, run.explain()
        assert run.results[-1]['result']['changed']
        _assert_no_secret(run, secrets)

        logon = {'server': 'localhost', 'port': myproxy.port, 'ca_dir': myproxy.ca_dir,
                 'username': 'env-alice', 'dest': str(tmp_path / 'x509up_env')}
        run = _adhoc('myproxy_logon', logon, dict(base_env, HOSTSEC_MYPROXY_PASSPHRASE=second))
        assert run.rc == 0, run.explain()
        assert run.results[-1]['result']['retrieved'] is True
        assert os.path.getsize(logon['dest']) > 0
        _assert_no_secret(run, secrets)
        # Without the variable the client key cannot be decrypted: a clean failure.
        bare = _adhoc('myproxy_credential', dict(common, username='env-alice'),
                      dict(base_env, HOSTSEC_MYPROXY_PASSPHRASE=second))
        assert bare.rc != 0 and 'Traceback' not in bare.output
