# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared connection options of the wbem modules: spec, doc fragment, environment."""

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hostsec.mgmt.plugins.doc_fragments.wbem import ModuleDocFragment
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import InvalidInputError
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import module_args
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.operations import WBEMConnection


@pytest.fixture(autouse=True)
def no_wbem_environment(monkeypatch):
    for name in module_args.ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)


def validate(params):
    result = ArgumentSpecValidator(module_args.wbem_argument_spec()).validate(params)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters, result._no_log_values  # pylint: disable=protected-access


def validated_params(params):
    return validate(params)[0]


def test_doc_fragment_documents_every_option_as_the_spec_has_it():
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    spec = module_args.wbem_common_argument_spec()
    assert sorted(doc) == sorted(spec)
    for name, option in spec.items():
        assert doc[name]['type'] == option['type'], name
        assert doc[name].get('default') == option.get('default'), name
        variable = module_args.ENVIRONMENT[name]
        assert 'E(%s)' % variable in ' '.join(doc[name]['description']), name
    assert spec['password']['no_log'] is True


def test_module_options_are_added():
    spec = module_args.wbem_argument_spec(class_name=dict(type='str'))
    assert 'class_name' in spec and 'server' in spec


def test_environment_fallbacks(monkeypatch):
    monkeypatch.setenv('WBEM_SERVER', 'https://cimom.example.org')
    monkeypatch.setenv('WBEM_USERNAME', 'admin')
    monkeypatch.setenv('WBEM_PASSWORD', 'env-Secret-1')
    monkeypatch.setenv('WBEM_NAMESPACE', 'root/interop')
    monkeypatch.setenv('WBEM_VALIDATE_CERTS', 'no')
    monkeypatch.setenv('WBEM_TIMEOUT', '2.5')
    params, no_log_values = validate({})
    assert params['server'] == 'https://cimom.example.org'
    assert params['username'] == 'admin' and params['password'] == 'env-Secret-1'
    assert params['namespace'] == 'root/interop'
    assert params['validate_certs'] is False and params['timeout'] == 2.5
    # A password from the environment is hidden like one given as an option.
    assert 'env-Secret-1' in no_log_values
    # Options win over the environment.
    params = validated_params({'server': 'https://other.example.org', 'namespace': 'root/x'})
    assert params['server'] == 'https://other.example.org' and params['namespace'] == 'root/x'


def test_empty_environment_variables_count_as_unset(monkeypatch):
    monkeypatch.setenv('WBEM_VALIDATE_CERTS', '')
    monkeypatch.setenv('WBEM_NAMESPACE', '')
    params = validated_params({})
    assert params['validate_certs'] is True and params['namespace'] == 'root/cimv2'
    assert params['timeout'] == 30.0 and params['allow_plain_http_auth'] is False


def test_connection_from_params(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('not used before connecting')
    params = validated_params({'server': 'http://127.0.0.1:5988', 'username': 'u',
                               'password': 'p', 'allow_plain_http_auth': True,
                               'namespace': '/root/interop/', 'timeout': 3})
    conn = module_args.connection_from_params(params)
    assert isinstance(conn, WBEMConnection)
    assert conn.url == 'http://127.0.0.1:5988' and conn.creds == ('u', 'p')
    assert conn.default_namespace == 'root/interop' and conn.timeout == 3
    kwargs = module_args.connection_kwargs(dict(params, client_cert=str(ca), client_key=None))
    assert kwargs['x509'] == {'cert_file': str(ca), 'key_file': str(ca)}
    assert module_args.connection_facts(params) == {'server': 'http://127.0.0.1:5988',
                                                    'namespace': 'root/interop'}


@pytest.mark.parametrize('params,name', [
    ({}, 'NO_SERVER'),
    ({'server': 'https://h', 'username': 'u'}, 'NO_PASSWORD'),
    ({'server': 'https://h', 'password': 'p'}, 'NO_USERNAME'),
    ({'server': 'https://h', 'client_key': '/k.pem'}, 'NO_CLIENT_CERT'),
    ({'server': 'https://h', 'ca_certs': '/nonexistent/ca.pem'}, 'ENOENT'),
    ({'server': 'https://h', 'timeout': 0}, 'INVALID_TIMEOUT'),
])
def test_invalid_connection_options(params, name):
    validated = validated_params(params)
    with pytest.raises(InvalidInputError) as info:
        module_args.connection_kwargs(validated)
    assert info.value.error_name == name


def test_password_over_plain_http_is_refused():
    params = validated_params({'server': 'http://127.0.0.1', 'username': 'u', 'password': 'Pw-1'})
    with pytest.raises(InvalidInputError) as info:
        module_args.connection_from_params(params)
    assert info.value.error_name == 'INSECURE_AUTH' and 'Pw-1' not in str(info.value)
