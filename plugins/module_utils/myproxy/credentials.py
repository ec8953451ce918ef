# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials: a certificate, its private key and the chain, in the myproxy-logon file layout.

A proxy credential file (``/tmp/x509up_u<uid>``, ``X509_USER_PROXY``) holds, in this order, the
proxy certificate, its unencrypted private key and the certificates that issued it (the Globus
layout, written by grid-proxy-init and myproxy-logon). :func:`read_credential_file` reads such
a file, or a certificate file plus a separate key file (``usercert.pem``/``userkey.pem``), and
:meth:`Credential.describe` reports it without any key material.
"""

import os

from ..common.files import read_file
from .errors import CredentialFileError
from . import x509 as mx509

CERTIFICATE_LABELS = ('CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE')
KEY_LABELS = ('PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY')


class Credential(object):
    """``cert`` (the leaf), ``key`` (may be ``None``) and ``chain`` (its issuers, leaf first)."""

    def __init__(self, cert, key=None, chain=()):
        self.cert = cert
        self.key = key
        self.chain = list(chain)

    @classmethod
    def from_pem(cls, data, passphrase=None, key_data=None, source='credential', need_key=True):
        """Parse PEM ``data`` (and the key from ``key_data`` when it is separate)."""
        if not data or not data.strip():
            raise CredentialFileError('%s is empty' % source, error_name='CORRUPT_CREDENTIAL')
        blocks = mx509.pem_blocks(data)
        if key_data is not None:
            blocks += [b for b in mx509.pem_blocks(key_data) if b[0] in KEY_LABELS]
        certs = [mx509.load_certificate(block) for label, block in blocks
                 if label in CERTIFICATE_LABELS]
        keys = [block for label, block in blocks if label in KEY_LABELS]
        if not certs:
            raise CredentialFileError('%s holds no certificate' % source,
                                      error_name='CORRUPT_CREDENTIAL')
        if len(keys) > 1:
            raise CredentialFileError('%s holds more than one private key' % source,
                                      error_name='CORRUPT_CREDENTIAL')
        key = None
        if keys:
            key = mx509.load_private_key(keys[0], passphrase)
            if not mx509.public_key_equal(certs[0].public_key(), key.public_key()):
                raise CredentialFileError('the private key in %s does not belong to its '
                                          'certificate' % source, error_name='KEY_MISMATCH')
        elif need_key:
            raise CredentialFileError('%s holds no private key' % source,
                                      error_name='CORRUPT_CREDENTIAL')
        return cls(certs[0], key, certs[1:])

    def to_pem(self, key_passphrase=None):
        """The myproxy-logon layout: certificate, private key, then the chain."""
        data = mx509.cert_to_pem(self.cert)
        if self.key is not None:
            data += mx509.key_to_pem(self.key, key_passphrase)
        for cert in self.chain:
            data += mx509.cert_to_pem(cert)
        return data

    @property
    def identity(self):
        return mx509.identity(self.cert, self.chain)

    @property
    def proxy_type(self):
        return mx509.proxy_type(self.cert, self.chain[0] if self.chain else None)

    @property
    def not_after(self):
        """When the credential stops working: the earliest end of the leaf and its issuers
        (CA certificates excluded)."""
        ends = [mx509.not_after(self.cert)]
        for cert in self.chain:
            if not _is_ca(cert):
                ends.append(mx509.not_after(cert))
        return min(ends)

    def remaining(self, now=None):
        """Seconds of validity left (0 when expired)."""
        left = (self.not_after - (now or mx509.now())).total_seconds()
        return max(0, int(left))

    def describe(self, now=None):
        """Facts about the credential for module results; never key material."""
        now = now or mx509.now()
        key_type, key_size = mx509.describe_key(self.key or self.cert.public_key())
        return {
            'subject': mx509.oneline(self.cert.subject),
            'issuer': mx509.oneline(self.cert.issuer),
            'identity': self.identity,
            'proxy_type': self.proxy_type,
            'not_before': mx509.iso(mx509.not_before(self.cert)),
            'not_after': mx509.iso(self.not_after),
            'remaining': self.remaining(now),
            'key_type': key_type,
            'key_size': key_size,
            'chain_length': len(self.chain),
            'serial_number': str(self.cert.serial_number),
        }


def _is_ca(cert):
    try:
        constraints = cert.extensions.get_extension_for_class(mx509.cx509.BasicConstraints)
    except mx509.cx509.ExtensionNotFound:
        return False
    return constraints.value.ca


def read_credential_file(path, key_path=None, passphrase=None, need_key=True):
    """Read a credential from ``path`` (and ``key_path`` if the key is separate).

    Raises :class:`CredentialFileError` (``error_name`` ``ENOENT``, ``EACCES``,
    ``CORRUPT_CREDENTIAL``, ``KEY_MISMATCH``, ``BAD_KEY_PASSPHRASE`` ...).
    """
    data = _read(path)
    key_data = _read(key_path) if key_path and os.path.abspath(key_path) != os.path.abspath(path) \
        else None
    return Credential.from_pem(data, passphrase=passphrase, key_data=key_data,
                               source=path, need_key=need_key)


def _read(path):
    try:
        data = read_file(path)
    except Exception as exc:  # FileWriteError from common.files carries the errno name
        raise CredentialFileError('cannot read %s: %s' % (path, exc),
                                  error_name=getattr(exc, 'error_name', None) or 'UNREADABLE')
    if data is None:
        raise CredentialFileError('%s does not exist' % path, error_name='ENOENT')
    return data


def default_proxy_path(uid=None, environ=None):
    """``$X509_USER_PROXY`` if set, else ``/tmp/x509up_u<uid>`` (the Globus default)."""
    environ = os.environ if environ is None else environ
    if environ.get('X509_USER_PROXY'):
        return environ['X509_USER_PROXY']
    return '/tmp/x509up_u%d' % (os.getuid() if uid is None else uid)


def default_cert_dir(environ=None):
    """``$X509_CERT_DIR``, else ``/etc/grid-security/certificates`` for root and
    ``~/.globus/certificates`` for other users when it exists (the Globus search order)."""
    environ = os.environ if environ is None else environ
    if environ.get('X509_CERT_DIR'):
        return environ['X509_CERT_DIR']
    if os.geteuid() != 0:
        user_dir = os.path.expanduser('~/.globus/certificates')
        if os.path.isdir(user_dir):
            return user_dir
    return '/etc/grid-security/certificates'
