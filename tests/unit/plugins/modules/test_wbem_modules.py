# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wbem modules' main() in-process, for the paths that need no server.

Port 1 of 127.0.0.1 is used as the server where a module must not get as far as connecting,
or where the connection must fail cleanly: nothing listens there.
"""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML, module_args
from ansible_collections.hostsec.mgmt.plugins.modules import (
    wbem_class, wbem_info, wbem_instance, wbem_method, wbem_qualifier, wbem_subscription)

SECRET = 'TOPSECRET-wbem-Password'
DEAD = 'https://127.0.0.1:1'
CONNECTION = {'server': DEAD, 'username': 'admin', 'password': SECRET}

MODULES = [
    (wbem_info, {'class_name': 'CIM_ComputerSystem'}),
    (wbem_instance, {'class_name': 'CIM_X', 'keys': {'Name': 'x'}}),
    (wbem_method, {'class_name': 'CIM_X', 'method': 'Reset'}),
    (wbem_class, {'class_name': 'CIM_X', 'state': 'absent'}),
    (wbem_qualifier, {'name': 'Tag', 'state': 'absent'}),
    (wbem_subscription, {'owner': 'ops', 'state': 'absent'}),
]
IDS = [module.__name__.rsplit('.', 1)[-1] for module, _args in MODULES]


@pytest.fixture(autouse=True)
def no_wbem_environment(monkeypatch):
    for name in module_args.ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)


def run_main(capsys, module, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


@pytest.mark.parametrize('module,args', MODULES, ids=IDS)
def test_missing_lxml_names_the_packages(capsys, monkeypatch, module, args):
    monkeypatch.setattr(LXML, 'error', "ImportError: No module named 'lxml'")
    result = run_main(capsys, module, dict(args, **CONNECTION))
    assert result['failed'] and result['error']['class'] == 'MissingDependencyError'
    assert 'python3-lxml' in result['msg'] and 'pip: lxml' in result['msg']


@pytest.mark.parametrize('module,args', MODULES, ids=IDS)
def test_no_server(capsys, module, args):
    result = run_main(capsys, module, args)
    assert result['failed']
    assert result['msg'] == ('InvalidInputError: NO_SERVER: no WBEM server: set the server '
                             'option or WBEM_SERVER')
    assert 'exception' not in result


@pytest.mark.parametrize('module,args', MODULES, ids=IDS)
def test_dead_server_is_a_clean_failure(capsys, module, args):
    result = run_main(capsys, module, dict(args, **CONNECTION))
    assert result['failed'] and not result['changed']
    assert result['error']['class'] == 'WBEMConnectionError'
    assert result['error']['name'] == 'ECONNREFUSED'
    assert result['msg'].startswith('WBEMConnectionError: ECONNREFUSED: ')
    assert 'exception' not in result


def test_connection_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv('WBEM_SERVER', DEAD)
    monkeypatch.setenv('WBEM_USERNAME', 'admin')
    monkeypatch.setenv('WBEM_PASSWORD', SECRET)
    result = run_main(capsys, wbem_info, {'class_name': 'CIM_ComputerSystem'})
    assert result['error']['name'] == 'ECONNREFUSED'
    assert result['invocation']['module_args']['password'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def test_info_needs_something_to_read(capsys):
    result = run_main(capsys, wbem_info, CONNECTION)
    assert result['failed'] and result['msg'] == ('set class_name (to enumerate its '
                                                  'instances), query, or gather')


def test_info_gather_needs_its_options(capsys):
    result = run_main(capsys, wbem_info, dict(CONNECTION, gather='instance',
                                              class_name='CIM_X'))
    assert result['error']['name'] == 'CIM_ERR_INVALID_PARAMETER'
    assert 'keys (or path)' in result['msg']


def test_class_mof_errors_come_before_any_connection(capsys):
    result = run_main(capsys, wbem_class, dict(CONNECTION, mof='class A { string x }'))
    assert result['error']['class'] == 'MOFParseError'
    assert result['msg'] == "MOFParseError: MOF_PARSE_ERROR: MOF line 1: expected ';', found '}'"


def test_class_present_needs_a_definition(capsys):
    result = run_main(capsys, wbem_class, dict(CONNECTION, class_name='CIM_X'))
    assert result['failed'] and 'mof, definition' in result['msg']


def test_qualifier_present_needs_type_and_scopes(capsys):
    result = run_main(capsys, wbem_qualifier, dict(CONNECTION, name='Tag'))
    assert result['failed'] and result['msg'] == 'state=present needs type and scopes (or mof)'


def test_subscription_present_needs_query_and_destination(capsys):
    result = run_main(capsys, wbem_subscription, dict(CONNECTION, owner='ops', name='alerts'))
    assert result['failed'] and 'query, destination' in result['msg']


def test_subscription_owner_is_checked_before_connecting(capsys):
    result = run_main(capsys, wbem_subscription, dict(CONNECTION, owner='a:b', name='x',
                                                      state='absent'))
    assert result['error']['name'] == 'CIM_ERR_INVALID_PARAMETER' and 'owner' in result['msg']


def test_method_keys_and_path_exclude_each_other(capsys):
    result = run_main(capsys, wbem_method, dict(CONNECTION, class_name='CIM_X', method='M',
                                                keys={'Name': 'a'}, path='/root:CIM_X.Name="a"'))
    assert result['failed'] and 'mutually exclusive' in result['msg']
