# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kerberos error-name table against MIT's header and libcom_err's messages."""

import os
import re
import subprocess
import sys

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import codes, errors

HEADER = '/usr/include/krb5/krb5.h'  # Debian libkrb5-dev, installed by `make venv` (bindep test)


def test_table_matches_krb5_header():
    with open(HEADER) as handle:
        defines = dict((name, int(code)) for name, code in re.findall(
            r'^#define ((?:KRB5|ASN1)[A-Z0-9_]*)\s+\((-?\d+)L\)', handle.read(), re.M))
    checked = 0
    for code, name in codes.ERROR_NAMES.items():
        if name.startswith('KG_'):
            continue
        assert defines[name] == code, name
        checked += 1
    assert checked > 250
    for name in ('KRB5KDC_ERR_PREAUTH_FAILED', 'KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN',
                 'KRB5KDC_ERR_KEY_EXP', 'KRB5KRB_AP_ERR_SKEW', 'KRB5_KDC_UNREACH',
                 'KRB5_FCC_NOFILE', 'KRB5_KT_NOTFOUND', 'KRB5KDC_ERR_NAME_EXP'):
        assert codes.ERROR_NAMES[defines[name]] == name


COM_ERR_PROBE = """
import ctypes, ctypes.util, sys
com_err = ctypes.CDLL(ctypes.util.find_library('com_err'))
com_err.error_message.restype = ctypes.c_char_p
com_err.error_message.argtypes = [ctypes.c_long]
for code in sys.argv[1:]:
    print(com_err.error_message(int(code)).decode())
"""


def test_gss_krb5_codes_are_the_k5g_table():
    """The KG_* codes are in no header. libcom_err decodes any code into its table name and
    index; ``k5g 0`` .. ``k5g 16`` confirms the table base and the order of
    gssapi_err_krb5.et (the krb5 mechanism keeps the messages to itself).

    It runs in a fresh process: once libgssapi_krb5 is loaded (other tests load it), it has
    registered its messages with libcom_err and the table name no longer shows."""
    kg = sorted((code, name) for code, name in codes.ERROR_NAMES.items() if name.startswith('KG_'))
    assert len(kg) == 17
    assert kg[0][1] == 'KG_CCACHE_NOMATCH' and kg[12][1] == 'KG_EMPTY_CCACHE'
    proc = subprocess.run([sys.executable, '-c', COM_ERR_PROBE] + [str(code) for code, _name in kg],
                          capture_output=True, text=True, check=True, timeout=60)
    assert proc.stdout.splitlines() == ['Unknown code k5g %d' % index for index in range(len(kg))]


def test_unsigned_minor_status_and_errno():
    assert codes.error_name(2529638936) == 'KRB5KDC_ERR_PREAUTH_FAILED'
    assert codes.error_name(-1765328360) == 'KRB5KDC_ERR_PREAUTH_FAILED'
    assert codes.error_name(None) is None
    assert errors.code_name(2) == 'ENOENT'
    assert errors.code_name(123456789) is None


def test_every_mapped_name_exists():
    names = set(codes.ERROR_NAMES.values())
    assert set(errors.CLASSES) <= names, set(errors.CLASSES) - names


@pytest.mark.parametrize('major,name', [
    (458752, 'GSS_S_NO_CRED'), (851968, 'GSS_S_FAILURE'), (0, 'GSS_S_COMPLETE'),
    (17235968, 'GSS_S_NO_CRED'), (16777216, 'GSS_S_CALL_INACCESSIBLE_READ'),
    (589824, 'GSS_S_DEFECTIVE_TOKEN')])
def test_gss_major_names(major, name):
    assert errors.gss_major_name(major) == name


class FakeGssError(Exception):
    def __init__(self, maj_code, min_code, messages):
        super(FakeGssError, self).__init__('fake')
        self.maj_code = maj_code
        self.min_code = min_code
        self.messages = messages

    def get_all_statuses(self, code, is_major):
        return [self.messages[is_major]]


def test_from_gss_uses_the_kerberos_minor_status():
    exc = FakeGssError(458752, 2529638936, {True: 'No credentials', False: 'Preauthentication failed'})
    error = errors.from_gss(exc, 'acquiring')
    assert isinstance(error, errors.PreauthFailedError)
    assert error.error_name == 'KRB5KDC_ERR_PREAUTH_FAILED'
    assert str(error) == 'acquiring: Preauthentication failed'
    assert error.details['gss_major_name'] == 'GSS_S_NO_CRED'
    assert error.details['code'] == -1765328360


def test_from_gss_without_minor_is_a_gss_error():
    exc = FakeGssError(851968, 0, {True: 'Unspecified GSS failure', False: ''})
    error = errors.from_gss(exc)
    assert isinstance(error, errors.GssError) and not isinstance(error, errors.PreauthFailedError)
    assert error.error_name == 'GSS_S_FAILURE'


def test_from_krb5_strips_the_number():
    class FakeKrb5Error(Exception):
        err_code = -1765328189

        def __str__(self):
            return 'No credentials cache found (filename: /x) -1765328189'
    error = errors.from_krb5(FakeKrb5Error(), 'reading')
    assert isinstance(error, errors.CcacheNotFoundError)
    assert str(error) == 'reading: No credentials cache found (filename: /x)'


def test_generator_is_in_sync(tmp_path):
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))))
    out = subprocess.run([sys.executable, os.path.join(root, 'tools', 'gen_krb5_codes.py'), HEADER],
                         capture_output=True, text=True, check=True).stdout
    with open(os.path.join(root, 'plugins', 'module_utils', 'krb5', 'codes.py')) as handle:
        assert handle.read() == out
