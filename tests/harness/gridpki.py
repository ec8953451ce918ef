# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway grid PKI for the tests: CAs, host and user certificates, Globus CA directories.

Everything is generated with ``cryptography`` in a working directory the tests own. Globus
(myproxy-server and the C clients) finds trusted CAs in an ``X509_CERT_DIR`` of
``<subject hash>.0`` files with a ``<subject hash>.signing_policy`` next to each; the hash is
OpenSSL's ``X509_NAME_hash`` (``openssl x509 -hash``), computed here with pyOpenSSL.
"""

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

try:
    from OpenSSL import crypto as _ossl_crypto
except ImportError:  # pragma: no cover - pyOpenSSL is a test dependency
    _ossl_crypto = None

UTC = datetime.timezone.utc
ATTRIBUTE_OIDS = {'C': NameOID.COUNTRY_NAME, 'O': NameOID.ORGANIZATION_NAME,
                  'OU': NameOID.ORGANIZATIONAL_UNIT_NAME, 'CN': NameOID.COMMON_NAME,
                  'DC': NameOID.DOMAIN_COMPONENT}


def name(oneline):
    """``/O=Grid/CN=alice`` -> x509.Name (in that order); ``CN=host/x`` keeps its slash."""
    pairs = []
    for part in oneline.strip('/').split('/'):
        if '=' in part and part.split('=', 1)[0] in ATTRIBUTE_OIDS:
            pairs.append(part.split('=', 1))
        else:
            pairs[-1][1] += '/' + part
    return x509.Name([x509.NameAttribute(ATTRIBUTE_OIDS[key], value) for key, value in pairs])


def rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def key_pem(key, passphrase=None):
    """PEM of ``key``: traditional RSA PEM, encrypted with ``passphrase`` when given."""
    encryption = (serialization.BestAvailableEncryption(passphrase.encode())
                  if passphrase else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL, encryption)


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def subject_hash(cert):
    """OpenSSL's subject name hash of ``cert`` as 8 hex digits."""
    loaded = _ossl_crypto.load_certificate(_ossl_crypto.FILETYPE_PEM, cert_pem(cert))
    return '%08x' % loaded.subject_name_hash()


def oneline(x509_name):
    """x509.Name -> OpenSSL one-line form ``/O=Grid/CN=alice``."""
    short = {v: k for k, v in ATTRIBUTE_OIDS.items()}
    return ''.join('/%s=%s' % (short.get(a.oid, a.oid.dotted_string), a.value)
                   for a in x509_name)


class CertificateAuthority(object):
    """A CA that issues host and user certificates."""

    def __init__(self, subject='/O=Hostsec Test/CN=Hostsec Test CA', bits=2048, days=30):
        self.subject = subject
        self.key = rsa_key(bits)
        now = datetime.datetime.now(UTC)
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name(subject)).issuer_name(name(subject))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(self.key, hashes.SHA256()))

    def issue(self, subject, bits=2048, host=None, not_before=None, not_after=None, key=None):
        """Return ``(key, cert)`` for ``subject``; ``host`` adds a DNS name (server cert)."""
        key = key or rsa_key(bits)
        now = datetime.datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject)).issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - datetime.timedelta(hours=1))
            .not_valid_after(not_after or now + datetime.timedelta(days=20))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True,
                data_encipherment=True, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False))
        if host:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(host)]), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False)
        else:
            builder = builder.add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return key, builder.sign(self.key, hashes.SHA256())

    def signing_policy(self):
        """The Globus signing policy: this CA may sign any subject."""
        return ("access_id_CA X509 '%s'\npos_rights globus CA:sign\ncond_subjects globus "
                "'\"*\"'\n" % self.subject).encode()

    def install(self, cert_dir):
        """Write ``<hash>.0`` and ``<hash>.signing_policy`` into ``cert_dir``."""
        os.makedirs(cert_dir, exist_ok=True)
        digest = subject_hash(self.cert)
        write(os.path.join(cert_dir, digest + '.0'), cert_pem(self.cert), 0o644)
        write(os.path.join(cert_dir, digest + '.signing_policy'), self.signing_policy(), 0o644)
        return digest


def write(path, data, mode=0o600):
    """Write ``data`` to ``path`` with ``mode`` (created with that mode, never wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
    os.chmod(path, mode)
    return path
