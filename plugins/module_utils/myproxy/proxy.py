# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RFC 3820 proxy certificates: the request side (GET) and the signing side (PUT).

GET: the client makes a key pair, sends a certificate request (DER) and receives the proxy
the server signed with the stored credential. The private key never leaves this host.

PUT (delegation): the server sends a certificate request (DER) for a key it made; the client
signs an RFC 3820 proxy certificate for it with the user's credential and answers with one
byte holding the number of certificates, then the new proxy, the signing certificate and the
rest of the signer's chain, all DER (the layout of ``ssl_proxy_delegation_sign`` in the MyProxy
sources).

Renewal (GET without a passphrase, ``myproxy-logon -a``): the server answers the request with
an authorization challenge (``AUTHORIZATION_DATA=X509_certificate:<random hex>``); the client
proves it holds the credential being renewed by answering with :func:`renewal_reply` - the
method number (4 bytes, the first one significant, as the C client sends it), then the
signature length (4 bytes, big-endian), the signature of the challenge made with the key of
the renewing credential (SHA-1 for MyProxy 6.2 servers, SHA-256 for later ones: see
:data:`RENEWAL_DIGESTS`), and its certificate chain (count byte, then DER certificates;
``auth_cert_create_client_data`` in myproxy_authorization.c).
"""

import datetime
import secrets
import struct

from .errors import CredentialFileError, MyProxyInputError, MyProxyProtocolError
from . import x509 as mx509

try:
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # reported by deps.CRYPTOGRAPHY
    pass

# DER of ProxyCertInfo ::= SEQUENCE { proxyPolicy SEQUENCE { policyLanguage OID } }
# with no path length constraint, for the two policy languages we issue.
_PCI_INHERIT_ALL = bytes.fromhex('300c300a06082b06010505071501')
_PCI_LIMITED = bytes.fromhex('300f300d060b2b060104019b5001010109')

MAX_PROXY_LIFETIME = 10 * 365 * 24 * 3600


def certificate_request(key):
    """A DER certificate request for ``key`` (the server chooses the proxy's name)."""
    builder = cx509.CertificateSigningRequestBuilder().subject_name(
        cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, 'proxy')]))
    csr = builder.sign(key, mx509.signature_hash(key))
    return csr.public_bytes(mx509.serialization.Encoding.DER)


def load_request(der):
    """Parse and verify the server's certificate request; returns its public key."""
    try:
        csr = cx509.load_der_x509_csr(bytes(der))
    except ValueError:
        raise MyProxyProtocolError('the server sent something that is not a certificate request',
                                   error_name='MALFORMED_REPLY')
    if not csr.is_signature_valid:
        raise MyProxyProtocolError('the certificate request from the server has a bad signature',
                                   error_name='MALFORMED_REPLY')
    return csr.public_key()


def sign_proxy(public_key, issuer_cert, issuer_key, lifetime, limited=False, now=None):
    """An RFC 3820 proxy certificate for ``public_key``, signed by ``issuer_cert``/``issuer_key``.

    Subject: the issuer's subject plus ``CN=<serial>``; validity from five minutes ago
    (clock skew) to ``lifetime`` seconds from now, never past the issuer's own end; critical
    ProxyCertInfo with the inheritAll (or Globus limited) policy language; critical key usage.
    """
    if not isinstance(lifetime, int) or lifetime <= 0 or lifetime > MAX_PROXY_LIFETIME:
        raise MyProxyInputError('the proxy lifetime must be between 1 second and 10 years')
    if not mx509.public_key_equal(issuer_cert.public_key(), issuer_key.public_key()):
        raise CredentialFileError('the signing certificate and key do not belong together',
                                  error_name='KEY_MISMATCH')
    now = now or mx509.now()
    end = min(now + datetime.timedelta(seconds=lifetime), mx509.not_after(issuer_cert))
    if end <= now:
        raise CredentialFileError('the credential that would sign the proxy has expired (%s)'
                                  % mx509.iso(mx509.not_after(issuer_cert)),
                                  error_name='CREDENTIAL_EXPIRED')
    start = max(now - mx509.CLOCK_SKEW, mx509.not_before(issuer_cert))
    serial = secrets.randbits(31) | (1 << 30)
    subject = cx509.Name(list(issuer_cert.subject)
                         + [cx509.NameAttribute(NameOID.COMMON_NAME, str(serial))])
    key_type = mx509.describe_key(public_key)[0]
    usage = cx509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=key_type == 'rsa',
        data_encipherment=key_type == 'rsa', key_agreement=key_type == 'ec', key_cert_sign=False,
        crl_sign=False, encipher_only=False, decipher_only=False)
    pci = _PCI_LIMITED if limited else _PCI_INHERIT_ALL
    builder = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(usage, critical=True)
        .add_extension(cx509.UnrecognizedExtension(mx509.oid(mx509.OID_PROXY_CERT_INFO), pci),
                       critical=True))
    return builder.sign(issuer_key, mx509.signature_hash(issuer_key))


