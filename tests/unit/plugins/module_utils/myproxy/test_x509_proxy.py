# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNs, proxy certificates (RFC 3820) and credential files, without a server."""

import datetime
import os

import pytest
from cryptography import x509

from harness import gridpki

from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import errors
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import proxy as mproxy
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import (
    Credential, default_cert_dir, default_proxy_path, read_credential_file)

UTC = datetime.timezone.utc


@pytest.fixture(scope='module')
def pki():
    ca = gridpki.CertificateAuthority(bits=2048)
    key, cert = ca.issue('/O=Grid/OU=Unit/CN=Alice Example')
    return ca, key, cert


# ---------------------------------------------------------------------------- names

@pytest.mark.parametrize('text,expected', [
    ('/O=Grid/OU=Unit/CN=Alice', (('O', 'Grid'), ('OU', 'Unit'), ('CN', 'Alice'))),
    ('/O=Grid/CN=host/myproxy.example.org', (('O', 'Grid'), ('CN', 'host/myproxy.example.org'))),
    ('CN=Alice,OU=Unit,O=Grid', (('O', 'Grid'), ('OU', 'Unit'), ('CN', 'Alice'))),
    ('CN=a\\,b,O=Grid', (('O', 'Grid'), ('CN', 'a,b'))),
    ('"/DC=org/DC=example/emailAddress=a@b"',
     (('DC', 'org'), ('DC', 'example'), ('emailAddress', 'a@b'))),
])
def test_parse_dn(text, expected):
    assert mx509.parse_dn(text) == expected


@pytest.mark.parametrize('text', ['', '   ', 'noequals', '/noequals'])
def test_parse_dn_errors(text):
    with pytest.raises(errors.MyProxyInputError):
        mx509.parse_dn(text)


def test_oneline_and_equality(pki):
    _ca, _key, cert = pki
    assert mx509.oneline(cert.subject) == '/O=Grid/OU=Unit/CN=Alice Example'
    assert mx509.dn_equal(cert.subject, 'CN=alice  example,OU=Unit,O=Grid')
    assert not mx509.dn_equal(cert.subject, '/O=Grid/CN=Alice Example')


# ---------------------------------------------------------------------------- proxies

def test_sign_proxy_is_rfc3820(pki):
    ca, key, cert = pki
    proxy_key = mx509.generate_key('rsa', 2048)
    now = datetime.datetime.now(UTC)
    proxy = mproxy.sign_proxy(proxy_key.public_key(), cert, key, 3600, now=now)
    assert proxy.issuer == cert.subject
    assert list(proxy.subject)[:-1] == list(cert.subject)
    assert list(proxy.subject)[-1].value == str(proxy.serial_number)
    pci = proxy.extensions.get_extension_for_oid(mx509.oid(mx509.OID_PROXY_CERT_INFO))
    assert pci.critical
    assert mx509.proxy_type(proxy) == 'rfc3820'
    usage = proxy.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert mx509.not_after(proxy) == (now + datetime.timedelta(seconds=3600)).replace(
        microsecond=0)
    assert mx509.not_before(proxy) <= now - datetime.timedelta(minutes=4)
    proxy.verify_directly_issued_by(cert)
    credential = Credential(proxy, proxy_key, [cert])
    assert credential.identity == '/O=Grid/OU=Unit/CN=Alice Example'


def test_limited_proxy_and_chain_of_proxies(pki):
    _ca, key, cert = pki
    first_key = mx509.generate_key('ec', 256)
    first = mproxy.sign_proxy(first_key.public_key(), cert, key, 7200, limited=True)
    assert mx509.proxy_type(first) == 'rfc3820_limited'
    second_key = mx509.generate_key('rsa', 2048)
    second = mproxy.sign_proxy(second_key.public_key(), first, first_key, 3600)
    assert mx509.identity(second, [first, cert]) == '/O=Grid/OU=Unit/CN=Alice Example'
    # Without the end-entity certificate, the best guess is the last issuer.
    assert mx509.identity(second, [first]) == '/O=Grid/OU=Unit/CN=Alice Example'


def test_proxy_never_outlives_its_issuer(pki):
    ca, _key, _cert = pki
    now = datetime.datetime.now(UTC)
    key, short = ca.issue('/O=Grid/CN=short', not_after=now + datetime.timedelta(hours=1))
    proxy = mproxy.sign_proxy(mx509.generate_key().public_key(), short, key, 86400)
    assert mx509.not_after(proxy) == mx509.not_after(short)


