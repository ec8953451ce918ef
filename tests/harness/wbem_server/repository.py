# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIM repository of the test CIMOM: a pywbem_mock FakedWBEMConnection, filled and wired.

:func:`build` compiles the MOF schema of ``schema/`` (qualifiers.mof and classes.mof into every
namespace, interop.mof into root/interop, cimv2.mof into root/cimv2), adds the instances that
are easier to write in Python (HOSTSEC_AllTypes with exact CIM types, the CIM_Namespace
instances, ``bulk`` HOSTSEC_BulkElement instances) and registers the providers of
:mod:`.providers` and pywbem_mock's CIM_Namespace provider.

What the repository contains (tests rely on it; change it only together with them):

root/interop
    CIM_ObjectManager ``hostsec-test-cimom`` on system ``cimom.example.org``; one CIM_Namespace
    per namespace; CIM_RegisteredProfile: DMTF Profile Registration 1.0.0, WBEM Server 1.0.0,
    Indications 1.2.0, Computer System 1.0.0, SNIA Server 1.5.0, SNIA Indication 1.5.0 (with
    CIM_ReferencedProfile and CIM_ElementConformsToProfile associations); CIM_IndicationService;
    the vendor's subscription: filter ``vendor:default-alerts``, destination
    ``vendor:default-listener`` and the CIM_IndicationSubscription binding them.
root/cimv2
    CIM_ComputerSystem ``cimom.example.org``, ``node01.example.org`` and ``node02.example.org``
    (disabled, degraded); CIM_Processor CPU0/CPU1 of node01 and CPU0 of node02 (with
    CIM_SystemDevice); HOSTSEC_TestService sshd (cimom), slurmd and ntpd (node01) with
    CIM_HostedService; HOSTSEC_AllTypes ``hostsec:alltypes:1`` (every type set) and
    ``hostsec:alltypes:2`` (every property NULL) with HOSTSEC_AllTypesOwner associations;
    ``bulk`` HOSTSEC_BulkElement instances ``hostsec:bulk:00000`` ...