def delegation_reply(proxy_cert, issuer_cert, issuer_chain):
    """The PUT answer: count byte, then the proxy, its signer and the signer's chain (DER)."""
    certs = [proxy_cert, issuer_cert] + list(issuer_chain)
    if len(certs) > 255:
        raise MyProxyInputError('the certificate chain is too long to delegate')
    return bytes([len(certs)]) + b''.join(mx509.cert_to_der(cert) for cert in certs)


# The authorization method numbers of myproxy_authorization.h (author_method_t).
AUTHORIZE_CERT = 2


# The digests servers verify the renewal signature with: SHA-1 up to MyProxy 6.2 (Debian and
# EPEL packages), SHA-256 in later sources; the client tries them in this order.
RENEWAL_DIGESTS = ('sha1', 'sha256')


def sign_challenge(key, challenge, digest='sha1'):
    """The signature ``ssl_sign`` makes: PKCS#1 v1.5 for RSA, ECDSA (DER) for EC."""
    data = challenge.encode('ascii') if isinstance(challenge, str) else bytes(challenge)
    algorithm = mx509.hashes.SHA1() if digest == 'sha1' else mx509.hashes.SHA256()
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), algorithm)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(algorithm))
    raise CredentialFileError('the renewal credential has a key type the MyProxy server '
                              'cannot verify (RSA or EC only)', error_name='UNSUPPORTED_KEY')


def renewal_reply(credential, challenge, digest='sha1'):
    """The answer to an ``X509_certificate`` challenge, signed with ``credential``."""
    if credential is None or credential.key is None:
        raise MyProxyInputError('renewal needs the credential being renewed with its key')
    certs = [credential.cert] + list(credential.chain)
    if len(certs) > 255:
        raise MyProxyInputError('the certificate chain of the renewal credential is too long')
    signature = sign_challenge(credential.key, challenge, digest)
    return (struct.pack('<I', AUTHORIZE_CERT) + struct.pack('>I', len(signature)) + signature
            + bytes([len(certs)]) + b''.join(mx509.cert_to_der(cert) for cert in certs))


def der_length(data, offset):
    """``(header length, content length)`` of the DER element at ``offset``, or ``None``
    when ``data`` does not hold the whole header yet. Raises on a malformed header."""
    if len(data) < offset + 2:
        return None
    if data[offset] != 0x30:
        raise MyProxyProtocolError('expected a DER certificate from the server, got byte 0x%02x'
                                   % data[offset], error_name='MALFORMED_REPLY')
    first = data[offset + 1]
    if first < 0x80:
        return 2, first
    count = first & 0x7F
    if count == 0 or count > 4:
        raise MyProxyProtocolError('bad DER length in a certificate from the server',
                                   error_name='MALFORMED_REPLY')
    if len(data) < offset + 2 + count:
        return None
    return 2 + count, int.from_bytes(bytes(data[offset + 2:offset + 2 + count]), 'big')


def parse_certificates(der_list):
    certs = []
    for der in der_list:
        try:
            certs.append(cx509.load_der_x509_certificate(bytes(der)))
        except ValueError:
            raise MyProxyProtocolError('the server sent a certificate that cannot be parsed',
                                       error_name='MALFORMED_REPLY')
    return certs