def test_sign_proxy_refuses_expired_and_mismatched(pki):
    ca, key, cert = pki
    now = datetime.datetime.now(UTC)
    old_key, old = ca.issue('/O=Grid/CN=old', not_before=now - datetime.timedelta(days=2),
                            not_after=now - datetime.timedelta(days=1))
    with pytest.raises(errors.CredentialFileError) as exc:
        mproxy.sign_proxy(mx509.generate_key().public_key(), old, old_key, 3600)
    assert exc.value.error_name == 'CREDENTIAL_EXPIRED'
    with pytest.raises(errors.CredentialFileError) as exc:
        mproxy.sign_proxy(mx509.generate_key().public_key(), cert, old_key, 3600)
    assert exc.value.error_name == 'KEY_MISMATCH'
    for lifetime in (0, -5, 11 * 365 * 86400, '3600'):
        with pytest.raises(errors.MyProxyInputError):
            mproxy.sign_proxy(mx509.generate_key().public_key(), cert, key, lifetime)


def test_legacy_proxy_detection(pki):
    ca, key, cert = pki
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name(list(cert.subject) + [
                   x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, 'proxy')]))
               .issuer_name(cert.subject).public_key(key.public_key()).serial_number(5)
               .not_valid_before(datetime.datetime.now(UTC))
               .not_valid_after(datetime.datetime.now(UTC) + datetime.timedelta(hours=1)))
    legacy = builder.sign(key, mx509.hashes.SHA256())
    assert mx509.proxy_type(legacy) == 'legacy'
    assert mx509.proxy_type(cert) == 'end_entity'
    assert mx509.proxy_type(ca.cert) == 'end_entity'


def test_certificate_request_and_delegation_reply(pki):
    _ca, key, cert = pki
    request_key = mx509.generate_key('rsa', 2048)
    der = mproxy.certificate_request(request_key)
    assert mx509.public_key_equal(mproxy.load_request(der), request_key.public_key())
    proxy = mproxy.sign_proxy(request_key.public_key(), cert, key, 600)
    reply = mproxy.delegation_reply(proxy, cert, [])
    assert reply[0] == 2
    header = mproxy.der_length(reply, 1)
    assert reply[1 + header[0] + header[1]] == 0x30
    with pytest.raises(errors.MyProxyProtocolError):
        mproxy.load_request(b'\x30\x03\x02\x01\x01')
    with pytest.raises(errors.MyProxyProtocolError):
        mproxy.der_length(b'VERSION=', 0)
    assert mproxy.der_length(b'\x30', 0) is None
    assert mproxy.der_length(b'\x30\x82\x01', 0) is None


@pytest.mark.parametrize('key_type,size', [('rsa', 1024), ('rsa', 2047), ('ec', 2048),
                                           ('dsa', 2048)])
def test_generate_key_validation(key_type, size):
    with pytest.raises(errors.MyProxyInputError):
        mx509.generate_key(key_type, size)


# ---------------------------------------------------------------------------- credential files

def test_credential_round_trip(tmp_path, pki):
    _ca, key, cert = pki
    proxy_key = mx509.generate_key('rsa', 2048)
    proxy = mproxy.sign_proxy(proxy_key.public_key(), cert, key, 3600)
    path = tmp_path / 'x509up'
    path.write_bytes(Credential(proxy, proxy_key, [cert]).to_pem())
    data = path.read_bytes()
    # The Globus layout: proxy certificate, key, then the chain.
    assert data.index(b'BEGIN CERTIFICATE') < data.index(b'PRIVATE KEY') < data.rindex(
        b'BEGIN CERTIFICATE')
    loaded = read_credential_file(str(path))
    facts = loaded.describe()
    assert facts['identity'] == '/O=Grid/OU=Unit/CN=Alice Example'
    assert facts['proxy_type'] == 'rfc3820'
    assert 3500 < facts['remaining'] <= 3600
    assert facts['not_after'].endswith('Z')
    assert 'PRIVATE' not in repr(facts)


