# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read by path of wbem_subscription (``list_owned=False``): when it may decide alone and
when it must hand over to the listing. A fake connection serves instances from a dict by path;
the real server runs in tests/integration/targets/wbem_subscription."""

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
    CIMInstance, CIMInstanceName, CIMProperty)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_types import Uint16
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import CIMError
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.subscriptions import (
    SubscriptionManager)

INTEROP = 'root/interop'
NAME = 'hostsec:ops:alerts'
SYSTEM = [('SystemCreationClassName', 'CIM_ComputerSystem'), ('SystemName', 'cimom.example.org')]
SPEC = {'query': 'SELECT * FROM CIM_AlertIndication', 'query_language': 'WQL',
        'source_namespaces': ['root/cimv2'], 'destination': 'https://listener:5999/',
        'protocol': None, 'persistence': None, 'destination_class': None,
        'subscription_state': None, 'on_fatal_error_policy': None}


def _path(classname, keys):
    return CIMInstanceName(classname, keys, namespace=INTEROP)


def _key(path):
    return repr(sorted((name.lower(), repr(value)) for name, value in path.keybindings.items()))


class FakeConn(object):
    """GetInstance from a dict; enumerations are counted and refused (the listing is not
    what these tests are about)."""

    host = 'cimom.example.org:5989'

    def __init__(self, instances):
        self.store = dict((_key(inst.path), inst) for inst in instances)
        self.calls = []
        self.known_interop = INTEROP
        self.known_system = [value for _name, value in SYSTEM]

    def GetInstance(self, path, LocalOnly=None):  # pylint: disable=invalid-name
        self.calls.append(('GetInstance', path.classname))
        inst = self.store.get(_key(path))
        if inst is None:
            raise CIMError(6)
        found = inst.copy()
        found.path = path.copy()
        return found

    def IterEnumerateInstances(self, classname, **_kwargs):  # pylint: disable=invalid-name
        self.calls.append(('Enumerate', classname))
        if classname == 'CIM_ObjectManager':  # the Interop namespace is probed first
            return iter([])
        raise LookupError('listed')


def _objects(**changes):
    filter_path = _path('CIM_IndicationFilter', SYSTEM + [
        ('CreationClassName', 'CIM_IndicationFilter'), ('Name', NAME)])
    dest_path = _path('CIM_ListenerDestinationCIMXML', SYSTEM + [
        ('CreationClassName', 'CIM_ListenerDestinationCIMXML'), ('Name', NAME)])
    sub_path = _path('CIM_IndicationSubscription', [('Filter', filter_path),
                                                    ('Handler', dest_path)])
    filter_props = [CIMProperty('Query', SPEC['query']), CIMProperty('QueryLanguage', 'WQL'),
                    CIMProperty('SourceNamespaces', ['root/cimv2'], type='string'),
                    CIMProperty('SourceNamespace', 'root/cimv2'),
                    CIMProperty('Name', NAME)]
    dest_props = [CIMProperty('Destination', SPEC['destination']),
                  CIMProperty('Protocol', Uint16(2)), CIMProperty('PersistenceType', Uint16(2))]
    sub_props = [CIMProperty('SubscriptionState', Uint16(2)),
                 CIMProperty('OnFatalErrorPolicy', Uint16(2))]
    objects = {'filter': CIMInstance('CIM_IndicationFilter', filter_props, path=filter_path),
               'destination': CIMInstance('CIM_ListenerDestinationCIMXML', dest_props,
                                          path=dest_path),
               'subscription': CIMInstance('CIM_IndicationSubscription', sub_props,
                                           path=sub_path)}
    for key, change in changes.items():
        kind, prop = key.split('__')
        if change is None:
            del objects[kind].properties[prop]
        else:
            objects[kind].properties[prop] = change
    return objects


def _ensure(objects, **spec):
    conn = FakeConn(objects)
    manager = SubscriptionManager(conn, cache=None, owner='ops', list_owned=False)
    try:
        result = manager.ensure('alerts', dict(SPEC, **spec))
    except LookupError:
        result = 'listed'
    return result, conn.calls, manager


def test_in_place_is_three_getinstance_and_nothing_else():
    (before, after), calls, manager = _ensure(_objects().values())
    assert calls == [('GetInstance', 'CIM_IndicationFilter'),
                     ('GetInstance', 'CIM_ListenerDestinationCIMXML'),
                     ('GetInstance', 'CIM_IndicationSubscription')]
    assert before == after and before['filter']['Query'] == SPEC['query']
    assert manager.actions == [] and manager.owned_names() is None


@pytest.mark.parametrize('objects,spec', [
    # a managed property differs: the listing decides what to write
    (dict(filter__Query=CIMProperty('Query', 'SELECT * FROM CIM_Other')), {}),
    (dict(subscription__SubscriptionState=CIMProperty('SubscriptionState', Uint16(4))), {}),
    # the server did not return a property that is wanted: cannot tell, so list
    (dict(destination__Destination=None), {}),
    # asked for a policy the subscription does not have
    ({}, {'on_fatal_error_policy': 'remove'}),
    # the destination is wanted under the legacy class: not found by that path
    ({}, {'destination_class': 'CIM_IndicationHandlerCIMXML'}),
], ids=['query', 'state', 'missing-property', 'policy', 'destination-class'])
def test_anything_else_goes_to_the_listing(objects, spec):
    result, calls, _manager = _ensure(_objects(**objects).values(), **spec)
    assert result == 'listed' and ('Enumerate', 'CIM_IndicationFilter') in calls


@pytest.mark.parametrize('missing', ['filter', 'destination', 'subscription'])
def test_a_missing_object_goes_to_the_listing(missing):
    objects = _objects()
    del objects[missing]
    result, calls, _manager = _ensure(objects.values())
    assert result == 'listed' and calls[-1] == ('Enumerate', 'CIM_IndicationFilter')
    assert ('Enumerate', 'CIM_IndicationSubscription') not in calls
    assert len([c for c in calls if c[0] == 'GetInstance']) <= 3


def test_a_server_error_on_the_read_goes_to_the_listing():
    objects = _objects()

    class Refusing(FakeConn):
        def GetInstance(self, path, LocalOnly=None):  # pylint: disable=invalid-name
            self.calls.append(('GetInstance', path.classname))
            raise CIMError(2, 'access denied')

    conn = Refusing(objects.values())
    manager = SubscriptionManager(conn, cache=None, owner='ops', list_owned=False)
    with pytest.raises(LookupError):
        manager.ensure('alerts', dict(SPEC))
    assert conn.calls == [('GetInstance', 'CIM_IndicationFilter'),
                          ('Enumerate', 'CIM_ObjectManager'),
                          ('Enumerate', 'CIM_IndicationFilter')]


def test_list_owned_true_never_reads_by_path():
    conn = FakeConn(_objects().values())
    manager = SubscriptionManager(conn, cache=None, owner='ops')
    with pytest.raises(LookupError):
        manager.ensure('alerts', dict(SPEC))
    assert [call for call in conn.calls if call[0] == 'GetInstance'] == []
