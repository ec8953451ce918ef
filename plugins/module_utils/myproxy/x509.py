# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""X.509 helpers: Globus-style distinguished names, proxy certificate types, keys and PEM.

Distinguished names are shown the way the Globus tools and the MyProxy server show them, in
OpenSSL's one-line form (``/O=Grid/OU=Example/CN=Alice``), outermost attribute first.

Proxy certificate types (RFC 3820 and its predecessors):

``rfc3820``
    ProxyCertInfo extension (1.3.6.1.5.5.7.1.14) with the inheritAll policy language;
``rfc3820_limited`` / ``rfc3820_independent`` / ``rfc3820_restricted``
    the same extension with the Globus limited, the independent or another policy language;
``gsi3`` / ``gsi3_limited``
    the pre-RFC ProxyCertInfo extension (1.3.6.1.4.1.3536.1.222);
``legacy`` / ``legacy_limited``
    Globus GSI 2 proxies: the subject ends in ``CN=proxy`` (``CN=limited proxy``);
``end_entity``
    not a proxy.
"""

import datetime
import os
import warnings

from .errors import CredentialFileError, MyProxyInputError

try:
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID, ObjectIdentifier
    HAS_CRYPTOGRAPHY = True
except ImportError:  # reported by deps.CRYPTOGRAPHY
    HAS_CRYPTOGRAPHY = False

try:
    from OpenSSL import crypto as ossl_crypto
except ImportError:  # reported by deps (pyOpenSSL)
    ossl_crypto = None

UTC = datetime.timezone.utc

OID_PROXY_CERT_INFO = '1.3.6.1.5.5.7.1.14'
OID_PROXY_CERT_INFO_GSI3 = '1.3.6.1.4.1.3536.1.222'
OID_PPL_INHERIT_ALL = '1.3.6.1.5.5.7.21.1'
OID_PPL_INDEPENDENT = '1.3.6.1.5.5.7.21.2'
OID_PPL_GLOBUS_LIMITED = '1.3.6.1.4.1.3536.1.1.1.9'

# OpenSSL short names, as X509_NAME_oneline() prints them.
SHORT_NAMES = {
    '2.5.4.6': 'C', '2.5.4.8': 'ST', '2.5.4.7': 'L', '2.5.4.10': 'O', '2.5.4.11': 'OU',
    '2.5.4.3': 'CN', '2.5.4.5': 'serialNumber', '2.5.4.9': 'street', '2.5.4.12': 'title',
    '2.5.4.4': 'SN', '2.5.4.42': 'GN', '2.5.4.43': 'initials', '2.5.4.46': 'dnQualifier',
    '2.5.4.65': 'pseudonym', '0.9.2342.19200300.100.1.25': 'DC',
    '0.9.2342.19200300.100.1.1': 'UID', '1.2.840.113549.1.9.1': 'emailAddress',
}
# Accepted spellings when parsing a DN given by the user, mapped to the short name.
NAME_ALIASES = {name.lower(): name for name in SHORT_NAMES.values()}
NAME_ALIASES.update({'e': 'emailAddress', 'email': 'emailAddress', 'userid': 'UID',
                     'commonname': 'CN', 'organizationname': 'O', 'domaincomponent': 'DC',
                     'organizationalunitname': 'OU', 'countryname': 'C', 's': 'ST'})

KEY_TYPES = ('rsa', 'ec')
RSA_SIZES = (2048, 3072, 4096)
EC_CURVES = {256: 'secp256r1', 384: 'secp384r1', 521: 'secp521r1'}

# Leave five minutes for clocks that are behind ours, as the Globus tools do.
CLOCK_SKEW = datetime.timedelta(minutes=5)


# --------------------------------------------------------------------------- names

def oneline(name):
    """A ``cryptography`` Name in OpenSSL one-line form: ``/O=Grid/CN=Alice``."""
    parts = []
    for rdn in name.rdns:
        for attribute in rdn:
            key = SHORT_NAMES.get(attribute.oid.dotted_string, attribute.oid.dotted_string)
            parts.append('/%s=%s' % (key, attribute.value))
    return ''.join(parts)


def parse_dn(text):
    """Parse a DN written as ``/O=Grid/CN=host/example.org`` or ``CN=x,O=Grid`` (RFC 4514).

    Returns a tuple of ``(short name, value)`` in outermost-first order, for comparisons.
    In the slash form a part without ``=`` continues the previous value, so the Globus host
    names ``CN=host/example.org`` survive.
    """
    if not isinstance(text, str) or not text.strip():
        raise MyProxyInputError('a distinguished name must be a non-empty string')
    text = text.strip().strip('"')
    parts = []
    if text.startswith('/'):
        for piece in text[1:].split('/'):
            if '=' in piece and _known_attribute(piece.split('=', 1)[0]):
                key, value = piece.split('=', 1)
                parts.append([key, value])
            elif parts:
                parts[-1][1] += '/' + piece
            else:
                raise MyProxyInputError('cannot parse the distinguished name %r' % text)
    else:
        pieces = _split_rfc4514(text)
        for piece in reversed(pieces):
            if '=' not in piece:
                raise MyProxyInputError('cannot parse the distinguished name %r' % text)
            key, value = piece.split('=', 1)
            parts.append([key.strip(), value.strip()])
    result = []
    for key, value in parts:
        short = NAME_ALIASES.get(key.strip().lower(), key.strip())
        result.append((short, value.strip()))
    return tuple(result)


def _known_attribute(key):
    key = key.strip()
    return key.lower() in NAME_ALIASES or _is_dotted(key)


def _is_dotted(key):
    return bool(key) and all(part.isdigit() for part in key.split('.'))


def _split_rfc4514(text):
    pieces, current, escaped = [], '', False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == '\\':
            escaped = True
        elif char in ',+':
            pieces.append(current)
            current = ''
        else:
            current += char
    pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


def name_tuple(name):
    """A ``cryptography`` Name as the tuple :func:`parse_dn` returns."""
    return parse_dn(oneline(name)) if len(name) else ()


def dn_equal(first, second):
    """Compare two DNs (strings or Names): attribute names exactly, values case-insensitively."""
    def norm(value):
        parsed = parse_dn(value) if isinstance(value, str) else name_tuple(value)
        return tuple((key, ' '.join(val.split()).lower()) for key, val in parsed)
    return norm(first) == norm(second)


# --------------------------------------------------------------------------- proxies

def _extension(cert, oid):
    for extension in cert.extensions:
        if extension.oid.dotted_string == oid:
            return extension
    return None


def _policy_language(extension_value):
    """The policy language OID in a DER ProxyCertInfo value (both RFC and GSI3 layouts)."""
    # Find the first OBJECT IDENTIFIER (tag 0x06) in the structure and decode it.
    data = bytes(extension_value)
    index = data.find(b'\x06')
    while index != -1 and index + 1 < len(data):
        length = data[index + 1]
        raw = data[index + 2:index + 2 + length]
        if len(raw) == length and length > 0:
            return _decode_oid(raw)
        index = data.find(b'\x06', index + 1)
    return None


def _decode_oid(raw):
    first = raw[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return '.'.join(str(part) for part in parts)


def proxy_type(cert, issuer=None):
    """The proxy type of ``cert`` (see the module docstring), ``end_entity`` if none."""
    for oid, prefix in ((OID_PROXY_CERT_INFO, 'rfc3820'), (OID_PROXY_CERT_INFO_GSI3, 'gsi3')):
        extension = _extension(cert, oid)
        if extension is None:
            continue
        value = getattr(extension.value, 'value', b'')
        language = _policy_language(value)
        if language == OID_PPL_INHERIT_ALL:
            return prefix
        if language == OID_PPL_GLOBUS_LIMITED:
            return prefix + '_limited'
        if language == OID_PPL_INDEPENDENT:
            return prefix + '_independent'
        return prefix + '_restricted'
    subject = list(cert.subject)
    if subject and subject[-1].oid == NameOID.COMMON_NAME \
            and subject[-1].value in ('proxy', 'limited proxy') \
            and cx509.Name(subject[:-1]) == cert.issuer \
            and (issuer is None or issuer.subject == cert.issuer):
        return 'legacy' if subject[-1].value == 'proxy' else 'legacy_limited'
    return 'end_entity'


def is_proxy(cert):
    return proxy_type(cert) != 'end_entity'


def identity(cert, chain=()):
    """The end-entity identity behind a (chain of) proxies: the first non-proxy subject."""
    for candidate in [cert] + list(chain):
        if not is_proxy(candidate):
            return oneline(candidate.subject)
    # Only proxies (the end-entity certificate is missing): the last proxy's issuer is the
    # best guess we have.
    return oneline((list(chain) or [cert])[-1].issuer)


def chain_problem(cert, chain, ca_dir, when=None):
    """Why ``cert`` (a proxy or an end-entity certificate) with its ``chain`` does not verify,
    or ``None`` when it does. The rules of the Globus tools for a proxy credential:

    - each leading proxy is named after its issuer plus one ``CN``, signed by the next
      certificate and within its validity;
    - the first certificate that is not a proxy (the end-entity certificate) verifies with
      OpenSSL against the CA directory ``ca_dir`` (hashed PEM files, as
      ``/etc/grid-security/certificates``), the rest of ``chain`` serving as intermediates.

    A missing ``ca_dir`` means nothing can be trusted.
    """
    when = when or now()
    certs = [cert] + list(chain)
    index = 0
    while index < len(certs) and proxy_type(
            certs[index], certs[index + 1] if index + 1 < len(certs) else None) != 'end_entity':
        index += 1
    if index == len(certs):
        return 'the chain holds no end-entity certificate'
    for child, parent in zip(certs[:index], certs[1:index + 1]):
        subject = list(child.subject)
        if not subject or subject[-1].oid != NameOID.COMMON_NAME \
                or cx509.Name(subject[:-1]) != parent.subject or child.issuer != parent.subject:
            return 'proxy %s is not named after its issuer' % oneline(child.subject)
        verify = getattr(child, 'verify_directly_issued_by', None)
        if verify is not None:
            try:
                verify(parent)
            except Exception:  # pylint: disable=broad-except
                return 'proxy %s is not signed by %s' % (oneline(child.subject),
                                                         oneline(parent.subject))
        if not not_before(child) - CLOCK_SKEW <= when <= not_after(child):
            return 'proxy %s is not valid now' % oneline(child.subject)
    if not ca_dir or not os.path.isdir(ca_dir):
        return 'the CA directory %s does not exist' % ca_dir
    if ossl_crypto is None:
        return 'pyOpenSSL is needed to verify the chain'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        store = ossl_crypto.X509Store()
        store.load_locations(None, ca_dir)
        leaf = ossl_crypto.X509.from_cryptography(certs[index])
        others = [ossl_crypto.X509.from_cryptography(other) for other in certs[index + 1:]]
        try:
            ossl_crypto.X509StoreContext(store, leaf, chain=others).verify_certificate()
        except ossl_crypto.X509StoreContextError as exc:
            return 'the end-entity certificate %s does not verify against %s (%s)' % (
                oneline(certs[index].subject), ca_dir, _short(exc))
    return None


# --------------------------------------------------------------------------- keys and PEM

def generate_key(key_type='rsa', key_size=2048):
    """A new private key: RSA of ``key_size`` bits, or EC on the curve of ``key_size`` bits."""
    if key_type == 'rsa':
        if key_size not in RSA_SIZES:
            raise MyProxyInputError('key_size for RSA keys must be one of %s, not %r'
                                    % (', '.join(str(s) for s in RSA_SIZES), key_size))
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    if key_type == 'ec':
        if key_size not in EC_CURVES:
            raise MyProxyInputError('key_size for EC keys must be one of %s, not %r'
                                    % (', '.join(str(s) for s in sorted(EC_CURVES)), key_size))
        curve = {'secp256r1': ec.SECP256R1, 'secp384r1': ec.SECP384R1,
                 'secp521r1': ec.SECP521R1}[EC_CURVES[key_size]]
        return ec.generate_private_key(curve())
    raise MyProxyInputError('key_type must be one of %s, not %r' % (', '.join(KEY_TYPES), key_type))


def describe_key(key):
    """``('rsa', 2048)`` or ``('ec', 256)`` for a private or public key."""
    public = key.public_key() if hasattr(key, 'public_key') else key
    if isinstance(public, rsa.RSAPublicKey):
        return 'rsa', public.key_size
    if isinstance(public, ec.EllipticCurvePublicKey):
        return 'ec', public.curve.key_size
    return type(public).__name__.lower(), None


def signature_hash(key):
    """The hash to sign with this key (SHA-256, or none for Ed25519/Ed448)."""
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return hashes.SHA256()
    return None


def key_to_pem(key, passphrase=None):
    """The private key in the traditional OpenSSL PEM form Globus tools read everywhere.

    Encrypted with ``passphrase`` (the best cipher cryptography offers) when one is given.
    """
    encryption = (serialization.BestAvailableEncryption(passphrase.encode('utf-8'))
                  if passphrase else serialization.NoEncryption())
    try:
        return key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.TraditionalOpenSSL, encryption)
    except ValueError:  # key types without a traditional form
        return key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8, encryption)


def cert_to_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_to_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def public_key_equal(first, second):
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return first.public_bytes(*spki) == second.public_bytes(*spki)


PEM_BEGIN = b'-----BEGIN '
PEM_END = b'-----END '


def pem_blocks(data):
    """Split PEM data into ``[(label, block bytes)]``; text between blocks is ignored."""
    blocks = []
    position = 0
    while True:
        start = data.find(PEM_BEGIN, position)
        if start == -1:
            return blocks
        label_end = data.find(b'-----', start + len(PEM_BEGIN))
        if label_end == -1:
            raise CredentialFileError('truncated PEM data (a BEGIN line without its end)',
                                      error_name='CORRUPT_CREDENTIAL')
        label = data[start + len(PEM_BEGIN):label_end].decode('ascii', 'replace')
        end_marker = PEM_END + label.encode('ascii', 'replace') + b'-----'
        end = data.find(end_marker, label_end)
        if end == -1:
            raise CredentialFileError('truncated PEM data (%s without its END line)' % label,
                                      error_name='CORRUPT_CREDENTIAL')
        end += len(end_marker)
        blocks.append((label, data[start:end] + b'\n'))
        position = end


def load_certificate(block):
    try:
        return cx509.load_pem_x509_certificate(block)
    except ValueError as exc:
        raise CredentialFileError('a certificate cannot be parsed (%s)' % _short(exc),
                                  error_name='CORRUPT_CREDENTIAL')


def load_private_key(block, passphrase=None):
    """Load a PEM private key; wrong or missing passphrases raise CredentialFileError."""
    password = passphrase.encode('utf-8') if passphrase else None
    try:
        return serialization.load_pem_private_key(block, password=password)
    except TypeError:
        if password is None:
            raise CredentialFileError('the private key is encrypted and no passphrase was given',
                                      error_name='KEY_ENCRYPTED')
        raise CredentialFileError('the private key is not encrypted but a passphrase was given',
                                  error_name='KEY_NOT_ENCRYPTED')
    except ValueError:
        if password is not None:
            raise CredentialFileError('the private key cannot be decrypted: wrong passphrase or '
                                      'corrupt key', error_name='BAD_KEY_PASSPHRASE')
        raise CredentialFileError('the private key cannot be parsed', error_name='CORRUPT_CREDENTIAL')


def _short(exc):
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def not_before(cert):
    value = getattr(cert, 'not_valid_before_utc', None)
    return value if value is not None else cert.not_valid_before.replace(tzinfo=UTC)


def not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=UTC)


def now():
    return datetime.datetime.now(UTC)


def iso(when):
    """``2024-05-01T12:00:00Z``."""
    return when.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def oid(dotted):
    return ObjectIdentifier(dotted)
