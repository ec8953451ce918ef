# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the MyProxy client.

Every class is a :class:`HostsecError`; ``error_name`` is a stable symbolic name (the server's
error classified, a socket ``errno`` name, or a TLS verification error) that playbooks can test
with ``result.error.name``. Messages never contain a passphrase or key material: texts coming
from the server are passed through :func:`redact` with every secret of the request first.
"""

from ..common.errors import HostsecError, InvalidInputError


class MyProxyError(HostsecError):
    """Base class of every MyProxy client error."""


class MyProxyInputError(InvalidInputError):
    """An option value that cannot be sent (caught before the server is contacted)."""


class MyProxyConnectionError(MyProxyError):
    """The TCP connection could not be made or broke (refused, unreachable, timed out)."""


class MyProxyTLSError(MyProxyError):
    """The TLS handshake with the server failed."""


class MyProxyServerIdentityError(MyProxyTLSError):
    """The server certificate is not trusted, has expired, or names another server."""


class MyProxyProtocolError(MyProxyError):
    """The server's reply is truncated, malformed or not what the protocol step expects."""


class MyProxyServerError(MyProxyError):
    """The server answered with ``RESPONSE=1`` (``ERROR=`` lines)."""


class MyProxyAuthenticationError(MyProxyServerError):
    """Wrong passphrase, or no passphrase where one is needed."""


class MyProxyAuthorizationError(MyProxyServerError):
    """A server or credential policy does not allow this client to do this."""


class MyProxyCredentialNotFoundError(MyProxyServerError):
    """The server holds no credential for this username (and credential name)."""


class MyProxyPassphrasePolicyError(MyProxyServerError):
    """The server's passphrase policy rejected the new passphrase."""


class MyProxyCredentialExpiredError(MyProxyServerError):
    """The stored or uploaded credential has expired (or is too long-lived for the server)."""


class MyProxyCredentialLockedError(MyProxyServerError):
    """The administrator has locked the stored credential."""


class CredentialFileError(MyProxyError):
    """A credential, certificate or key file is missing, unreadable, corrupt or inconsistent."""


def redact(text, secrets):
    """``text`` with every non-empty secret replaced by ``********``."""
    if not text:
        return text
    for secret in secrets or ():
        if secret:
            text = text.replace(secret, '********')
    return text


# Server ERROR= texts (myproxy-server 6.x) -> (class, error_name). Checked in order, lowercase.
SERVER_ERRORS = (
    ('bad password', MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    ('bad passphrase', MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    ('invalid pass phrase', MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    ('invalid passphrase', MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    ('invalid password', MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    # The server's own words after OpenSSL's: what OpenSSL says about a key decrypted with a
    # wrong passphrase depends on the garbage it got ("bad decrypt", or ASN.1 errors).
    ('invalid credential passphrase', MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    ('pass phrase incorrect', MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    ('no passphrase', MyProxyAuthenticationError, 'NO_PASSPHRASE'),
    ('no credentials exist', MyProxyCredentialNotFoundError, 'NO_CREDENTIALS'),
    ('credentials do not exist', MyProxyCredentialNotFoundError, 'NO_CREDENTIALS'),
    ('no credentials found', MyProxyCredentialNotFoundError, 'NO_CREDENTIALS'),
    ('unknown username', MyProxyCredentialNotFoundError, 'UNKNOWN_USERNAME'),
    ('credential locked', MyProxyCredentialLockedError, 'CREDENTIAL_LOCKED'),
    ('expired', MyProxyCredentialExpiredError, 'CREDENTIAL_EXPIRED'),
    ('exceeds maximum allowed', MyProxyCredentialExpiredError, 'CREDENTIAL_LIFETIME_EXCEEDED'),
    ('violates local policy', MyProxyPassphrasePolicyError, 'PASSPHRASE_POLICY'),
    ('passphrase policy', MyProxyPassphrasePolicyError, 'PASSPHRASE_POLICY'),
    ('pass phrase policy', MyProxyPassphrasePolicyError, 'PASSPHRASE_POLICY'),
    ('not authorized', MyProxyAuthorizationError, 'NOT_AUTHORIZED'),
    ('not owned by', MyProxyAuthorizationError, 'NOT_OWNER'),
    ('does not own', MyProxyAuthorizationError, 'NOT_OWNER'),
    ('authorization failed', MyProxyAuthorizationError, 'NOT_AUTHORIZED'),
    ('authentication failed', MyProxyAuthenticationError, 'AUTHENTICATION_FAILED'),
)


def server_error(lines, secrets=(), passphrase_policy_command=False):
    """The exception for a server ``RESPONSE=1`` with ``ERROR=`` ``lines``.

    ``passphrase_policy_command`` marks requests that set a passphrase (PUT, STORE,
    CHANGE_PASSWORD): there the server runs its passphrase policy program first and returns
    that program's output as the error, which is then classified as a policy error unless it
    reads as another known error.
    """
    text = redact('; '.join(line.strip().rstrip(',') for line in lines if line.strip()), secrets)
    if not text:
        text = 'the server reported an error without a message'
    lower = text.lower()
    for needle, cls, name in SERVER_ERRORS:
        if needle in lower:
            return cls('server error: %s' % text, error_name=name, details={'server_error': text})
    if passphrase_policy_command:
        return MyProxyPassphrasePolicyError('server error: %s' % text, error_name='PASSPHRASE_POLICY',
                                            details={'server_error': text})
    return MyProxyServerError('server error: %s' % text, error_name='SERVER_ERROR',
                              details={'server_error': text})
