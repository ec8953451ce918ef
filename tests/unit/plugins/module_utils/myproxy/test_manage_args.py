# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions (no server): durations, whether a proxy file is good, whether to upload, trust
root directories, server names and identity checks."""

import datetime
import os

import pytest

from harness import gridpki

from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import errors, transport
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import proxy as mproxy
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.args import (
    client_credential, client_from_params, myproxy_argument_spec, parse_duration)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import Credential
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import manage
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.manage import (
    attributes_differ, describe_credential, inspect_proxy_file, plan_upload)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.trustroots import (
    has_trust_roots, sync_trustroots)

UTC = datetime.timezone.utc


@pytest.mark.parametrize('value,seconds', [
    (3600, 3600), ('3600', 3600), ('12h', 43200), ('1d12h', 129600), ('30m', 1800),
    ('2w', 1209600), ('90s', 90), ('1H 30M', 5400), (7200.0, 7200)])
def test_durations(value, seconds):
    assert parse_duration(value, 'lifetime') == seconds


@pytest.mark.parametrize('value', [0, -1, '', '12x', 'h', '1h1', True, None, [1], '400d', 1.5])
def test_bad_durations(value):
    with pytest.raises(errors.MyProxyInputError):
        parse_duration(value, 'lifetime')


def test_zero_allowed_for_minimums():
    assert parse_duration('0', 'min_lifetime', allow_zero=True) == 0


def test_argument_spec_fallbacks_are_the_globus_variables():
    spec = myproxy_argument_spec()
    fallbacks = {name: option['fallback'][1][0] for name, option in spec.items()
                 if 'fallback' in option}
    assert fallbacks == {'server': 'MYPROXY_SERVER', 'port': 'MYPROXY_SERVER_PORT',
                         'server_dn': 'MYPROXY_SERVER_DN', 'ca_dir': 'X509_CERT_DIR',
                         'client_proxy': 'X509_USER_PROXY', 'client_cert': 'X509_USER_CERT',
                         'client_key': 'X509_USER_KEY', 'timeout': 'MYPROXY_SOCKET_TIMEOUT',
                         # not a Globus variable: the secret's own (issue 11)
                         'client_key_passphrase': 'HOSTSEC_MYPROXY_CLIENT_KEY_PASSPHRASE'}
    assert spec['client_key_passphrase']['no_log'] is True
    assert myproxy_argument_spec() is not spec


@pytest.fixture(scope='module')
def pki():
    ca = gridpki.CertificateAuthority(bits=2048)
    key, cert = ca.issue('/O=Grid/CN=alice')
    return ca, key, cert


def write_proxy(path, key, cert, lifetime):
    proxy_key = mx509.generate_key('rsa', 2048)
    proxy = mproxy.sign_proxy(proxy_key.public_key(), cert, key, lifetime)
    path.write_bytes(Credential(proxy, proxy_key, [cert]).to_pem())
    os.chmod(str(path), 0o600)
    return proxy


def test_inspect_proxy_file(tmp_path, pki):
    _ca, key, cert = pki
    path = tmp_path / 'x509up'
    assert inspect_proxy_file(str(path), 3600)['reason'] == 'missing'
    write_proxy(path, key, cert, 7200)
    state = inspect_proxy_file(str(path), 3600)
    assert state['usable'] and state['reason'] == 'valid'
    assert state['credential']['identity'] == '/O=Grid/CN=alice'
    assert inspect_proxy_file(str(path), 8000)['reason'] == 'expiring'
    assert inspect_proxy_file(str(path), 60, identity='/O=Grid/CN=bob')['reason'] == \
        'identity_mismatch'
    assert inspect_proxy_file(str(path), 60, identity='CN=alice,O=Grid')['usable']
    later = datetime.datetime.now(UTC) + datetime.timedelta(hours=3)
    assert inspect_proxy_file(str(path), 60, now=later)['reason'] == 'expired'
    path.write_bytes(b'garbage')
    state = inspect_proxy_file(str(path), 60)
    assert state['reason'] == 'corrupt' and not state['usable']


def test_inspect_detects_tampered_chain(tmp_path, pki):
    ca, key, cert = pki
    _other_key, other = ca.issue('/O=Grid/CN=alice')  # same name, other key
    proxy_key = mx509.generate_key('rsa', 2048)
    proxy = mproxy.sign_proxy(proxy_key.public_key(), cert, key, 3600)
    path = tmp_path / 'x509up'
    path.write_bytes(Credential(proxy, proxy_key, [other]).to_pem())
    os.chmod(str(path), 0o600)
    if not hasattr(proxy, 'verify_directly_issued_by'):
        pytest.skip('cryptography < 40 cannot verify signatures directly')
    assert inspect_proxy_file(str(path), 60)['reason'] == 'corrupt'


def test_attributes_differ(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'x')
    os.chmod(str(path), 0o600)
    state = inspect_proxy_file(str(path), 60)
    assert not attributes_differ(state, 0o600)
    os.chmod(str(path), 0o400)
    assert attributes_differ(inspect_proxy_file(str(path), 60), 0o600)
    assert attributes_differ(inspect_proxy_file(str(tmp_path / 'absent'), 60), 0o600)


def test_inspect_never_uses_a_link_nor_a_file_others_can_read(tmp_path, pki):
    _ca, key, cert = pki
    victim = tmp_path / 'victim'
    write_proxy(victim, key, cert, 7200)
    link = tmp_path / 'x509up_link'
    link.symlink_to(victim)
    state = inspect_proxy_file(str(link), 60)
    assert state['reason'] == 'symlink' and not state['usable'] and state['credential'] is None
    os.chmod(str(victim), 0o640)
    assert inspect_proxy_file(str(victim), 60)['reason'] == 'exposed'
    os.chmod(str(victim), 0o600)
    if os.geteuid() == 0:
        os.chown(str(victim), 65534, -1)
        assert inspect_proxy_file(str(victim), 60)['reason'] == 'not_owner'
        assert inspect_proxy_file(str(victim), 60, owner=65534)['usable']


def test_inspect_verifies_the_chain_against_the_ca_dir(tmp_path, pki):
    ca, key, cert = pki
    ca_dir = str(tmp_path / 'certificates')
    ca.install(ca_dir)
    path = tmp_path / 'x509up'
    write_proxy(path, key, cert, 7200)
    assert inspect_proxy_file(str(path), 60, ca_dir=ca_dir)['usable']
    # A proxy of a self-signed "user" (what another local user can make and plant).
    mallory = gridpki.CertificateAuthority(subject='/O=Grid/CN=mallory')
    mkey, mcert = mallory.issue('/O=Grid/CN=mallory')
    write_proxy(path, mkey, mcert, 7200)
    state = inspect_proxy_file(str(path), 60, ca_dir=ca_dir)
    assert state['reason'] == 'untrusted' and not state['usable']
    assert 'does not verify' in state['error']
    assert inspect_proxy_file(str(path), 60, ca_dir=str(tmp_path / 'none'))['reason'] == \
        'untrusted'


NOW = datetime.datetime(2030, 1, 1, tzinfo=UTC)


def stored(end_offset, **extra):
    cred = {'name': None, 'owner': '/O=Grid/CN=alice', 'start_time': int(NOW.timestamp()) - 60,
            'end_time': int(NOW.timestamp()) + end_offset, 'description': None,
            'retrievers': None, 'renewers': None, 'key_retrievers': None,
            'trusted_retrievers': None}
    cred.update(extra)
    return cred


@pytest.mark.parametrize('cred,wanted,method,kwargs,expected', [
    (None, {}, 'store', {}, (True, 'absent')),
    (stored(86400), {}, 'put', {'min_lifetime': 3600}, (False, 'up_to_date')),
    (stored(600), {}, 'put', {'min_lifetime': 3600}, (True, 'expiring')),
    (stored(-600), {}, 'put', {'min_lifetime': 3600}, (True, 'expired')),
    (stored(86400), {}, 'store', {'local_end': int(NOW.timestamp()) + 86400},
     (False, 'up_to_date')),
    (stored(86400), {}, 'store', {'local_end': int(NOW.timestamp()) + 99999},
     (True, 'certificate_differs')),
    (stored(86400, description='a'), {'description': 'b'}, 'put', {}, (True,
                                                                       'description_differs')),
    (stored(86400, retrievers='*'), {'retrievers': '*', 'description': None}, 'put', {},
     (False, 'up_to_date')),
    (stored(86400), {'renewers': '*/CN=r'}, 'put', {}, (True, 'renewers_differs')),
    (stored(86400), {}, 'put', {'owner': '/O=Grid/CN=bob'}, (True, 'owner_differs')),
    (stored(86400), {}, 'put', {'owner': 'CN=alice,O=Grid'}, (False, 'up_to_date')),
])
def test_plan_upload(cred, wanted, method, kwargs, expected):
    assert plan_upload(cred, wanted, method, now=NOW, **kwargs) == expected


@pytest.mark.parametrize('probe,expected', [
    ({'passphrase': 'current', 'max_proxy_lifetime': 'same'}, (False, 'up_to_date')),
    ({'passphrase': 'new', 'max_proxy_lifetime': 'longer'}, (True, 'max_proxy_lifetime_differs')),
    ({'passphrase': None, 'max_proxy_lifetime': 'shorter'}, (True, 'max_proxy_lifetime_differs')),
    ({'passphrase': 'neither', 'max_proxy_lifetime': None}, (True, 'passphrase_differs')),
    ({'passphrase': None, 'max_proxy_lifetime': None}, (False, 'up_to_date')),
])
def test_plan_upload_with_probe(probe, expected):
    assert plan_upload(stored(86400), {}, 'put', now=NOW, probe=probe) == expected


class _ProbeClient(object):
    """Answers GET like a server: ``passphrases`` that open the credential, the stored
    ``maximum``, or ``error`` for every GET. Records the requested lifetimes."""

    def __init__(self, passphrases=(), maximum=None, left=None, error=None):
        self.passphrases = passphrases
        self.maximum = maximum
        self.left = left
        self.error = error
        self.requests = []

    def get(self, username, passphrase, lifetime, credname=None, **_kwargs):
        self.requests.append((passphrase, lifetime))
        if self.error is not None:
            raise self.error
        if passphrase not in self.passphrases:
            raise errors.MyProxyAuthenticationError('server error: Bad password',
                                                    error_name='BAD_PASSPHRASE')
        seconds = min(lifetime, self.maximum, self.left)
        return _FakeProxy(NOW + datetime.timedelta(seconds=seconds)), None


class _FakeProxy(object):
    def __init__(self, end):
        self.cert = end


@pytest.mark.parametrize('client,want,left,new,expected', [
    # 12h stored, 4h wanted: the server issues more than 4h.
    (_ProbeClient(['cur-Pass1'], 12 * 3600, 20 * 86400), 4 * 3600, 20 * 86400, None,
     ('current', 'longer')),
    # 4h stored, 12h wanted.
    (_ProbeClient(['cur-Pass1'], 4 * 3600, 20 * 86400), 12 * 3600, 20 * 86400, None,
     ('current', 'shorter')),
    # The credential itself ends in 3h: a 4h maximum cannot be told from a 12h one.
    (_ProbeClient(['cur-Pass1'], 4 * 3600, 3 * 3600), 12 * 3600, 3 * 3600, None,
     ('current', 'same')),
    (_ProbeClient(['cur-Pass1'], 4 * 3600 - 30, 20 * 86400), 4 * 3600, 20 * 86400, None,
     ('current', 'same')),
    (_ProbeClient(['new-Pass2'], 4 * 3600, 20 * 86400), 4 * 3600, 20 * 86400, 'new-Pass2',
     ('new', 'same')),
    (_ProbeClient(['cur-Pass1'], 4 * 3600, 20 * 86400), 4 * 3600, 20 * 86400, 'new-Pass2',
     ('current', 'same')),
    (_ProbeClient([], 4 * 3600, 20 * 86400), 4 * 3600, 20 * 86400, 'new-Pass2',
     ('neither', None)),
    (_ProbeClient(error=errors.MyProxyAuthorizationError('x', error_name='NOT_AUTHORIZED')),
     4 * 3600, 20 * 86400, None, (None, None)),
])
def test_probe_stored(monkeypatch, client, want, left, new, expected):
    monkeypatch.setattr(manage.mx509, 'not_after', lambda cert: cert)
    probe = manage.probe_stored(client, 'alice', None, 'cur-Pass1', new, want, stored(left),
                                now=NOW)
    assert (probe['passphrase'], probe['max_proxy_lifetime']) == expected
    if expected[0] is None:
        assert probe['error'] == 'MyProxyAuthorizationError: NOT_AUTHORIZED'
    # The probe asks for more than the wanted maximum, so that a longer one shows.
    assert all(lifetime > want for _secret, lifetime in client.requests)


def test_probe_stored_trusted_retrievers_cannot_tell_the_passphrase(monkeypatch):
    monkeypatch.setattr(manage.mx509, 'not_after', lambda cert: cert)
    client = _ProbeClient(['cur-Pass1'], 3600, 86400)
    probe = manage.probe_stored(client, 'alice', None, 'cur-Pass1', None, 3600,
                                stored(86400, trusted_retrievers='*'), now=NOW)
    assert probe['passphrase'] is None and probe['max_proxy_lifetime'] == 'same'


def test_sync_trustroots(tmp_path):
    dest = tmp_path / 'certs'
    files = {'abcd0123.0': b'cert\n', 'abcd0123.signing_policy': b'policy\n'}
    planned = sync_trustroots(str(dest), files, check_mode=True)
    assert planned['changed'] and planned['directory_created'] and not dest.exists()
    done = sync_trustroots(str(dest), files)
    assert sorted(done['added']) == sorted(files)
    assert oct(os.stat(str(dest / 'abcd0123.0')).st_mode & 0o777) == '0o644'
    again = sync_trustroots(str(dest), files)
    assert not again['changed'] and sorted(again['unchanged']) == sorted(files)
    (dest / 'stale.0').write_bytes(b'old')
    (dest / 'abcd0123.0').write_bytes(b'tampered')
    os.symlink('abcd0123.0', str(dest / 'link.0'))
    (dest / 'subdir').mkdir()
    kept = sync_trustroots(str(dest), files)
    assert kept['updated'] == ['abcd0123.0'] and kept['removed'] == []
    pruned = sync_trustroots(str(dest), files, remove_stale=True)
    assert sorted(pruned['removed']) == ['link.0', 'stale.0']
    assert sorted(os.listdir(str(dest))) == ['abcd0123.0', 'abcd0123.signing_policy', 'subdir']
    with pytest.raises(errors.MyProxyProtocolError):
        sync_trustroots(str(dest), {'../evil': b'x'})


def test_has_trust_roots(tmp_path, pki):
    """What decides whether bootstrap may skip verification: a parsable <hash>.<n> CA file."""
    ca = pki[0]
    certs = tmp_path / 'certs'
    assert not has_trust_roots(None) and not has_trust_roots(str(certs))
    certs.mkdir()
    assert not has_trust_roots(str(certs))
    (certs / '0badc0de.0').write_bytes(b'stale\n')
    (certs / 'readme.pem').write_bytes(gridpki.cert_pem(ca.cert))
    (certs / '1234abcd.signing_policy').write_bytes(ca.signing_policy())
    assert not has_trust_roots(str(certs))
    ca.install(str(certs))
    assert has_trust_roots(str(certs))


def test_client_credential_modes(tmp_path, pki):
    _ca, key, cert = pki
    cert_path = tmp_path / 'cert.pem'
    cert_path.write_bytes(gridpki.cert_pem(cert) + gridpki.key_pem(key))
    assert client_credential({'client_cert': str(cert_path)}, 'required') is not None
    assert client_credential({'client_cert': str(cert_path)}, 'never') is None
    missing = {'client_proxy': str(tmp_path / 'absent')}
    assert client_credential(missing, 'optional') is None
    with pytest.raises(errors.CredentialFileError):
        client_credential(missing, 'required')
    with pytest.raises(errors.MyProxyInputError):
        client_credential({}, 'required')
    expired_proxy = tmp_path / 'expired'
    now = datetime.datetime.now(UTC)
    proxy_key = mx509.generate_key()
    proxy = mproxy.sign_proxy(proxy_key.public_key(), cert, key, 1,
                              now=now - datetime.timedelta(hours=1))
    expired_proxy.write_bytes(Credential(proxy, proxy_key, [cert]).to_pem())
    with pytest.raises(errors.CredentialFileError) as exc:
        client_credential({'client_proxy': str(expired_proxy)}, 'required')
    assert exc.value.error_name == 'CREDENTIAL_EXPIRED'
    assert client_credential({'client_proxy': str(expired_proxy)}, 'optional') is None


def test_client_from_params_validation():
    with pytest.raises(errors.MyProxyInputError):
        client_from_params({'server': None})
    with pytest.raises(errors.MyProxyInputError):
        client_from_params({'server': 'localhost', 'timeout': -1})
    made = client_from_params({'server': 'a.example.org:7000,b.example.org', 'port': 7512,
                               'ca_dir': '/c', 'timeout': 5}, authenticate='never')
    assert made.servers == [('a.example.org', 7000), ('b.example.org', 7512)]


@pytest.mark.parametrize('server', ['', 'host:0', 'host:99999', 'host:abc', 'a b', ','])
def test_bad_server_lists(server):
    with pytest.raises(errors.MyProxyInputError):
        transport.parse_servers(server)


def test_ipv6_server():
    assert transport.parse_servers('[::1]:7000,[::1]') == [('::1', 7000), ('::1', 7512)]


def test_server_identity_rules(pki):
    ca, _key, _cert = pki
    _k, by_cn = ca.issue('/O=Grid/CN=host/myproxy.example.org')
    _k, by_san = ca.issue('/O=Grid/CN=Server', host='myproxy.example.org')
    transport.check_server_identity(by_cn, 'myproxy.example.org')
    transport.check_server_identity(by_cn, 'MYPROXY.example.org.')
    transport.check_server_identity(by_san, 'myproxy.example.org')
    transport.check_server_identity(by_san, 'other.example.org', server_dn='/O=Grid/CN=Server')
    for cert, host in ((by_cn, 'evil.example.org'), (by_san, 'evil.example.org'),
                       (by_cn, 'host'), (by_san, '192.0.2.1')):
        with pytest.raises(errors.MyProxyServerIdentityError) as exc:
            transport.check_server_identity(cert, host)
        assert exc.value.error_name == 'SERVER_DN_MISMATCH'
    with pytest.raises(errors.MyProxyServerIdentityError):
        transport.check_server_identity(by_san, 'myproxy.example.org', server_dn='/O=Grid/CN=X')


def test_describe_credential():
    now = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    cred = {'name': 'batch', 'owner': '/CN=Alice', 'start_time': int(now.timestamp()) - 3600,
            'end_time': int(now.timestamp()) + 7200, 'retrievers': '*', 'lock_message': 'held'}
    short = describe_credential(cred, now)
    assert short['start_time'] == '2024-05-01T11:00:00Z' and short['end_time'] == '2024-05-01T14:00:00Z'
    assert short['remaining'] == 7200 and short['retrievers'] == '*' and short['renewers'] is None
    assert 'start_epoch' not in short and 'lock_message' not in short
    full = describe_credential(cred, now, epochs=True)
    assert full['end_epoch'] == cred['end_time'] and full['lock_message'] == 'held'
    assert describe_credential(None) is None
    expired = describe_credential(dict(cred, end_time=int(now.timestamp()) - 1), now)
    assert expired['remaining'] == 0


def test_renewal_credential(tmp_path, pki):
    """renew_with: a valid proxy is used; an expired or missing one fails before any server
    is contacted, unless a passphrase is there to fall back to."""
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.args import (
        renewal_credential)
    _ca, key, cert = pki
    good = tmp_path / 'good.pem'
    write_proxy(good, key, cert, 3600)
    assert renewal_credential(str(good)).identity == '/O=Grid/CN=alice'
    assert renewal_credential(None) is None
    expired = tmp_path / 'expired.pem'
    proxy_key = mx509.generate_key('rsa', 2048)
    past = mx509.now() - datetime.timedelta(minutes=50)  # the certificate began 1 hour ago
    proxy = mproxy.sign_proxy(proxy_key.public_key(), cert, key, 600, now=past)
    expired.write_bytes(Credential(proxy, proxy_key, [cert]).to_pem())
    with pytest.raises(errors.CredentialFileError) as info:
        renewal_credential(str(expired))
    assert info.value.error_name == 'RENEWAL_CREDENTIAL_EXPIRED'
    assert renewal_credential(str(expired), fallback=True) is None
    with pytest.raises(errors.CredentialFileError):
        renewal_credential(str(tmp_path / 'missing.pem'))
    assert renewal_credential(str(tmp_path / 'missing.pem'), fallback=True) is None


def test_renewal_retries_with_sha256_after_a_bad_signature(monkeypatch, pki):
    """A server verifying with SHA-256 (later MyProxy sources) says "bad signature" to the
    SHA-1 answer of 6.2: the client answers once more with SHA-256, and only then gives up."""
    from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.client import (
        MyProxyClient)
    _ca, key, cert = pki
    client = MyProxyClient('localhost', 7512, credential=Credential(cert, key))
    tried = []

    def fake_get(username, request, request_der, new_key, secrets, want_trustroots, renewal,
                 digest):
        tried.append(digest)
        if digest == 'sha1':
            raise errors.MyProxyAuthorizationError(
                'refused', error_name='RENEWAL_REFUSED',
                details={'server_error': 'Verifying signature (EVP_VerifyFinal()); bad signature'})
        return 'renewed', None
    monkeypatch.setattr(client, '_get', fake_get)
    assert client.get('alice', '', renewal=Credential(cert, key))[0] == 'renewed'
    assert tried == ['sha1', 'sha256']
    tried[:] = []

    def always_refused(*args):
        tried.append(args[-1])
        raise errors.MyProxyAuthorizationError(
            'refused', error_name='RENEWAL_REFUSED', details={'server_error': 'bad signature'})
    monkeypatch.setattr(client, '_get', always_refused)
    with pytest.raises(errors.MyProxyAuthorizationError):
        client.get('alice', '', renewal=Credential(cert, key))
    assert tried == ['sha1', 'sha256']
