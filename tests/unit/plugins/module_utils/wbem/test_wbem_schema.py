# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typing of YAML values by class declarations, comparisons, class and qualifier views."""

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import classes, schema
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
    CIMClass, CIMInstance, CIMInstanceName, CIMMethod, CIMParameter, CIMProperty, CIMQualifier,
    CIMQualifierDeclaration)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_types import (
    CIMDateTime, Real32, Real64, Uint8, Uint16, Uint32)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import (
    WBEMTypeError, WBEMValueError)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.nocasedict import NocaseDict
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.subscriptions import (
    object_name, owner_prefix)

KEY = CIMQualifier('Key', True)


def _rack_class():
    return CIMClass('SITE_Rack', superclass='CIM_ManagedElement', properties=[
        CIMProperty('InstanceID', None, type='string', qualifiers=[KEY]),
        CIMProperty('Slot', None, type='uint16', qualifiers=[KEY]),
        CIMProperty('Units', None, type='uint16'),
        CIMProperty('On', None, type='boolean'),
        CIMProperty('Ratio', None, type='real32'),
        CIMProperty('Tags', None, type='string', is_array=True),
        CIMProperty('Since', None, type='datetime'),
        CIMProperty('Owner', None, type='reference', reference_class='CIM_System'),
        CIMProperty('Embedded', None, type='string',
                    qualifiers=[CIMQualifier('EmbeddedInstance', 'CIM_System')]),
    ], methods=[
        CIMMethod('Power', return_type='uint32', parameters=[
            CIMParameter('On', 'boolean', qualifiers=[CIMQualifier('In', True)]),
            CIMParameter('Delay', 'uint32', qualifiers=[CIMQualifier('In', True)]),
            CIMParameter('Job', 'reference', reference_class='CIM_ConcreteJob',
                         qualifiers=[CIMQualifier('In', False), CIMQualifier('Out', True)]),
        ]),
    ])


def test_instance_path_types_and_orders_the_keys():
    path = schema.instance_path(_rack_class(), {'slot': '7', 'InstanceID': 'r1'}, 'root/site')
    assert list(path.keybindings) == ['InstanceID', 'Slot']
    assert path.keybindings['Slot'] == 7 and isinstance(path.keybindings['Slot'], Uint16)
    assert path.namespace == 'root/site'


@pytest.mark.parametrize('keys,message', [
    ({'InstanceID': 'r1'}, 'keys of class SITE_Rack are missing: Slot'),
    ({'InstanceID': 'r1', 'Slot': 1, 'Units': 2}, "'Units' is not a key property"),
    ({'InstanceID': 'r1', 'Slot': 1, 'Nope': 2}, "'Nope' is not a key property"),
    ({'InstanceID': None, 'Slot': 1}, 'must not be null'),
    ({}, 'keys must be a dictionary'),
])
def test_bad_keys(keys, message):
    with pytest.raises(WBEMValueError) as info:
        schema.instance_path(_rack_class(), keys, 'root/site')
    assert message in str(info.value) and info.value.error_name == 'CIM_ERR_INVALID_PARAMETER'


def test_bad_key_type():
    with pytest.raises(WBEMTypeError) as info:
        schema.instance_path(_rack_class(), {'InstanceID': 'r1', 'Slot': 70000}, 'root/site')
    assert info.value.error_name == 'CIM_ERR_TYPE_MISMATCH' and 'key Slot' in str(info.value)


def test_typed_properties_from_plain_yaml():
    props = schema.typed_properties(_rack_class(), {
        'units': '0x10', 'On': 'yes', 'Ratio': '0.5', 'Tags': ['a', 'b'],
        'Since': '20240101000000.000000+000',
        'Owner': {'classname': 'CIM_System', 'keybindings': {'Name': 'n1'}},
        'Embedded': {'classname': 'CIM_System', 'properties': {'Name': 'n1'}}})
    assert props['Units'].name == 'Units' and props['Units'].value == 16
    assert isinstance(props['Units'].value, Uint16)
    assert props['On'].value is True and isinstance(props['Ratio'].value, Real32)
    assert props['Tags'].is_array and props['Tags'].value == ['a', 'b']
    assert isinstance(props['Since'].value, CIMDateTime)
    assert isinstance(props['Owner'].value, CIMInstanceName)
    assert props['Owner'].reference_class == 'CIM_System'
    assert isinstance(props['Embedded'].value, CIMInstance)
    assert props['Embedded'].embedded_object == 'instance'


