# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway X.509 material for the test CIMOM, made with ``cryptography``.

:func:`generate` writes into a directory:

``ca.pem`` / ``ca-key.pem``
    the test CA (the CA file clients trust, and the CA the server verifies client certificates
    against);
``server.pem`` / ``server-key.pem``
    the server certificate for ``hostnames`` (default: localhost, 127.0.0.1, ::1);
``client.pem`` / ``client-key.pem``
    a client certificate for ``client_cn`` signed by the test CA;
``untrusted-ca.pem``, ``untrusted-client.pem`` / ``untrusted-client-key.pem``
    a second CA the server does not trust and a client certificate it signed (negative tests:
    a server certificate checked against the wrong CA, a client certificate the server rejects).

Keys are EC P-256, written with mode 0600; certificates are valid from one hour ago for
30 days.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTNAMES = ('localhost', '127.0.0.1', '::1')


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'hostsec.mgmt tests'),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path, key):
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _write_cert(path, cert):
    with open(path, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))


def _builder(subject, issuer, public_key):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30)))


def _make_ca(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (_builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_leaf(ca_key, ca_cert, common_name, usage, hostnames=()):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (_builder(_name(common_name), ca_cert.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    if hostnames:
        names = []
        for host in hostnames:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def generate(directory, hostnames=DEFAULT_HOSTNAMES, client_cn='cimclient'):
    """Write the CA, server and client material into ``directory``; return ``{name: path}``."""
    os.makedirs(directory, exist_ok=True)
    paths = {name: os.path.join(directory, filename) for name, filename in (
        ('ca', 'ca.pem'), ('ca_key', 'ca-key.pem'), ('server_cert', 'server.pem'), ('server_key', 'server-key.pem'),
        ('client_cert', 'client.pem'), ('client_key', 'client-key.pem'), ('untrusted_ca', 'untrusted-ca.pem'),
        ('untrusted_client_cert', 'untrusted-client.pem'), ('untrusted_client_key', 'untrusted-client-key.pem'))}
    ca_key, ca_cert = _make_ca('hostsec.mgmt test CA')
    _write_key(paths['ca_key'], ca_key)
    _write_cert(paths['ca'], ca_cert)
    server_key, server_cert = _make_leaf(ca_key, ca_cert, hostnames[0], ExtendedKeyUsageOID.SERVER_AUTH, hostnames)
    _write_key(paths['server_key'], server_key)
    _write_cert(paths['server_cert'], server_cert)
    client_key, client_cert = _make_leaf(ca_key, ca_cert, client_cn, ExtendedKeyUsageOID.CLIENT_AUTH)
    _write_key(paths['client_key'], client_key)
    _write_cert(paths['client_cert'], client_cert)
    other_key, other_cert = _make_ca('hostsec.mgmt untrusted test CA')
    _write_cert(paths['untrusted_ca'], other_cert)
    bad_key, bad_cert = _make_leaf(other_key, other_cert, client_cn, ExtendedKeyUsageOID.CLIENT_AUTH)
    _write_key(paths['untrusted_client_key'], bad_key)
    _write_cert(paths['untrusted_client_cert'], bad_cert)
    return paths
