# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Conversion of CIM objects to and from JSON-friendly dicts (the modules' result format)."""

import json

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import convert
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
    CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMMethod, CIMParameter, CIMProperty,
    CIMQualifierDeclaration)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_types import (
    CIMDateTime, Char16, Real32, Sint8, Uint8, Uint16, Uint64)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import (
    WBEMTypeError, WBEMValueError)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.nocasedict import NocaseDict

from wbem_helpers import connection, enum_response, http_response

PATH = CIMInstanceName('CIM_Foo', {'Name': 'n1', 'Id': Uint16(7)}, namespace='root/cimv2',
                       host='srv:5989')


def _instance():
    return CIMInstance('CIM_Foo', path=PATH, properties=[
        CIMProperty('Name', 'n1'), CIMProperty('Id', Uint16(7)), CIMProperty('On', True),
        CIMProperty('Size', Uint64(2 ** 40)), CIMProperty('Delta', Sint8(-3)),
        CIMProperty('Ratio', Real32(0.5)), CIMProperty('Letter', Char16('z')),
        CIMProperty('When', CIMDateTime('20240131123005.000000+060')),
        CIMProperty('Roles', ['a', None, 'b']), CIMProperty('Empty', None, type='uint32'),
        CIMProperty('Ref', CIMInstanceName('CIM_Bar', {'K': 'v'}, namespace='root/cimv2')),
        CIMProperty('Emb', CIMInstance('CIM_E', properties={'P': 'x'}))])


def test_instance_to_dict_is_json_and_typed():
    data = convert.instance_to_dict(_instance())
    json.dumps(data)  # plain JSON
    assert data['classname'] == 'CIM_Foo'
    assert data['path'] == {'classname': 'CIM_Foo', 'namespace': 'root/cimv2', 'host': 'srv:5989',
                            'keybindings': {'Name': 'n1', 'Id': 7},
                            'uri': '//srv:5989/root/cimv2:CIM_Foo.Id=7,Name="n1"'}
    props, types = data['properties'], data['property_types']
    assert props['Size'] == 2 ** 40 and types['Size'] == 'uint64'
    assert props['When'] == '20240131123005.000000+060' and types['When'] == 'datetime'
    assert props['Roles'] == ['a', None, 'b'] and types['Roles'] == 'string[]'
    assert props['Empty'] is None and types['Empty'] == 'uint32'
    assert props['Ref']['uri'] == '/root/cimv2:CIM_Bar.K="v"' and types['Ref'] == 'reference'
    assert props['Emb']['properties'] == {'P': 'x'} and types['Emb'] == 'instance'
    assert props['Letter'] == 'z' and types['Letter'] == 'char16'


def test_instance_round_trip():
    inst = _instance()
    again = convert.instance_from_dict(json.loads(json.dumps(convert.instance_to_dict(inst))))
    assert again == inst


def test_parsed_compact_instances_convert_without_materializing():
    conn, _wire = connection(http_response(enum_response(2)))
    insts = conn.EnumerateInstances('T_Node')
    data = [convert.instance_to_dict(i) for i in insts]
    assert data[1]['properties'] == {'Id': 1, 'Name': 'node1'}
    assert data[1]['property_types'] == {'Id': 'uint32', 'Name': 'string'}
    assert data[1]['path']['uri'] == '/root/cimv2:T_Node.Id=1'
    assert convert.instance_to_dict(insts[0], property_list=['NAME'])['properties'] == {
        'Name': 'node0'}


def test_instance_from_dict_with_class_declarations():
    klass = CIMClass('CIM_Foo', properties=[CIMProperty('Count', None, type='uint8'),
                                            CIMProperty('Tags', None, type='string',
                                                        is_array=True)])
    inst = convert.instance_from_dict({'properties': {'count': 5, 'TAGS': ['a']}}, klass=klass)
    assert inst.classname == 'CIM_Foo'
    assert inst.properties['Count'].value == Uint8(5) and inst.properties['Count'].type == 'uint8'
    assert inst.properties['Count'].name == 'Count'
    with pytest.raises(WBEMValueError):
        convert.instance_from_dict({'properties': {'Count': 300}}, klass=klass)
    with pytest.raises(WBEMValueError):
        convert.instance_from_dict({'properties': {'Nope': 1}}, klass=klass)


def test_instance_from_dict_type_inference_and_errors():
    inst = convert.instance_from_dict({'classname': 'C', 'properties': {'S': 'x', 'B': False}})
    assert inst.properties['S'].type == 'string' and inst.properties['B'].type == 'boolean'
    with pytest.raises(WBEMValueError) as info:
        convert.instance_from_dict({'classname': 'C', 'properties': {'N': 5}})
    assert 'property_types' in str(info.value)
    inst = convert.instance_from_dict({'classname': 'C', 'properties': {'N': 5},
                                       'property_types': {'n': 'sint64'}})
    assert inst['N'] == 5 and inst.properties['N'].type == 'sint64'
    with pytest.raises(WBEMValueError):
        convert.instance_from_dict({'properties': {}})