@pytest.mark.parametrize('props,name', [
    ({'Units': 'many'}, 'CIM_ERR_TYPE_MISMATCH'),
    ({'Units': -1}, 'CIM_ERR_TYPE_MISMATCH'),
    ({'On': 'maybe'}, 'CIM_ERR_TYPE_MISMATCH'),
    ({'Tags': 'not-a-list'}, 'CIM_ERR_TYPE_MISMATCH'),
    ({'Since': 'yesterday'}, 'CIM_ERR_TYPE_MISMATCH'),
    ({'Colour': 'red'}, 'CIM_ERR_NO_SUCH_PROPERTY'),
])
def test_typed_properties_errors(props, name):
    with pytest.raises((WBEMValueError, WBEMTypeError)) as info:
        schema.typed_properties(_rack_class(), props)
    assert info.value.error_name == name


def test_typed_parameters():
    klass = _rack_class()
    method = schema.method_declaration(klass, 'power')
    params = schema.typed_parameters(method, {'on': 'true', 'Delay': '5'})
    assert [(p.name, p.type, p.value) for p in params] == [
        ('On', 'boolean', True), ('Delay', 'uint32', 5)]
    assert isinstance(params[1].value, Uint32)
    extra = schema.typed_parameters(method, {'Force': 1}, types={'Force': 'uint8'})
    assert extra[0].name == 'Force' and isinstance(extra[0].value, Uint8)
    with pytest.raises(WBEMValueError, match='output parameter'):
        schema.typed_parameters(method, {'Job': None})
    with pytest.raises(WBEMValueError, match=r"no parameter 'Force' \(input parameters: On, Delay\)"):
        schema.typed_parameters(method, {'Force': 1})
    with pytest.raises(WBEMValueError) as info:
        schema.method_declaration(klass, 'Explode')
    assert info.value.error_name == 'CIM_ERR_METHOD_NOT_FOUND'


@pytest.mark.parametrize('one,two,equal', [
    (Uint16(5), Uint16(5), True),
    (Uint16(5), Uint16(6), False),
    (True, 1, False),
    (Real32(0.1), Real32(0.10000000149011612), True),
    (Real64(0.1), Real64(0.1000001), False),
    ('a', 'A', False),
    ([1, 2], [1, 2], True),
    ([1, 2], [2, 1], False),
    (None, None, True),
    (None, '', False),
    (CIMDateTime('20240101000000.000000+000'), CIMDateTime('20240101010000.000000+060'), True),
    (CIMInstanceName('CIM_X', {'Name': 'a'}, namespace='root/cimv2', host='h1'),
     CIMInstanceName('cim_x', {'name': 'a'}), True),
    (CIMInstanceName('CIM_X', {'Name': 'a'}, namespace='root/cimv2'),
     CIMInstanceName('CIM_X', {'Name': 'a'}, namespace='root/other'), False),
    (CIMInstanceName('CIM_X', {'Id': 5}), CIMInstanceName('CIM_X', {'Id': '5'}), True),
    (CIMInstance('CIM_X', properties=[CIMProperty('Name', 'a'),
                                      CIMProperty('N', None, type='uint8')]),
     CIMInstance('cim_x', properties=[CIMProperty('name', 'a')]), True),
])
def test_values_equal(one, two, equal):
    assert schema.values_equal(one, two) is equal
    assert schema.values_equal(two, one) is equal


def test_subscription_names():
    assert object_name('site-ops', 'alerts') == 'hostsec:site-ops:alerts'
    assert owner_prefix('a.b@c') == 'hostsec:a.b@c:'
    for bad in ('vendor:x', '', ' x', 'a b', '-x'):
        with pytest.raises(WBEMValueError):
            object_name(bad, 'alerts')
        with pytest.raises(WBEMValueError):
            object_name('ops', bad)


# ---------------------------------------------------------------- classes and qualifiers

DECLARATIONS = NocaseDict([
    ('Key', CIMQualifierDeclaration('Key', 'boolean', value=False)),
    ('MaxLen', CIMQualifierDeclaration('MaxLen', 'uint32')),
    ('ValueMap', CIMQualifierDeclaration('ValueMap', 'string', is_array=True)),
    ('Description', CIMQualifierDeclaration('Description', 'string')),
])