"""

import os
from datetime import timedelta

from pywbem import (CIMInstance, CIMInstanceName, CIMProperty, CIMDateTime, Char16, Uint8, Sint8,
                    Uint16, Sint16, Uint32, Sint32, Uint64, Sint64, Real32, Real64)
import pywbem_mock
from pywbem_mock import FakedWBEMConnection

from . import providers

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'schema')
SYSTEM_NAME = 'cimom.example.org'
OBJECT_MANAGER_NAME = 'hostsec-test-cimom'
CIMV2 = 'root/cimv2'
INTEROP = 'root/interop'
NAMESPACES = (CIMV2, INTEROP)


def _read(name):
    with open(os.path.join(SCHEMA_DIR, name), encoding='utf-8') as handle:
        return handle.read()


def _mark_embedded_objects(conn, namespace):
    """Set embedded_object on class properties, parameters and methods from their qualifiers.

    pywbem's MOF compiler only does that for instance properties; a real CIMOM sends the
    EmbeddedObject attribute in class definitions and compares it in method calls.
    """
    store = conn.cimrepository.get_class_store(namespace)
    for klass in list(store.iter_values(copy=True)):
        changed = False
        elements = list(klass.properties.values()) + list(klass.methods.values())
        for method in klass.methods.values():
            elements.extend(method.parameters.values())
        for element in elements:
            kind = None
            if 'EmbeddedInstance' in element.qualifiers:
                kind = 'instance'
            elif 'EmbeddedObject' in element.qualifiers:
                kind = 'object'
            if kind and getattr(element, 'embedded_object', None) != kind:
                element.embedded_object = kind
                changed = True
        if changed:
            store.update(klass.classname, klass)


def _embedded_system(name):
    return CIMInstance('CIM_ComputerSystem', properties=[
        CIMProperty('CreationClassName', 'CIM_ComputerSystem'),
        CIMProperty('Name', name)])


def _system_path(name, namespace=CIMV2):
    return CIMInstanceName('CIM_ComputerSystem', keybindings={'CreationClassName': 'CIM_ComputerSystem',
                                                              'Name': name}, namespace=namespace)


def all_types_instance(instance_id, with_values=True, namespace=CIMV2):
    """A HOSTSEC_AllTypes instance (with a value of each type, or with every property NULL)."""
    def prop(name, value, cimtype, is_array=False, embedded_object=None):
        return CIMProperty(name, value if with_values else None, type=cimtype, is_array=is_array,
                           embedded_object=embedded_object)

    props = [
        CIMProperty('InstanceID', instance_id),
        CIMProperty('ElementName', 'Every type, with values' if with_values else 'Every type, NULL'),
        prop('PBoolean', True, 'boolean'),
        prop('PString', 'Grüße, <CIM> & "XML" \u2713', 'string'),
        prop('PChar16', Char16('\u00df'), 'char16'),
        prop('PUint8', Uint8(255), 'uint8'),
        prop('PSint8', Sint8(-128), 'sint8'),
        prop('PUint16', Uint16(65535), 'uint16'),
        prop('PSint16', Sint16(-32768), 'sint16'),
        prop('PUint32', Uint32(4294967295), 'uint32'),
        prop('PSint32', Sint32(-2147483648), 'sint32'),
        prop('PUint64', Uint64(18446744073709551615), 'uint64'),
        prop('PSint64', Sint64(-9223372036854775808), 'sint64'),
        prop('PReal32', Real32(1.5), 'real32'),
        prop('PReal64', Real64(-2.25e-10), 'real64'),
        prop('PDateTime', CIMDateTime('20240229235959.123456+060'), 'datetime'),
        prop('PInterval', CIMDateTime(timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=500000)),
             'datetime'),
        prop('PEmbeddedInstance', _embedded_system('embedded.example.org'), 'string',
             embedded_object='instance'),
        prop('PEmbeddedObject', _embedded_system('object.example.org'), 'string', embedded_object='object'),
        prop('POctetString', [Uint8(v) for v in (0, 0, 0, 7, 1, 2, 3)], 'uint8', is_array=True),
        prop('PBooleanArray', [True, False], 'boolean', is_array=True),
        prop('PStringArray', ['one', '', 'three'], 'string', is_array=True),
        prop('PChar16Array', [Char16('a'), Char16('Z')], 'char16', is_array=True),
        prop('PUint8Array', [Uint8(0), Uint8(1), Uint8(255)], 'uint8', is_array=True),
        prop('PSint8Array', [Sint8(-1), Sint8(0), Sint8(1)], 'sint8', is_array=True),
        prop('PUint16Array', [Uint16(1), Uint16(2)], 'uint16', is_array=True),
        prop('PSint16Array', [Sint16(-2), Sint16(2)], 'sint16', is_array=True),
        prop('PUint32Array', [Uint32(0), Uint32(4294967295)], 'uint32', is_array=True),
        prop('PSint32Array', [Sint32(-7), Sint32(7)], 'sint32', is_array=True),
        prop('PUint64Array', [Uint64(0), Uint64(18446744073709551615)], 'uint64', is_array=True),
        prop('PSint64Array', [Sint64(-9223372036854775808), Sint64(9223372036854775807)], 'sint64', is_array=True),
        prop('PReal32Array', [Real32(0.5), Real32(-0.5)], 'real32', is_array=True),
        prop('PReal64Array', [Real64(3.0), Real64(1.0e100)], 'real64', is_array=True),
        prop('PDateTimeArray', [CIMDateTime('20240101000000.000000+000'), CIMDateTime('00000000000001.000000:000')],
             'datetime', is_array=True),
        prop('PEmbeddedInstanceArray', [_embedded_system('a.example.org'), _embedded_system('b.example.org')],
             'string', is_array=True, embedded_object='instance'),
    ]
    instance = CIMInstance('HOSTSEC_AllTypes', properties=props)
    instance.path = CIMInstanceName('HOSTSEC_AllTypes', keybindings={'InstanceID': instance_id}, namespace=namespace)
    return instance


def bulk_instance(index, namespace=CIMV2):
    """The HOSTSEC_BulkElement instance number ``index`` (deterministic values)."""
    instance_id = 'hostsec:bulk:%05d' % index
    instance = CIMInstance('HOSTSEC_BulkElement', properties=[
        CIMProperty('InstanceID', instance_id),
        CIMProperty('ElementName', 'bulk element %d' % index),
        CIMProperty('Caption', 'Bulk'),
        CIMProperty('Description', 'Generated instance %d of the bulk class' % index),
        CIMProperty('Generation', Uint64(index % 7)),
        CIMProperty('Index', Uint32(index)),
        CIMProperty('Label', 'label-%d' % (index % 10)),
        CIMProperty('Flag', index % 2 == 0),
        CIMProperty('Counter', Uint64(index * 1000003)),
        CIMProperty('Delta', Sint32(index % 100 - 50)),
        CIMProperty('Ratio', Real64(index / 7.0)),
        CIMProperty('Timestamp', CIMDateTime('20240101000000.000000+000')),
        CIMProperty('Tags', ['t%d' % (index % 3), 'bulk'], type='string'),
        CIMProperty('Codes', [Uint16(index % 5), Uint16(7)], type='uint16'),
    ])
    instance.path = CIMInstanceName('HOSTSEC_BulkElement', keybindings={'InstanceID': instance_id},
                                    namespace=namespace)
    return instance


def _owner_instance(element_id, system_name, note):
    element = CIMInstanceName('HOSTSEC_AllTypes', keybindings={'InstanceID': element_id}, namespace=CIMV2)
    owner = _system_path(system_name)
    instance = CIMInstance('HOSTSEC_AllTypesOwner', properties=[
        CIMProperty('Element', element, type='reference', reference_class='HOSTSEC_AllTypes'),
        CIMProperty('Owner', owner, type='reference', reference_class='CIM_ComputerSystem'),
        CIMProperty('Note', note)])
    instance.path = CIMInstanceName('HOSTSEC_AllTypesOwner', keybindings={'Element': element, 'Owner': owner},
                                    namespace=CIMV2)
    return instance


def _namespace_instance(name):
    keys = {'SystemCreationClassName': 'CIM_ComputerSystem', 'SystemName': SYSTEM_NAME,
            'ObjectManagerCreationClassName': 'CIM_ObjectManager', 'ObjectManagerName': OBJECT_MANAGER_NAME,
            'CreationClassName': 'CIM_Namespace', 'Name': name}
    instance = CIMInstance('CIM_Namespace', properties=[CIMProperty(k, v) for k, v in keys.items()] + [
        CIMProperty('ClassInfo', Uint16(0)),
        CIMProperty('ClassTypeVersion', '2.22.0'),
        CIMProperty('ElementName', name)])
    instance.path = CIMInstanceName('CIM_Namespace', keybindings=keys, namespace=INTEROP)
    return instance


def build(bulk=50, quirks=None):
    """A FakedWBEMConnection with the test schema, instances and providers.

    ``quirks`` is a callable ``quirks(name)`` returning the current value of a quirk (or None);
    the indication providers consult it.
    """
    quirks = quirks or (lambda name: None)
    conn = FakedWBEMConnection(default_namespace=CIMV2, url='http://%s:5988' % SYSTEM_NAME)
    for namespace in NAMESPACES:
        if namespace not in conn.namespaces:
            conn.add_namespace(namespace)
        conn.compile_mof_string(_read('qualifiers.mof'), namespace=namespace)
        conn.compile_mof_string(_read('classes.mof'), namespace=namespace)
        _mark_embedded_objects(conn, namespace)
    conn.compile_mof_string(_read('interop.mof'), namespace=INTEROP)
    conn.compile_mof_string(_read('cimv2.mof'), namespace=CIMV2)
    objects = [all_types_instance('hostsec:alltypes:1'), all_types_instance('hostsec:alltypes:2', with_values=False),
               _owner_instance('hostsec:alltypes:1', SYSTEM_NAME, 'first'),
               _owner_instance('hostsec:alltypes:2', 'node01.example.org', 'second')]
    objects.extend(bulk_instance(index) for index in range(bulk))
    conn.add_cimobjects(objects, namespace=CIMV2)
    conn.add_cimobjects([_namespace_instance(ns) for ns in NAMESPACES], namespace=INTEROP)

    repo = conn.cimrepository
    conn.register_provider(pywbem_mock.CIMNamespaceProvider(repo), namespaces=INTEROP)
    conn.register_provider(providers.StateChangeProvider(repo), namespaces=list(NAMESPACES))
    conn.register_provider(providers.AllTypesMethodProvider(repo), namespaces=list(NAMESPACES))
    for provider_class in (providers.IndicationFilterProvider, providers.ListenerDestinationProvider,
                           providers.IndicationSubscriptionProvider):
        conn.register_provider(provider_class(repo, quirks, SYSTEM_NAME), namespaces=list(NAMESPACES))
    return conn
