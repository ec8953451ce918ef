# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment fallback of secret options, through Ansible's own argument validation."""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.env import (
    env_fallback_nonempty_spec)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import module_args


def _validate(params):
    spec = {'password': dict(type='str', no_log=True,
                             fallback=env_fallback_nonempty_spec('HOSTSEC_T_A', 'HOSTSEC_T_B'))}
    return ArgumentSpecValidator(spec).validate(params)


def test_the_variable_is_used_and_masked(monkeypatch):
    monkeypatch.setenv('HOSTSEC_T_B', 's3cret-from-env')
    result = _validate({})
    assert result.validated_parameters['password'] == 's3cret-from-env'
    assert 's3cret-from-env' in result._no_log_values  # pylint: disable=protected-access
    monkeypatch.setenv('HOSTSEC_T_A', 'first-wins')
    assert _validate({}).validated_parameters['password'] == 'first-wins'
    assert _validate({'password': 'option-wins'}).validated_parameters['password'] == \
        'option-wins'


def test_an_empty_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv('HOSTSEC_T_A', '')
    monkeypatch.delenv('HOSTSEC_T_B', raising=False)
    assert _validate({}).validated_parameters['password'] is None


def test_wbem_uses_the_same_helper():
    assert module_args.env_fallback_nonempty is env_fallback_nonempty_spec('X')[0]