def test_desired_class_types_qualifiers_by_their_declarations():
    klass = classes.desired_class({
        'classname': 'SITE_Rack', 'superclass': 'CIM_ManagedElement',
        'qualifiers': {'description': 'a rack'},
        'properties': {'Room': {'type': 'string', 'qualifiers': {'MaxLen': '64',
                                                                 'ValueMap': '1'}},
                       'Units': {'type': 'uint16', 'default': 42}}}, DECLARATIONS)
    room = klass.properties['Room']
    assert room.qualifiers['MaxLen'].value == 64 and room.qualifiers['MaxLen'].type == 'uint32'
    assert room.qualifiers['ValueMap'].value == ['1']
    assert klass.qualifiers['Description'].value == 'a rack'
    assert klass.properties['Units'].value == 42


@pytest.mark.parametrize('definition,name', [
    ({'classname': 'X', 'qualifiers': {'Undeclared': True}}, 'CIM_ERR_INVALID_PARAMETER'),
    ({'classname': 'X', 'qualifiers': {'MaxLen': True}}, 'CIM_ERR_TYPE_MISMATCH'),
    ({'classname': 'X', 'qualifiers': {'MaxLen': 'long'}}, 'CIM_ERR_TYPE_MISMATCH'),
    ({'classname': 'X', 'properties': {'P': {'type': 'uint99'}}}, 'CIM_ERR_TYPE_MISMATCH'),
    ({'classname': 'X', 'properties': {'P': {'type': 'uint8', 'default': 300}}},
     'CIM_ERR_TYPE_MISMATCH'),
    ({'superclass': 'Y'}, 'CIM_ERR_INVALID_PARAMETER'),
])
def test_desired_class_errors(definition, name):
    with pytest.raises((WBEMValueError, WBEMTypeError)) as info:
        classes.desired_class(definition, DECLARATIONS)
    assert info.value.error_name == name


def test_class_comparison_ignores_inherited_elements_and_case():
    desired = classes.class_view(classes.desired_class({
        'classname': 'SITE_Rack', 'superclass': 'CIM_ManagedElement',
        'properties': {'Units': {'type': 'uint16', 'default': 42}}}, DECLARATIONS))
    server = CIMClass('site_rack', superclass='cim_managedelement', properties=[
        CIMProperty('units', Uint16(42), type='uint16', propagated=False),
        CIMProperty('Caption', None, type='string', propagated=True,
                    qualifiers=[CIMQualifier('Description', 'x', propagated=True)])],
        qualifiers=[CIMQualifier('Description', 'inherited', propagated=True)])
    current = classes.class_view(server, from_server=True)
    assert classes.class_differences(desired, current) == []
    server.properties['units'].value = Uint16(48)
    server.properties['Extra'] = CIMProperty('Extra', None, type='string', propagated=False)
    assert classes.class_differences(desired, classes.class_view(server, from_server=True)) == [
        'property Extra', 'property Units']


def test_qualifier_declaration_defaults_and_scopes():
    decl = classes.desired_qualifier({'name': 'Tag', 'type': 'string[]', 'value': 'a',
                                      'scopes': ['property', 'CLASS', 'class']})
    view = classes.qualifier_view(decl)
    assert view['scopes'] == ['CLASS', 'PROPERTY'] and view['value'] == ['a']
    assert view['overridable'] and view['tosubclass'] and not view['translatable']
    everywhere = classes.qualifier_view(classes.desired_qualifier(
        {'name': 'T', 'type': 'boolean', 'scopes': ['any']}))
    assert len(everywhere['scopes']) == 7
    for bad, name in (({'name': 'T', 'type': 'uint8', 'value': 300, 'scopes': ['class']},
                       'CIM_ERR_TYPE_MISMATCH'),
                      ({'name': 'T', 'type': 'string', 'scopes': ['nowhere']},
                       'CIM_ERR_INVALID_PARAMETER'),
                      ({'name': 'T', 'type': 'string', 'scopes': []},
                       'CIM_ERR_INVALID_PARAMETER')):
        with pytest.raises((WBEMValueError, WBEMTypeError)) as info:
            classes.desired_qualifier(bad)
        assert info.value.error_name == name
