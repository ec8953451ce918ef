# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kerberos errors: one class per kind of failure, named by the Kerberos error name.

Every error the krb5 client raises is a :class:`Krb5Error` whose ``error_name`` is MIT's
symbolic name of the Kerberos error code (``KRB5KDC_ERR_PREAUTH_FAILED``, ``KRB5_KDC_UNREACH``,
``KRB5KRB_AP_ERR_SKEW`` ...) and whose message is the library's text, prefixed with what was
being done. The class tells the kind of failure, so a playbook can branch on
``result.error.class``; the name tells the exact Kerberos error::

    PreauthFailedError: KRB5KDC_ERR_PREAUTH_FAILED: acquiring a ticket for alice@EXAMPLE.ORG:
    Preauthentication failed

GSSAPI failures also carry the GSS major status name (``GSS_S_NO_CRED`` ...) under ``details``.
Messages come from the Kerberos library and never contain a password or key.
"""

import errno

from ..common.errors import HostsecError
from .codes import error_name as krb5_error_name, signed32


class Krb5Error(HostsecError):
    """Any Kerberos or GSSAPI failure (the base class of every krb5 client error)."""


class KdcUnreachableError(Krb5Error):
    """No KDC of the realm answered (or none is configured)."""


class PreauthFailedError(Krb5Error):
    """Wrong password or key: pre-authentication or decryption of the KDC reply failed."""


class PrincipalUnknownError(Krb5Error):
    """The client or server principal is not in the KDC's database."""


class PrincipalExpiredError(Krb5Error):
    """The principal's account has expired or is locked (revoked)."""


class PasswordExpiredError(Krb5Error):
    """The principal's password has expired and must be changed."""


class ClockSkewError(Krb5Error):
    """The clocks of this host and the KDC (or the service) differ too much."""


class CcacheNotFoundError(Krb5Error):
    """The credential cache does not exist, is empty or holds no ticket for the principal."""


class TicketExpiredError(Krb5Error):
    """The ticket has expired (or is not renewable any more)."""


class KeytabError(Krb5Error):
    """The keytab is missing, unreadable or has no key for the principal, kvno or enctype."""


class PolicyError(Krb5Error):
    """The KDC refused the request because of a policy or an option it does not allow."""


class GssError(Krb5Error):
    """A GSSAPI failure without a more specific Kerberos error."""


# Kerberos error name -> class. Names not listed here raise Krb5Error (or GssError).
CLASSES = {
    'KRB5_KDC_UNREACH': KdcUnreachableError,
    'KRB5_REALM_CANT_RESOLVE': KdcUnreachableError,
    'KRB5_REALM_UNKNOWN': KdcUnreachableError,
    'KRB5_KDCREP_SKEW': ClockSkewError,
    'KRB5KRB_AP_ERR_SKEW': ClockSkewError,
    'KRB5KDC_ERR_PREAUTH_FAILED': PreauthFailedError,
    'KRB5KRB_AP_ERR_BAD_INTEGRITY': PreauthFailedError,
    # Client-side pre-authentication failure (e.g. PKINIT: unreadable key, untrusted KDC).
    'KRB5_PREAUTH_FAILED': PreauthFailedError,
    'KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN': PrincipalUnknownError,
    'KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN': PrincipalUnknownError,
    'KRB5KDC_ERR_NAME_EXP': PrincipalExpiredError,
    'KRB5KDC_ERR_CLIENT_REVOKED': PrincipalExpiredError,
    'KRB5KDC_ERR_CLIENT_NOTYET': PrincipalExpiredError,
    'KRB5KDC_ERR_KEY_EXP': PasswordExpiredError,
    'KRB5_FCC_NOFILE': CcacheNotFoundError,
    'KRB5_CC_NOTFOUND': CcacheNotFoundError,
    'KRB5_CC_NOSUPP': CcacheNotFoundError,
    'KRB5_CC_BADNAME': CcacheNotFoundError,
    'KRB5_CC_UNKNOWN_TYPE': CcacheNotFoundError,
    'KRB5_CC_END': CcacheNotFoundError,
    'KG_EMPTY_CCACHE': CcacheNotFoundError,
    'KG_CCACHE_NOMATCH': CcacheNotFoundError,
    'KG_TGT_MISSING': CcacheNotFoundError,
    'KRB5KRB_AP_ERR_TKT_EXPIRED': TicketExpiredError,
    'KRB5KDC_ERR_TGT_REVOKED': TicketExpiredError,
    'KRB5KDC_ERR_BADOPTION': PolicyError,
    'KRB5KDC_ERR_POLICY': PolicyError,
    'KRB5KDC_ERR_ETYPE_NOSUPP': PolicyError,
    'KRB5_KT_NOTFOUND': KeytabError,
    'KRB5_KT_KVNONOTFOUND': KeytabError,
    'KRB5_KT_END': KeytabError,
    'KRB5_KT_NOWRITE': KeytabError,
    'KRB5_KT_BADNAME': KeytabError,
    'KRB5_KT_UNKNOWN_TYPE': KeytabError,
    'KRB5_KT_FORMAT': KeytabError,
    'KRB5_KT_IOERR': KeytabError,
    'KRB5KRB_AP_ERR_BADKEYVER': KeytabError,
    'KRB5KRB_AP_ERR_NOKEY': KeytabError,
    'KRB5KRB_AP_WRONG_PRINC': KeytabError,
    'KRB5KRB_AP_ERR_NOT_US': KeytabError,
    'KG_KEYTAB_NOMATCH': KeytabError,
}

