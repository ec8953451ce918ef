# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pam_check's main() in-process: failures that cannot be provoked through a real PAM stack."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.hostsec.mgmt.plugins.module_utils.pam import client, codes, libpam
from ansible_collections.hostsec.mgmt.plugins.modules import pam_check


def run_main(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            pam_check.main()
    return json.loads(capsys.readouterr().out)


def test_libpam_missing_is_a_clear_failure(capsys, monkeypatch):
    monkeypatch.setattr(libpam.ctypes.util, 'find_library', lambda name: None)
    monkeypatch.setattr(libpam, '_LOADED', {})
    monkeypatch.setattr(libpam.ctypes, 'CDLL', _refuse_to_load)
    result = run_main(capsys, {'user': 'alice', 'password': 'TOPSECRET'})
    assert result['failed']
    assert result['msg'].startswith('MissingDependencyError: Failed to load the required system '
                                    'library libpam (Debian/Ubuntu: libpam0g; RHEL/Fedora: pam)')
    assert result['error']['class'] == 'MissingDependencyError'
    assert 'Traceback' not in json.dumps(result)
    assert 'TOPSECRET' not in json.dumps(result)


def _refuse_to_load(name, mode=0):
    raise OSError('%s: cannot open shared object file: No such file or directory' % name)


class RecordingLib(object):
    """A stand-in libpam that records calls; pam_acct_mgmt raises, like a crashing binding."""

    pam_start_confdir = None
    path = 'fake'

    def __init__(self):
        self.calls = []

    def pam_start(self, service, user, conv, handle):
        self.calls.append('pam_start')
        handle._obj.value = 1234  # pylint: disable=protected-access
        return 0

    def pam_set_item(self, handle, item, value):
        return 0

    def pam_authenticate(self, handle, flags):
        self.calls.append('pam_authenticate')
        return 0

    def pam_open_session(self, handle, flags):
        self.calls.append('pam_open_session')
        return 0

    def pam_acct_mgmt(self, handle, flags):
        raise RuntimeError('binding exploded')

    def pam_close_session(self, handle, flags):
        self.calls.append('pam_close_session')
        return 0

    def pam_end(self, handle, status):
        self.calls.append('pam_end')
        return 0


def test_pam_end_is_called_and_the_session_closed_whatever_happens():
    lib = RecordingLib()
    transaction = client.PamTransaction('login', 'alice', password='x', lib=lib)
    with pytest.raises(RuntimeError):
        with transaction:
            transaction.run_step('authenticate')
            transaction.run_step('open_session')
            transaction.run_step('acct_mgmt')
    assert lib.calls == ['pam_start', 'pam_authenticate', 'pam_open_session',
                         'pam_close_session', 'pam_end']
    assert transaction.cleanup[0]['name'] == codes.code_name(0)


def test_unexpected_errors_are_reported_with_their_class(capsys, monkeypatch):
    monkeypatch.setattr(client, 'run_check', _explode)
    result = run_main(capsys, {'user': 'alice', 'password': 'TOPSECRET'})
    assert result['failed']
    assert result['msg'] == 'Unexpected error (please report it): ZeroDivisionError: boom'
    assert 'TOPSECRET' not in json.dumps(result)


def _explode(**kwargs):
    raise ZeroDivisionError('boom')