@pytest.mark.parametrize('value,descriptor,expected', [
    ('7', 'uint8', Uint8(7)), (7.0, 'uint16', Uint16(7)), ('0x10', 'uint16', Uint16(16)),
    ('true', 'boolean', True), (1, 'real32', Real32(1.0)),
    ('20240101000000.000000+000', 'datetime', CIMDateTime('20240101000000.000000+000')),
    (['1', 2], 'uint8[]', [Uint8(1), Uint8(2)]), (None, 'string', None),
    ('/r:C.K="v"', 'reference', CIMInstanceName('C', {'K': 'v'}, namespace='r')),
])
def test_value_from_json(value, descriptor, expected):
    assert convert.value_from_json(value, descriptor) == expected


@pytest.mark.parametrize('value,descriptor,error', [
    (1.5, 'uint8', WBEMTypeError), (True, 'uint8', WBEMTypeError), ('x', 'uint8', WBEMValueError),
    ('ab', 'char16', WBEMValueError), (5, 'string', WBEMTypeError), ('x', 'list', WBEMValueError),
    ('a', 'string[]', WBEMTypeError), (['a'], 'string', WBEMTypeError),
    ('maybe', 'boolean', WBEMTypeError), ('x', 'real64', WBEMValueError),
])
def test_value_from_json_errors(value, descriptor, error):
    with pytest.raises(error):
        convert.value_from_json(value, descriptor)


def test_type_descriptors():
    assert convert.parse_type_descriptor('UInt32[]') == ('uint32', True, None)
    assert convert.parse_type_descriptor('instance') == ('string', False, 'instance')
    assert convert.type_descriptor('string', True, 'object') == 'object[]'


def test_path_from_dict_forms():
    data = convert.path_to_dict(PATH)
    assert convert.path_from_dict(data) == CIMInstanceName(
        'CIM_Foo', {'Name': 'n1', 'Id': 7}, namespace='root/cimv2', host='srv:5989')
    assert convert.path_from_dict(data['uri']) == convert.path_from_dict(data)
    assert convert.path_from_dict({'uri': data['uri']}) == convert.path_from_dict(data)
    nested = convert.path_from_dict({'classname': 'A', 'keybindings': {
        'R': {'classname': 'B', 'keybindings': {'K': 1}}}}, namespace='ns')
    assert nested.namespace == 'ns' and nested['R'] == CIMInstanceName('B', {'K': 1})
    with pytest.raises(WBEMValueError):
        convert.path_from_dict({'keybindings': {}})
    with pytest.raises(WBEMTypeError):
        convert.path_from_dict(5)


def test_class_round_trip():
    klass = CIMClass('CIM_Foo', superclass='CIM_Base', qualifiers={'Description': 'd'},
                     properties=[CIMProperty('Name', None, type='string',
                                             qualifiers={'Key': True}),
                                 CIMProperty('Level', Uint8(3)),
                                 CIMProperty('Ref', None, type='reference',
                                             reference_class='CIM_Bar')],
                     methods=[CIMMethod('Reset', return_type='uint32', parameters=[
                         CIMParameter('Force', 'boolean', qualifiers={'In': True}),
                         CIMParameter('Items', 'string', is_array=True)])],
                     path=CIMClassName('CIM_Foo', namespace='root/cimv2'))
    data = convert.class_to_dict(klass)
    json.dumps(data)
    assert data['properties']['Level'] == {
        'type': 'uint8', 'default': 3, 'reference_class': None, 'array_size': None,
        'class_origin': None, 'propagated': None, 'qualifiers': {}}
    assert data['methods']['Reset']['parameters']['Items']['type'] == 'string[]'
    assert convert.class_from_dict(data) == klass


def test_qualifier_declaration_round_trip():
    decl = CIMQualifierDeclaration('Values', 'string', is_array=True, value=None,
                                   scopes={'PROPERTY': True, 'METHOD': True},
                                   overridable=True, tosubclass=True, translatable=True)
    data = convert.qualifier_declaration_to_dict(decl)
    assert data['type'] == 'string[]' and data['scopes'] == ['METHOD', 'PROPERTY']
    assert convert.qualifier_declaration_from_dict(data) == decl


def test_method_result_and_generic_to_dict():
    out = NocaseDict([('Count', Uint16(3)), ('Job', CIMInstanceName('J', {'Id': 'x'}))])
    data = convert.method_result_to_dict((Uint16(0), out))
    assert data == {'return_value': 0, 'return_type': 'uint16',
                    'out_params': {'Count': 3, 'Job': convert.path_to_dict(out['Job'])},
                    'out_param_types': {'Count': 'uint16', 'Job': 'reference'}}
    assert convert.to_dict([CIMClassName('C'), PATH])[0]['uri'] == '/:C'
    assert convert.to_dict(Uint8(1)) == 1