# GSS major routine errors (RFC 2744, bits 16-23 of the major status).
GSS_ROUTINE_ERRORS = {
    1: 'GSS_S_BAD_MECH', 2: 'GSS_S_BAD_NAME', 3: 'GSS_S_BAD_NAMETYPE',
    4: 'GSS_S_BAD_BINDINGS', 5: 'GSS_S_BAD_STATUS', 6: 'GSS_S_BAD_MIC', 7: 'GSS_S_NO_CRED',
    8: 'GSS_S_NO_CONTEXT', 9: 'GSS_S_DEFECTIVE_TOKEN', 10: 'GSS_S_DEFECTIVE_CREDENTIAL',
    11: 'GSS_S_CREDENTIALS_EXPIRED', 12: 'GSS_S_CONTEXT_EXPIRED', 13: 'GSS_S_FAILURE',
    14: 'GSS_S_BAD_QOP', 15: 'GSS_S_UNAUTHORIZED', 16: 'GSS_S_UNAVAILABLE',
    17: 'GSS_S_DUPLICATE_ELEMENT', 18: 'GSS_S_NAME_NOT_MN', 19: 'GSS_S_BAD_MECH_ATTR',
}
GSS_CALLING_ERRORS = {1: 'GSS_S_CALL_INACCESSIBLE_READ', 2: 'GSS_S_CALL_INACCESSIBLE_WRITE',
                      3: 'GSS_S_CALL_BAD_STRUCTURE'}


def gss_major_name(major):
    """``GSS_S_NO_CRED`` for a GSS major status (routine error first, then calling error)."""
    if major is None:
        return None
    routine = (major >> 16) & 0xFF
    calling = (major >> 24) & 0xFF
    if routine in GSS_ROUTINE_ERRORS:
        return GSS_ROUTINE_ERRORS[routine]
    if calling in GSS_CALLING_ERRORS:
        return GSS_CALLING_ERRORS[calling]
    return 'GSS_S_COMPLETE' if major == 0 else 'GSS_S_%d' % major


def code_name(code):
    """The Kerberos name of a krb5 error code; errno names for system errors."""
    name = krb5_error_name(code)
    if name is None and code is not None and 0 < signed32(code) < 4096:
        name = errno.errorcode.get(signed32(code))
    return name


def make_error(code, message, action=None, default=Krb5Error, **details):
    """The :class:`Krb5Error` subclass for krb5 error ``code`` with the library's message."""
    name = code_name(code)
    cls = CLASSES.get(name, default)
    text = message.strip() if message else 'unknown Kerberos error'
    if action:
        text = '%s: %s' % (action, text)
    info = {'code': signed32(code) if code is not None else None}
    info.update(details)
    return cls(text, error_name=name, details=info)


def from_krb5(exc, action=None):
    """Translate a pykrb5 ``krb5.Krb5Error`` into a :class:`Krb5Error`."""
    code = getattr(exc, 'err_code', None)
    message = str(exc)
    # pykrb5 appends the numeric code to the message; the name replaces it.
    if code is not None and message.endswith(' %d' % code):
        message = message[:-len(' %d' % code)]
    return make_error(code, message, action)


def from_gss(exc, action=None):
    """Translate a python-gssapi ``GSSError`` into a :class:`Krb5Error`.

    The Kerberos error is the minor status (when there is one); the GSS major status name and
    both messages are kept under ``details``.
    """
    major = getattr(exc, 'maj_code', None)
    minor = getattr(exc, 'min_code', None) or None
    major_name = gss_major_name(major)
    try:
        major_text = '; '.join(exc.get_all_statuses(major, True)) if major else ''
    except Exception:  # pylint: disable=broad-except
        major_text = ''
    try:
        minor_text = '; '.join(exc.get_all_statuses(minor, False)) if minor else ''
    except Exception:  # pylint: disable=broad-except
        minor_text = ''
    details = {'gss_major': major, 'gss_major_name': major_name, 'gss_major_message': major_text,
               'gss_minor': signed32(minor) if minor else 0, 'gss_minor_message': minor_text}
    if minor and code_name(minor):
        return make_error(minor, minor_text or major_text, action, default=GssError, **details)
    text = minor_text or major_text or str(exc)
    if action:
        text = '%s: %s' % (action, text)
    details['code'] = signed32(minor) if minor else None
    return GssError(text, error_name=major_name, details=details)
