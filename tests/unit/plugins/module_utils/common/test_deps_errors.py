# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.deps import OptionalDependency
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import (
    HostsecError, MissingDependencyError, fail_on_error, format_error)


class FailJson(Exception):
    pass


class FakeModule(object):
    """Stands in for AnsibleModule: records what fail_json received."""

    def __init__(self):
        self.failed_with = None

    def fail_json(self, **kwargs):
        self.failed_with = kwargs
        raise FailJson()


def test_missing_python_package_names_pip_debian_and_rhel():
    dep = OptionalDependency('lxml', pip='lxml', deb='python3-lxml', rpm='python3-lxml')
    try:
        import hostsec_no_such_module  # noqa: F401  pylint: disable=unused-import,import-error
    except ImportError as exc:
        dep.failed(exc)
    assert not dep.available
    module = FakeModule()
    with pytest.raises(FailJson):
        dep.fail_if_missing(module)
    msg = module.failed_with['msg']
    assert 'pip: lxml' in msg and 'Debian/Ubuntu: python3-lxml' in msg
    assert 'RHEL/Fedora: python3-lxml' in msg
    assert "No module named 'hostsec_no_such_module'" in msg
    assert module.failed_with['error']['class'] == 'MissingDependencyError'
    with pytest.raises(MissingDependencyError):
        dep.require()


def test_present_dependency_does_nothing():
    dep = OptionalDependency('json', pip='json')
    dep.fail_if_missing(FakeModule())
    dep.require()


def test_system_library_message():
    dep = OptionalDependency('libpam', deb='libpam0g', rpm='pam', python=False)
    dep.failed(OSError('libpam.so.0: cannot open shared object file'))
    assert dep.message().startswith('Failed to load the required system library libpam '
                                    '(Debian/Ubuntu: libpam0g; RHEL/Fedora: pam)')


def test_format_error_names_class_and_protocol_error():
    assert format_error(HostsecError('Authentication failure', error_name='PAM_AUTH_ERR')) == \
        'HostsecError: PAM_AUTH_ERR: Authentication failure'
    assert format_error(HostsecError('plain')) == 'HostsecError: plain'
    assert format_error(ValueError('bad')) == 'ValueError: bad'


def test_fail_on_error_turns_domain_errors_into_one_fail_json():
    module = FakeModule()
    with pytest.raises(FailJson):
        with fail_on_error(module, changed=False):
            raise HostsecError('no such thing', error_name='CIM_ERR_NOT_FOUND',
                               details={'status': 6})
    assert module.failed_with['msg'] == 'HostsecError: CIM_ERR_NOT_FOUND: no such thing'
    assert module.failed_with['error'] == {'class': 'HostsecError', 'name': 'CIM_ERR_NOT_FOUND',
                                           'message': 'no such thing', 'status': 6}
    assert module.failed_with['changed'] is False
    assert 'exception' not in module.failed_with


def test_fail_on_error_reports_bugs_with_their_class_and_keeps_the_traceback_for_vvv():
    module = FakeModule()
    with pytest.raises(FailJson):
        with fail_on_error(module):
            {}['missing']  # pylint: disable=expression-not-assigned,pointless-statement
    assert module.failed_with['msg'].startswith('Unexpected error (please report it): KeyError')
    assert 'Traceback' not in module.failed_with['msg']
    assert 'Traceback' in module.failed_with['exception']


def test_fail_on_error_lets_exit_through():
    with pytest.raises(SystemExit):
        with fail_on_error(FakeModule()):
            raise SystemExit(0)