def test_separate_encrypted_key(tmp_path, pki):
    _ca, key, cert = pki
    cert_path = tmp_path / 'usercert.pem'
    key_path = tmp_path / 'userkey.pem'
    cert_path.write_bytes(gridpki.cert_pem(cert))
    key_path.write_bytes(gridpki.key_pem(key, 'key-Passphrase'))
    assert read_credential_file(str(cert_path), str(key_path), 'key-Passphrase').key is not None
    for passphrase, name in ((None, 'KEY_ENCRYPTED'), ('wrong', 'BAD_KEY_PASSPHRASE')):
        with pytest.raises(errors.CredentialFileError) as exc:
            read_credential_file(str(cert_path), str(key_path), passphrase)
        assert exc.value.error_name == name
        assert 'key-Passphrase' not in str(exc.value)


@pytest.mark.parametrize('content,name', [
    (b'', 'CORRUPT_CREDENTIAL'),
    (b'hello\n', 'CORRUPT_CREDENTIAL'),
    (b'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'CORRUPT_CREDENTIAL'),
    (b'-----BEGIN CERTIFICATE-----\nMIIB', 'CORRUPT_CREDENTIAL'),
])
def test_corrupt_files(tmp_path, content, name):
    path = tmp_path / 'bad'
    path.write_bytes(content)
    with pytest.raises(errors.CredentialFileError) as exc:
        read_credential_file(str(path))
    assert exc.value.error_name == name


def test_key_of_another_certificate(tmp_path, pki):
    ca, key, cert = pki
    other_key, _other = ca.issue('/O=Grid/CN=other')
    path = tmp_path / 'mixed'
    path.write_bytes(gridpki.cert_pem(cert) + gridpki.key_pem(other_key))
    with pytest.raises(errors.CredentialFileError) as exc:
        read_credential_file(str(path))
    assert exc.value.error_name == 'KEY_MISMATCH'


def test_missing_and_unreadable(tmp_path):
    with pytest.raises(errors.CredentialFileError) as exc:
        read_credential_file(str(tmp_path / 'absent'))
    assert exc.value.error_name == 'ENOENT'
    with pytest.raises(errors.CredentialFileError) as exc:
        read_credential_file(str(tmp_path))
    assert exc.value.error_name in ('EISDIR', 'UNREADABLE')


def test_default_paths(monkeypatch, tmp_path):
    assert default_proxy_path(uid=1234, environ={}) == '/tmp/x509up_u1234'
    assert default_proxy_path(environ={'X509_USER_PROXY': '/p'}) == '/p'
    assert default_cert_dir({'X509_CERT_DIR': '/c'}) == '/c'
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    assert default_cert_dir({}) == '/etc/grid-security/certificates'


# ---------------------------------------------------------------------------- renewal

@pytest.mark.parametrize('digest', ['sha1', 'sha256'])
def test_renewal_reply_layout(pki, digest):
    """What auth_cert_check_client reads: method (first byte of 4), big-endian signature
    length, the signature of the challenge, then the chain as a count byte and DER."""
    import struct
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    _ca, key, cert = pki
    proxy_key = mx509.generate_key('rsa', 2048)
    proxy = mproxy.sign_proxy(proxy_key.public_key(), cert, key, 3600)
    reply = mproxy.renewal_reply(Credential(proxy, proxy_key, [cert]), '0123abcd', digest)
    assert reply[:4] == b'\x02\0\0\0'
    length = struct.unpack('>I', reply[4:8])[0]
    signature, rest = reply[8:8 + length], reply[8 + length:]
    algorithm = hashes.SHA1() if digest == 'sha1' else hashes.SHA256()
    proxy.public_key().verify(signature, b'0123abcd', padding.PKCS1v15(), algorithm)
    assert rest[0] == 2
    der = rest[1:]
    first = mproxy.der_length(der, 0)
    certs = mproxy.parse_certificates([der[:sum(first)], der[sum(first):]])
    assert certs == [proxy, cert]


def test_renewal_reply_ec_and_no_key(pki):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    _ca, key, cert = pki
    ec_key = mx509.generate_key('ec', 256)
    proxy = mproxy.sign_proxy(ec_key.public_key(), cert, key, 3600)
    reply = mproxy.renewal_reply(Credential(proxy, ec_key, [cert]), 'ff')
    length = int.from_bytes(reply[4:8], 'big')
    ec_key.public_key().verify(reply[8:8 + length], b'ff', ec.ECDSA(hashes.SHA1()))
    with pytest.raises(errors.MyProxyInputError):
        mproxy.renewal_reply(Credential(proxy, None, [cert]), 'ff')
