# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-back after writes (verify.py, instances.py): edge cases with a small in-memory peer.

The integration targets run the same against the test CIMOM (quirks modify_drops_unlisted and
ignore_writes); these cover what a real peer does not easily show: untyped keybindings, a NULL
written, an error before any write, the facts a failure returns.
"""

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import instances, verify
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
    CIMClass, CIMInstance, CIMInstanceName, CIMProperty, CIMQualifier)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_types import Uint16
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import CIMError
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.nocasedict import NocaseDict

KEY = CIMQualifier('Key', True)
CLASS = CIMClass('SITE_Rack', properties=[
    CIMProperty('InstanceID', None, type='string', qualifiers=[KEY]),
    CIMProperty('Units', None, type='uint16'),
    CIMProperty('Room', None, type='string'),
    CIMProperty('Secret', None, type='string'),
])


class Cache(object):
    def get(self, classname, namespace=None):
        return CLASS


class Peer(object):
    """Instances by InstanceID; ``mode``: 'good', 'drop' (keeps only the PropertyList, keys
    too), 'drop_keep_keys', 'deny' (ModifyInstance refused), 'ignore' (writes not done)."""

    default_namespace = 'root/cimv2'

    def __init__(self, mode='good'):
        self.mode = mode
        self.store = {}
        self.calls = []

    def put(self, **props):
        path = CIMInstanceName('SITE_Rack', keybindings={'InstanceID': props['InstanceID']},
                               namespace='root/cimv2')
        self.store[props['InstanceID']] = CIMInstance('SITE_Rack', properties=[
            CIMProperty(name, value, type='uint16' if name == 'Units' else 'string')
            for name, value in props.items()], path=path)

    def GetInstance(self, path, **kwargs):  # pylint: disable=invalid-name
        self.calls.append(('GetInstance', None))
        inst = self.store.get(path.keybindings['InstanceID'])
        if inst is None:
            raise CIMError(6)
        return inst.copy()

    def ModifyInstance(self, modified, PropertyList=None):  # pylint: disable=invalid-name
        self.calls.append(('ModifyInstance', PropertyList))
        if self.mode == 'deny':
            raise CIMError(2)
        if self.mode == 'ignore':
            return
        key = modified.path.keybindings['InstanceID']
        if key not in self.store:
            raise CIMError(6)
        inst = self.store[key]
        for name, prop in modified.properties.items():
            if PropertyList is None or name in PropertyList:
                inst.properties[name] = prop.copy()
        if PropertyList is not None and self.mode.startswith('drop'):
            for name in list(inst.properties.keys()):
                if name not in PropertyList and not (self.mode == 'drop_keep_keys'
                                                     and name == 'InstanceID'):
                    del inst.properties[name]
            if self.mode == 'drop':
                del self.store[key]

    def DeleteInstance(self, path):  # pylint: disable=invalid-name
        self.calls.append(('DeleteInstance', None))
        if self.mode != 'ignore':
            del self.store[path.keybindings['InstanceID']]


def ensure(peer, **kwargs):
    return instances.ensure_instance(peer, Cache(), 'SITE_Rack', {'InstanceID': 'r1'},
                                     **kwargs)


def test_compare_instance_untyped_keys_and_nulls():
    path = CIMInstanceName('SITE_Rack', keybindings={'InstanceID': 'r1', 'Slot': 5})
    after = CIMInstance('SITE_Rack', properties=[
        CIMProperty('InstanceID', 'r1'), CIMProperty('Slot', Uint16(5)),
        CIMProperty('Room', 'B12')])
    wanted = NocaseDict()
    wanted['Room'] = CIMProperty('Room', None, type='string')
    wanted['Units'] = CIMProperty('Units', Uint16(4))
    lost, differ = instances.compare_instance(after, path, wanted, kept=['Secret'])
    # an untyped keybinding 5 equals Uint16(5); Room was set NULL but is still there
    assert lost == ['Units', 'Secret'] and differ == ['Room']
    assert instances.compare_instance(None, path, wanted) == (['InstanceID', 'Slot', 'Units'], [])


def test_restored_after_truncation_with_a_warning_and_no_values():
    peer = Peer('drop_keep_keys')
    peer.put(InstanceID='r1', Units=Uint16(42), Room='B12', Secret='s3cr3t')
    result = ensure(peer, properties={'Units': 48})
    assert result['changed'] and result['lost_properties'] == ['Room', 'Secret']
    assert peer.calls.count(('ModifyInstance', None)) == 1  # the restore: complete instance
    assert result['instance']['properties']['Room'] == 'B12'
    assert 'Room, Secret' in result['warnings'][0] and 's3cr3t' not in result['warnings'][0]


def test_instance_lost_fails_with_the_written_facts():
    peer = Peer('drop')
    peer.put(InstanceID='r1', Units=Uint16(42), Room='B12', Secret='s3cr3t')
    with pytest.raises(verify.WriteVerificationError) as info:
        ensure(peer, properties={'Units': 48})
    exc = info.value
    assert exc.error_name == verify.INSTANCE_LOST
    assert exc.written_result['changed'] is True and exc.written_result['instance'] is None
    assert sorted(exc.written_result['lost_properties']) == ['InstanceID', 'Room', 'Secret',
                                                             'Units']
    assert 's3cr3t' not in exc.message and 'modify_method=full_instance' in exc.message


def test_full_instance_sends_no_property_list():
    peer = Peer('drop')
    peer.put(InstanceID='r1', Units=Uint16(42), Room='B12')
    result = ensure(peer, properties={'Units': 48}, modify_method='full_instance')
    assert ('ModifyInstance', None) in peer.calls
    assert not [call for call in peer.calls if call[0] == 'ModifyInstance' and call[1]]
    assert result['lost_properties'] == [] and 'warnings' not in result
    assert result['instance']['properties'] == {'InstanceID': 'r1', 'Units': 48, 'Room': 'B12'}


def test_refused_write_has_no_written_facts():
    peer = Peer('deny')
    peer.put(InstanceID='r1', Units=Uint16(42))
    with pytest.raises(CIMError) as info:
        ensure(peer, properties={'Units': 48})
    assert getattr(info.value, 'written_result', None) is None


def test_ignored_writes_are_not_applied_and_not_deleted():
    peer = Peer('ignore')
    peer.put(InstanceID='r1', Units=Uint16(42))
    with pytest.raises(verify.WriteVerificationError) as info:
        ensure(peer, properties={'Units': 48})
    assert info.value.error_name == verify.NOT_APPLIED
    assert info.value.details['differing_properties'] == ['Units']
    with pytest.raises(verify.WriteVerificationError) as info:
        ensure(peer, state='absent')
    assert info.value.error_name == verify.NOT_DELETED
    assert info.value.written_result['action'] == 'delete'


class Module(object):
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


@pytest.mark.parametrize('written', [None, {'changed': True, 'created': [{'class': 'C'}]}])
def test_fail_on_error_returns_the_written_facts(written):
    module = Module()
    exc = CIMError(2)
    if written is not None:
        verify.attach_written(exc, written, 'x: written: create C; failed: create D')
    with pytest.raises(SystemExit):
        with verify.fail_on_error(module, changed=False):
            raise exc
    assert module.failed['changed'] is (written is not None)
    assert module.failed['error']['name'] == 'CIM_ERR_ACCESS_DENIED'
    if written is not None:
        assert module.failed['created'] == [{'class': 'C'}]
        assert module.failed['msg'].startswith(
            'CIMError: CIM_ERR_ACCESS_DENIED: x: written: create C; failed: create D: ')
