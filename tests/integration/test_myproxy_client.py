# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MyProxy client against Debian's myproxy-server, and against the Globus C clients.

Every protocol command, interoperability both ways (what our client stores the C
``myproxy-logon`` retrieves, what ``myproxy-init``/``myproxy-store`` store our client
retrieves), and the error paths: wrong passphrase, unknown user, expired credentials, an
untrusted server, a server with another name, a dead port, a silent server, a server that
hangs up in the middle of a reply, passphrase policy, ownership.
"""

import os
import subprocess
import time

import pytest

from harness.faults import CuttingProxy, SilentServer
from harness.process import free_port
from harness.services.myproxy import MyProxyService

from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import errors
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.client import MyProxyClient
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (
    Credential, read_credential_file)

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def myproxy(tmp_path_factory):
    with MyProxyService(str(tmp_path_factory.mktemp('myproxy') / 'server')) as service:
        yield service


def user_credential(service, user):
    info = service.users[user]
    return read_credential_file(info['cert'], info['key'], passphrase=info['key_passphrase'])


def client(service, user=None, **kwargs):
    kwargs.setdefault('ca_dir', service.ca_dir)
    kwargs.setdefault('timeout', 10)
    credential = user_credential(service, user) if user else None
    return MyProxyClient(kwargs.pop('server', 'localhost'), kwargs.pop('port', service.port),
                         credential=credential, **kwargs)


def c_tool(service, argv, stdin=None, user=None, proxy=None):
    """Run a Globus C client against the service; passphrases go through stdin (-S)."""
    proc = subprocess.run(argv, input=stdin, env=service.client_env(user=user, proxy=proxy),
                          capture_output=True, text=True, timeout=60, check=False)
    return proc


# ---------------------------------------------------------------------------- commands

def test_store_get_info_change_destroy(myproxy):
    alice = client(myproxy, 'alice')
    source = user_credential(myproxy, 'alice')
    alice.store('alice', source, 'first-Passphrase1', credname='cycle',
                description='cycle test', retrievers='*', max_proxy_lifetime=7200)
    [info] = alice.info('alice', 'cycle')
    assert info['owner'] == '/O=Hostsec Test/CN=alice'
    assert info['description'] == 'cycle test'
    assert info['retrievers'] == '*'
    # STORE: the stored end is the certificate's end.
    assert info['end_time'] == int(mx509.not_after(source.cert).timestamp())

    proxy, roots = client(myproxy).get('alice', 'first-Passphrase1', lifetime=3 * 3600,
                                       credname='cycle')
    assert roots is None
    facts = proxy.describe()
    assert facts['identity'] == '/O=Hostsec Test/CN=alice'
    assert facts['proxy_type'] == 'rfc3820'
    assert facts['subject'].startswith('/O=Hostsec Test/CN=alice/CN=')
    # The server caps the lifetime at the credential's max_proxy_lifetime (2 hours).
    assert 7000 < facts['remaining'] <= 7200
    assert mx509.public_key_equal(proxy.cert.public_key(), proxy.key.public_key())

    alice.change_passphrase('alice', 'first-Passphrase1', 'second-Passphrase2', credname='cycle')
    with pytest.raises(errors.MyProxyAuthenticationError) as info_exc:
        client(myproxy).get('alice', 'first-Passphrase1', credname='cycle')
    assert info_exc.value.error_name == 'BAD_PASSPHRASE'
    client(myproxy).get('alice', 'second-Passphrase2', credname='cycle')

    alice.destroy('alice', 'cycle')
    assert alice.info('alice', 'cycle') == []
    with pytest.raises(errors.MyProxyCredentialNotFoundError):
        alice.destroy('alice', 'cycle')


def test_put_delegates_rfc3820_proxy(myproxy):
    bob = client(myproxy, 'bob')
    delegated = bob.put('bob', 'bob-Put-Passphrase', lifetime=24 * 3600,
                        max_proxy_lifetime=3600, credname='put', description='delegated')
    assert mx509.proxy_type(delegated) == 'rfc3820'
    [info] = bob.info('bob', 'put')
    assert abs(info['end_time'] - mx509.not_after(delegated).timestamp()) < 2
    proxy, _roots = client(myproxy).get('bob', 'bob-Put-Passphrase', credname='put')
    # A proxy of our delegated proxy: two proxy levels above bob's certificate.
    assert proxy.identity == '/O=Hostsec Test/CN=bob'
    assert len(proxy.chain) == 2 and mx509.proxy_type(proxy.chain[0]) == 'rfc3820'
    assert proxy.remaining() <= 3600


def test_get_with_ec_key_and_trustroots(myproxy):
    client(myproxy, 'carol').store('carol', user_credential(myproxy, 'carol'), 'carol-Passphrase1')
    proxy, roots = client(myproxy).get('carol', 'carol-Passphrase1', key_type='ec',
                                       key_size=256, want_trustroots=True)
    assert mx509.describe_key(proxy.key) == ('ec', 256)
    assert sorted(roots) == [myproxy.ca_hash + '.0', myproxy.ca_hash + '.signing_policy']
    with open(os.path.join(myproxy.ca_dir, myproxy.ca_hash + '.0'), 'rb') as handle:
        assert roots[myproxy.ca_hash + '.0'] == handle.read()


def test_get_trustroots_verified_and_bootstrap(myproxy, tmp_path):
    roots, chain, subject = client(myproxy).get_trustroots()
    assert subject == myproxy.host_subject
    assert myproxy.ca_hash + '.0' in roots
    # Bootstrap: no CA directory at all, the server is not verified.
    roots2, chain2, _subject = client(myproxy, ca_dir=str(tmp_path / 'none')).get_trustroots(
        bootstrap=True)
    assert roots2 == roots
    assert mx509.oneline(chain2[0].subject) == myproxy.host_subject


def test_retrieve_needs_key_retriever_policy(myproxy):
    alice = client(myproxy, 'alice')
    source = user_credential(myproxy, 'alice')
    alice.store('alice', source, 'retrieve-Pass1', credname='nokeys')
    with pytest.raises(errors.MyProxyAuthorizationError) as exc:
        alice.retrieve('alice', 'retrieve-Pass1', credname='nokeys')
    assert exc.value.error_name == 'NOT_AUTHORIZED'
    alice.store('alice', source, 'retrieve-Pass1', credname='keys', key_retrievers='*')
    retrieved = alice.retrieve('alice', 'retrieve-Pass1', credname='keys')
    assert retrieved.cert == source.cert
    assert mx509.public_key_equal(retrieved.key.public_key(), source.key.public_key())


# ---------------------------------------------------------------------------- interoperability

def test_our_store_and_put_are_retrievable_by_c_myproxy_logon(myproxy, tmp_path):
    alice = client(myproxy, 'alice')
    alice.store('alice', user_credential(myproxy, 'alice'), 'c-interop-Pass1', credname='cstore')
    alice.put('alice', 'c-interop-Pass2', credname='cput')
    for credname, passphrase in (('cstore', 'c-interop-Pass1'), ('cput', 'c-interop-Pass2')):
        out = str(tmp_path / ('%s.pem' % credname))
        proc = c_tool(myproxy, ['myproxy-logon', '-S', '-l', 'alice', '-k', credname, '-t', '1',
                                '-o', out], stdin=passphrase + '\n')
        assert proc.returncode == 0, proc.stderr
        proxy = read_credential_file(out)
        assert proxy.identity == '/O=Hostsec Test/CN=alice'
        assert oct(os.stat(out).st_mode & 0o777) == '0o600'


def test_c_myproxy_init_and_store_are_retrievable_by_us(myproxy, tmp_path):
    proc = c_tool(myproxy, ['myproxy-init', '-S', '-l', 'bob', '-k', 'cinit', '-c', '2', '-t', '1'],
                  stdin='bob-Init-Pass1\n', user='bob')
    assert proc.returncode == 0, proc.stderr
    info = myproxy.users['bob']
    proc = c_tool(myproxy, ['myproxy-store', '-l', 'bob', '-k', 'cstore', '-c', info['cert'],
                            '-y', info['key']], user='bob')
    assert proc.returncode == 0, proc.stderr
    proxy, _roots = client(myproxy).get('bob', 'bob-Init-Pass1', credname='cinit')
    assert proxy.identity == '/O=Hostsec Test/CN=bob' and proxy.remaining() <= 3600
    # myproxy-store keeps the key file's own encryption: its passphrase retrieves.
    proxy, _roots = client(myproxy).get('bob', info['key_passphrase'], credname='cstore')
    assert proxy.identity == '/O=Hostsec Test/CN=bob'
    # And the C myproxy-info lists what is there.
    proc = c_tool(myproxy, ['myproxy-info', '-l', 'bob'], user='bob')
    assert proc.returncode == 0 and 'cinit' in proc.stdout and 'cstore' in proc.stdout


def test_c_myproxy_get_trustroots_matches_ours(myproxy, tmp_path):
    target = tmp_path / 'c-certs'
    env = myproxy.client_env()
    env['X509_CERT_DIR'] = str(target)
    proc = subprocess.run(['myproxy-get-trustroots', '-b'], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    roots, _chain, _subject = client(myproxy).get_trustroots()
    for name, data in roots.items():
        assert (target / name).read_bytes() == data


# ---------------------------------------------------------------------------- error paths

def test_wrong_passphrase_and_unknown_user(myproxy):
    client(myproxy, 'alice').store('alice', user_credential(myproxy, 'alice'), 'right-Pass1',
                                   credname='wrongpass')
    with pytest.raises(errors.MyProxyAuthenticationError) as exc:
        client(myproxy).get('alice', 'wrong-Pass1', credname='wrongpass')
    assert exc.value.error_name == 'BAD_PASSPHRASE'
    assert 'wrong-Pass1' not in str(exc.value)
    with pytest.raises(errors.MyProxyCredentialNotFoundError) as exc:
        client(myproxy).get('nobody-here', 'whatever-Pass1')
    assert exc.value.error_name == 'NO_CREDENTIALS'


def test_expired_stored_credential(myproxy):
    alice = client(myproxy, 'alice')
    alice.put('alice', 'expiring-Pass1', lifetime=2, credname='expiring')
    time.sleep(3)
    with pytest.raises(errors.MyProxyCredentialExpiredError) as exc:
        client(myproxy).get('alice', 'expiring-Pass1', credname='expiring')
    assert exc.value.error_name == 'CREDENTIAL_EXPIRED'


def test_storing_an_expired_certificate_is_refused(myproxy):
    with pytest.raises(errors.MyProxyError) as exc:
        client(myproxy, 'alice').store('alice', user_credential(myproxy, 'expired'),
                                       'expired-Pass1', credname='expired')
    assert exc.value.error_name in ('CREDENTIAL_EXPIRED', 'SERVER_ERROR')


def test_client_with_expired_certificate_is_rejected(myproxy):
    expired = client(myproxy, 'expired')
    with pytest.raises(errors.MyProxyTLSError) as exc:
        expired.info('expired')
    assert exc.value.error_name in ('CLIENT_CERTIFICATE_REJECTED', 'TLS_ERROR',
                                    'TLS_HANDSHAKE_FAILED')


def test_passphrase_policy(myproxy):
    with pytest.raises(errors.MyProxyPassphrasePolicyError) as exc:
        client(myproxy, 'alice').put('alice', 'too-weak-Pass1', credname='policy')
    assert exc.value.error_name == 'PASSPHRASE_POLICY'
    assert 'weak' in str(exc.value)  # the policy program's own explanation
    with pytest.raises(errors.MyProxyInputError):
        client(myproxy, 'alice').put('alice', 'short', credname='policy')


def test_not_owner(myproxy):
    client(myproxy, 'alice').store('alice', user_credential(myproxy, 'alice'), 'owner-Pass1',
                                   credname='owned')
    bob = client(myproxy, 'bob')
    with pytest.raises(errors.MyProxyAuthorizationError) as exc:
        bob.destroy('alice', 'owned')
    assert exc.value.error_name in ('NOT_OWNER', 'NOT_AUTHORIZED')
    with pytest.raises(errors.MyProxyAuthorizationError):
        bob.put('alice', 'takeover-Pass1', credname='owned')
    # INFO only lists what the client owns.
    assert bob.info('alice', 'owned') == []
    assert [c['name'] for c in client(myproxy, 'alice').info('alice', 'owned')] == ['owned']


def test_untrusted_server(myproxy):
    with pytest.raises(errors.MyProxyServerIdentityError) as exc:
        client(myproxy, ca_dir=myproxy.rogue_ca_dir).get_trustroots()
    assert exc.value.error_name == 'UNTRUSTED_SERVER_CERTIFICATE'
    with pytest.raises(errors.MyProxyServerIdentityError) as exc:
        client(myproxy, ca_dir='/nonexistent/hostsec-ca-dir').get_trustroots()
    assert exc.value.error_name == 'NO_TRUST_ROOTS'


def test_server_dn_mismatch(myproxy):
    with pytest.raises(errors.MyProxyServerIdentityError) as exc:
        client(myproxy, server_dn='/O=Hostsec Test/CN=myproxy.example.org').get_trustroots()
    assert exc.value.error_name == 'SERVER_DN_MISMATCH'
    # By address the certificate (CN=localhost, DNS:localhost) does not name the server...
    with pytest.raises(errors.MyProxyServerIdentityError) as exc:
        client(myproxy, server='127.0.0.1').get_trustroots()
    assert exc.value.error_name == 'SERVER_DN_MISMATCH'
    # ... unless the expected DN is given, in either notation.
    client(myproxy, server='127.0.0.1', server_dn=myproxy.host_subject).get_trustroots()
    client(myproxy, server='127.0.0.1', server_dn='CN=localhost,O=Hostsec Test').get_trustroots()


def test_dead_port_and_failover(myproxy):
    dead = free_port()
    with pytest.raises(errors.MyProxyConnectionError) as exc:
        client(myproxy, port=dead).get_trustroots()
    assert exc.value.error_name == 'ECONNREFUSED'
    # A list of servers: the dead one is skipped.
    failover = client(myproxy, server='localhost:%d,localhost:%d' % (dead, myproxy.port))
    failover.get_trustroots()
    assert failover.last_server == 'localhost:%d' % myproxy.port


def test_silent_server_times_out():
    with SilentServer(max_connections=2) as silent:
        start = time.monotonic()
        with pytest.raises(errors.MyProxyConnectionError) as exc:
            MyProxyClient('localhost', silent.port, ca_dir='/', timeout=1).get_trustroots()
        assert exc.value.error_name == 'ETIMEDOUT'
        assert time.monotonic() - start < 10


def test_server_hangs_up_mid_reply(myproxy):
    client(myproxy, 'alice').store('alice', user_credential(myproxy, 'alice'), 'cut-Pass12',
                                   credname='cut')
    with CuttingProxy(myproxy.port) as measure:
        client(myproxy, port=measure.port).get('alice', 'cut-Pass12', credname='cut')
    total = measure.server_bytes[0]
    assert total > 1000
    # Cut inside the certificate chain (the last ~100 bytes are the final OK message).
    with CuttingProxy(myproxy.port, cut_after=total - 400) as cutter:
        with pytest.raises(errors.MyProxyProtocolError) as exc:
            client(myproxy, port=cutter.port).get('alice', 'cut-Pass12', credname='cut')
    assert exc.value.error_name in ('TRUNCATED_REPLY', 'CONNECTION_CLOSED')
    # Cut right after the TLS handshake and request: no reply at all.
    with CuttingProxy(myproxy.port, cut_after=total - 1800) as cutter:
        with pytest.raises(errors.MyProxyError) as exc:
            client(myproxy, port=cutter.port).get('alice', 'cut-Pass12', credname='cut')
    assert exc.value.error_name in ('TRUNCATED_REPLY', 'CONNECTION_CLOSED', 'TLS_HANDSHAKE_FAILED')


def test_corrupt_client_credential(tmp_path):
    bad = tmp_path / 'x509up_corrupt'
    bad.write_bytes(b'-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n')
    with pytest.raises(errors.CredentialFileError) as exc:
        read_credential_file(str(bad))
    assert exc.value.error_name == 'CORRUPT_CREDENTIAL'
    truncated = tmp_path / 'x509up_truncated'
    truncated.write_bytes(b'-----BEGIN CERTIFICATE-----\nMIIB')
    with pytest.raises(errors.CredentialFileError) as exc:
        Credential.from_pem(truncated.read_bytes())
    assert exc.value.error_name == 'CORRUPT_CREDENTIAL'
