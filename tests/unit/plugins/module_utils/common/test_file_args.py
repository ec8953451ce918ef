# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file options of add_file_common_args, turned into what common.files needs."""

import os

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import InvalidInputError
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.file_args import (
    file_options, parse_mode)
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.files import (
    FileWriteError, ensure_file)


class FakeModule(object):
    """What file_options uses of AnsibleModule: params, the symbolic mode parser, SELinux."""

    _symbolic_mode_to_octal = AnsibleModule._symbolic_mode_to_octal

    def __init__(self, selinux=False, current=None, **params):
        self.params = dict({'mode': None, 'owner': None, 'group': None, 'seuser': None,
                            'serole': None, 'setype': None, 'selevel': None,
                            'attributes': None, 'unsafe_writes': False}, **params)
        self.selinux = selinux
        self.current = current or ['system_u', 'object_r', 'tmp_t', 's0']
        self.contexts = []

    def selinux_enabled(self):
        return self.selinux

    def selinux_context(self, path):
        return list(self.current)

    def set_context_if_different(self, path, context, changed):
        self.contexts.append((os.path.basename(path), list(context)))
        return True


@pytest.mark.parametrize('value,mode', [
    (None, 0o600), ('0640', 0o640), ('640', 0o640), (0o400, 0o400), ('u=rw', 0o600),
    ('u=rw,g=r', 0o640), ('u=rw,go=r', 0o644), ('a=r', 0o444)])
def test_modes(value, mode):
    assert parse_mode(value, '0600', AnsibleModule._symbolic_mode_to_octal) == mode


@pytest.mark.parametrize('value', ['0999', 'rw', 'u=rwz', True, 0o17777, '-1'])
def test_bad_modes(value):
    with pytest.raises(InvalidInputError):
        parse_mode(value, '0600', AnsibleModule._symbolic_mode_to_octal)


def test_owner_only_modes_for_keys():
    assert file_options(FakeModule(mode='u=r'), '0600', owner_only=True).mode == 0o400
    with pytest.raises(InvalidInputError, match='group or others'):
        file_options(FakeModule(mode='0640'), '0600', owner_only=True)


def test_attributes_are_refused_and_unknown_owners_fail_early():
    with pytest.raises(InvalidInputError, match='attributes'):
        file_options(FakeModule(attributes='+i'), '0600')
    with pytest.raises(FileWriteError, match='unknown user'):
        file_options(FakeModule(owner='no-such-user-hostsec'), '0600')


def test_selinux_options_without_selinux_are_a_warning():
    options = file_options(FakeModule(setype='cert_t'), '0600')
    assert options.prepare is None and options.replace is None
    assert 'SELinux is not enabled' in options.warnings[0]
    assert file_options(FakeModule(), '0600').warnings == []


def test_selinux_context_goes_on_the_temporary_file_before_the_rename(tmp_path):
    module = FakeModule(selinux=True, setype='cert_t', seuser='_default')
    options = file_options(module, '0600')
    path = str(tmp_path / 'x509up')
    ensure_file(path, b'data', mode=options.mode, prepare=options.prepare)
    assert len(module.contexts) == 1
    name, context = module.contexts[0]
    assert name.startswith('.x509up.') and name.endswith('.tmp')  # not the destination
    assert context == [None, None, 'cert_t', None]
    # A kept file whose context differs is rewritten; one with the context is left alone.
    assert options.replace(path) is True
    module.current = ['system_u', 'object_r', 'cert_t', 's0']
    assert options.replace(path) is False
    assert not ensure_file(path, b'data', mode=options.mode, prepare=options.prepare,
                           replace=options.replace(path))['changed']
