# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Linux-PAM constants: return codes with their names and messages, items, flags, styles.

The return codes and their texts are those of Linux-PAM's ``_pam_types.h`` and
``pam_strerror.c``; a unit test checks every text against the system's ``pam_strerror``.
"""

# code: (symbolic name, pam_strerror text)
RETURN_CODES = {
    0: ('PAM_SUCCESS', 'Success'),
    1: ('PAM_OPEN_ERR', 'Failed to load module'),
    2: ('PAM_SYMBOL_ERR', 'Symbol not found'),
    3: ('PAM_SERVICE_ERR', 'Error in service module'),
    4: ('PAM_SYSTEM_ERR', 'System error'),
    5: ('PAM_BUF_ERR', 'Memory buffer error'),
    6: ('PAM_PERM_DENIED', 'Permission denied'),
    7: ('PAM_AUTH_ERR', 'Authentication failure'),
    8: ('PAM_CRED_INSUFFICIENT', 'Insufficient credentials to access authentication data'),
    9: ('PAM_AUTHINFO_UNAVAIL', 'Authentication service cannot retrieve authentication info'),
    10: ('PAM_USER_UNKNOWN', 'User not known to the underlying authentication module'),
    11: ('PAM_MAXTRIES', 'Have exhausted maximum number of retries for service'),
    12: ('PAM_NEW_AUTHTOK_REQD', 'Authentication token is no longer valid; new one required'),
    13: ('PAM_ACCT_EXPIRED', 'User account has expired'),
    14: ('PAM_SESSION_ERR', 'Cannot make/remove an entry for the specified session'),
    15: ('PAM_CRED_UNAVAIL', 'Authentication service cannot retrieve user credentials'),
    16: ('PAM_CRED_EXPIRED', 'User credentials expired'),
    17: ('PAM_CRED_ERR', 'Failure setting user credentials'),
    18: ('PAM_NO_MODULE_DATA', 'No module specific data is present'),
    19: ('PAM_CONV_ERR', 'Conversation error'),
    20: ('PAM_AUTHTOK_ERR', 'Authentication token manipulation error'),
    21: ('PAM_AUTHTOK_RECOVERY_ERR', 'Authentication information cannot be recovered'),
    22: ('PAM_AUTHTOK_LOCK_BUSY', 'Authentication token lock busy'),
    23: ('PAM_AUTHTOK_DISABLE_AGING', 'Authentication token aging disabled'),
    24: ('PAM_TRY_AGAIN', 'Failed preliminary check by password service'),
    25: ('PAM_IGNORE', 'The return value should be ignored by PAM dispatch'),
    26: ('PAM_ABORT', 'Critical error - immediate abort'),
    27: ('PAM_AUTHTOK_EXPIRED', 'Authentication token expired'),
    28: ('PAM_MODULE_UNKNOWN', 'Module is unknown'),
    29: ('PAM_BAD_ITEM', 'Bad item passed to pam_*_item()'),
    30: ('PAM_CONV_AGAIN', 'Conversation is waiting for event'),
    31: ('PAM_INCOMPLETE', 'Application needs to call libpam again'),
}

CODE_BY_NAME = dict((name, code) for code, (name, _text) in RETURN_CODES.items())
CODE_NAMES = tuple(name for _code, (name, _text) in sorted(RETURN_CODES.items()))

PAM_SUCCESS = 0
PAM_SYSTEM_ERR = 4
PAM_BUF_ERR = 5
PAM_CONV_ERR = 19
PAM_ABORT = 26

# Items (pam_set_item / pam_get_item)
PAM_SERVICE = 1
PAM_USER = 2
PAM_TTY = 3
PAM_RHOST = 4
PAM_CONV = 5
PAM_AUTHTOK = 6
PAM_OLDAUTHTOK = 7
PAM_RUSER = 8
PAM_USER_PROMPT = 9
PAM_FAIL_DELAY = 10
PAM_XDISPLAY = 11

# Flags
PAM_SILENT = 0x8000
PAM_DISALLOW_NULL_AUTHTOK = 0x0001
PAM_ESTABLISH_CRED = 0x0002
PAM_DELETE_CRED = 0x0004
PAM_REINITIALIZE_CRED = 0x0008
PAM_REFRESH_CRED = 0x0010

# Conversation message styles
PAM_PROMPT_ECHO_OFF = 1
PAM_PROMPT_ECHO_ON = 2
PAM_ERROR_MSG = 3
PAM_TEXT_INFO = 4
PAM_RADIO_TYPE = 5
PAM_BINARY_PROMPT = 7

STYLE_NAMES = {
    PAM_PROMPT_ECHO_OFF: 'prompt_echo_off',
    PAM_PROMPT_ECHO_ON: 'prompt_echo_on',
    PAM_ERROR_MSG: 'error',
    PAM_TEXT_INFO: 'info',
    PAM_RADIO_TYPE: 'radio',
    PAM_BINARY_PROMPT: 'binary',
}


def code_name(code):
    """Symbolic name of a PAM return code (``PAM_UNKNOWN_<n>`` for codes PAM does not define)."""
    entry = RETURN_CODES.get(code)
    return entry[0] if entry else 'PAM_UNKNOWN_%d' % code


def code_message(code):
    """Readable text of a PAM return code, as ``pam_strerror`` gives it."""
    entry = RETURN_CODES.get(code)
    return entry[1] if entry else 'Unknown PAM error %d' % code


def code_from_name(name):
    """The numeric code of a symbolic name such as ``PAM_AUTH_ERR`` (``KeyError`` if unknown)."""
    return CODE_BY_NAME[name]
