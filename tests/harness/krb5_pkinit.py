# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway PKI for the test KDC's PKINIT plugin (Debian package krb5-pkinit).

Generated with ``cryptography`` into a directory the tests own (RFC 4556 / MIT's pkinit
documentation, "Generating client and KDC certificates"):

- ``ca.pem`` -- the anchor (``pkinit_anchors = FILE:ca.pem`` on KDC and client);
- ``kdc.pem``/``kdc.key`` -- the KDC's certificate: SAN otherName id-pkinit-san naming
  ``krbtgt/REALM@REALM``, EKU id-pkinit-KPKdc;
- ``<user>.pem``/``<user>.key`` -- a client certificate: id-pkinit-san naming ``user@REALM``,
  EKU id-pkinit-KPClientAuth.
"""

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

ID_PKINIT_SAN = ObjectIdentifier('1.3.6.1.5.2.2')
ID_PKINIT_KPCLIENTAUTH = ObjectIdentifier('1.3.6.1.5.2.3.4')
ID_PKINIT_KPKDC = ObjectIdentifier('1.3.6.1.5.2.3.5')
PLUGIN_DIRS = ('/usr/lib/x86_64-linux-gnu/krb5/plugins/preauth',
               '/usr/lib/aarch64-linux-gnu/krb5/plugins/preauth',
               '/usr/lib64/krb5/plugins/preauth', '/usr/lib/krb5/plugins/preauth')


def plugin_available():
    """Whether MIT's PKINIT plugin (pkinit.so) is installed."""
    return any(os.path.exists(os.path.join(d, 'pkinit.so')) for d in PLUGIN_DIRS)


def _der(tag, body):
    length = len(body)
    if length < 0x80:
        head = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, 'big')
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + body


def krb5_principal_name(realm, components, name_type=1):
    """DER of KRB5PrincipalName (RFC 4556 3.2.2), the value of an id-pkinit-san otherName."""
    name_string = _der(0x30, b''.join(_der(0x1b, c.encode()) for c in components))
    principal_name = _der(0x30, _der(0xa0, _der(0x02, bytes([name_type])))
                          + _der(0xa1, name_string))
    return _der(0x30, _der(0xa0, _der(0x1b, realm.encode())) + _der(0xa1, principal_name))


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write(path, data, mode=0o644):
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chmod(path, mode)


def _cert(subject, key, issuer, issuer_key, extensions):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(directory, realm, users):
    """Write the CA, KDC and client (``users``) certificates; return their paths."""
    os.makedirs(directory, exist_ok=True)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'hostsec test PKINIT CA')])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    paths = {'ca': os.path.join(directory, 'ca.pem')}
    _write(paths['ca'], ca.public_bytes(serialization.Encoding.PEM))

    def issue(name, components, eku):
        key = _key()
        san = x509.SubjectAlternativeName([x509.OtherName(
            ID_PKINIT_SAN, krb5_principal_name(realm, components,
                                               2 if components[0] == 'krbtgt' else 1))])
        cert = _cert(name, key, ca_name, ca_key, [
            (x509.BasicConstraints(ca=False, path_length=None), False),
            (x509.KeyUsage(True, False, True, False, False, False, False, False, False), True),
            (x509.ExtendedKeyUsage([eku]), False), (san, False)])
        cert_path = os.path.join(directory, '%s.pem' % name)
        key_path = os.path.join(directory, '%s.key' % name)
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        _write(key_path, _pem_key(key), 0o600)
        return {'cert': cert_path, 'key': key_path,
                'identity': 'FILE:%s,%s' % (cert_path, key_path)}

    paths['kdc'] = issue('kdc', ['krbtgt', realm], ID_PKINIT_KPKDC)
    for user in users:
        paths[user] = issue(user, [user], ID_PKINIT_KPCLIENTAUTH)
    return paths
