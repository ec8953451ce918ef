# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIM object model: case-insensitive names, equality, paths, WBEM URIs."""

import copy

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
    CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMMethod, CIMParameter, CIMProperty,
    CIMQualifier, CIMQualifierDeclaration, cimvalue)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_types import (
    CIMDateTime, Char16, Uint8, Uint32)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import (
    WBEMTypeError, WBEMValueError)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.nocasedict import NocaseDict
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.xml_parse import Converter

from lxml import etree


def test_nocasedict():
    data = NocaseDict([('Name', 1), ('ID', 2)])
    assert data['name'] == 1 and 'id' in data and list(data) == ['Name', 'ID']
    data['NAME'] = 3
    assert data.keys() == ['Name', 'ID'] and data['Name'] == 3
    assert data == {'name': 3, 'id': 2} and data == NocaseDict({'ID': 2, 'NAME': 3})
    assert data != {'name': 3}
    del data['iD']
    assert len(data) == 1 and data.get('x', 5) == 5
    with pytest.raises(WBEMValueError):
        data[None] = 1
    copied = data.copy()
    copied['other'] = 1
    assert 'other' not in data
    assert hash(NocaseDict(a=1)) == hash(NocaseDict(A=1))


def test_instancename_equality_ignores_case_of_names_not_values():
    one = CIMInstanceName('CIM_Foo', {'Name': 'Fritz'}, namespace='root/cimv2', host='H')
    two = CIMInstanceName('cim_foo', {'NAME': 'Fritz'}, namespace='ROOT/CIMV2', host='h')
    assert one == two and hash(one) == hash(two)
    assert one != CIMInstanceName('CIM_Foo', {'Name': 'fritz'}, namespace='root/cimv2', host='H')
    assert one['name'] == 'Fritz'
    with pytest.raises(WBEMTypeError):
        assert one == 'CIM_Foo'
    with pytest.raises(TypeError):
        assert one < two


def test_instancename_keybinding_checks():
    with pytest.raises(WBEMValueError):
        CIMInstanceName('C', {'K': None})
    with pytest.raises(WBEMTypeError):
        CIMInstanceName('C', {'K': [1]})
    with pytest.raises(WBEMTypeError):
        CIMInstanceName('C', {'K': CIMInstance('X')})
    path = CIMInstanceName('C', [CIMProperty('K', Char16('a'))])
    assert isinstance(path['k'], Char16)
    assert CIMInstanceName('C', namespace='/root/cimv2/').namespace == 'root/cimv2'


@pytest.mark.parametrize('path,uri', [
    (CIMInstanceName('CIM_Foo', {'Name': 'a"b\\c', 'Id': Uint32(3), 'On': True},
                     namespace='root/cimv2', host='srv:5989'),
     '//srv:5989/root/cimv2:CIM_Foo.Id=3,Name="a\\"b\\\\c",On=TRUE'),
    (CIMInstanceName('CIM_Foo', {'Ref': CIMInstanceName('CIM_Bar', {'K': 'v'}, namespace='root')}),
     '/:CIM_Foo.Ref="/root:CIM_Bar.K=\\"v\\""'),
    (CIMInstanceName('CIM_Foo', {'When': CIMDateTime('20240101000000.000000+000')},
                     namespace='ns'),
     '/ns:CIM_Foo.When="20240101000000.000000+000"'),
])
def test_wbem_uri_round_trip(path, uri):
    assert path.to_wbem_uri() == uri
    assert str(path) == uri
    assert CIMInstanceName.from_wbem_uri(uri) == path


def test_wbem_uri_formats_and_errors():
    path = CIMInstanceName('CIM_Foo', {'Name': 'x'}, namespace='root/cimv2', host='h')
    assert path.to_wbem_uri('canonical') == '//h/root/cimv2:cim_foo.name="x"'
    assert path.to_wbem_uri('cimobject') == '/root/cimv2:CIM_Foo.Name="x"'
    local = CIMInstanceName('CIM_Foo', {'Name': 'x'}, namespace='root/cimv2')
    assert local.to_wbem_uri('cimobject') == 'root/cimv2:CIM_Foo.Name="x"'
    assert path.to_wbem_uri('historical') == '//h/root/cimv2:CIM_Foo.Name="x"'
    with pytest.raises(WBEMValueError):
        path.to_wbem_uri('fancy')
    for bad in ('CIM_Foo', '/root:CIM_Foo.', '/root:CIM_Foo.Name="x",'):
        with pytest.raises(WBEMValueError):
            CIMInstanceName.from_wbem_uri(bad)
    assert CIMInstanceName.from_wbem_uri('/r:C.A=-12,B=0x1F,C=1.5,D=\'z\'').keybindings == {
        'A': -12, 'B': 31, 'C': 1.5, 'D': 'z'}
    assert CIMClassName.from_wbem_uri('//h/root/cimv2:CIM_Foo') == CIMClassName(
        'CIM_Foo', host='h', namespace='root/cimv2')
    assert CIMClassName('C', namespace='n').to_wbem_uri('cimobject') == 'n:C'


def test_property_type_inference_and_checks():
    assert CIMProperty('P', 'x').type == 'string'
    assert CIMProperty('P', [Uint8(1), Uint8(2)]).is_array
    assert CIMProperty('P', CIMInstance('E')).embedded_object == 'instance'
    assert CIMProperty('P', 5, type='uint8').value == Uint8(5)
    assert CIMProperty('P', '20240101000000.000000+000', type='datetime').value == \
        CIMDateTime('20240101000000.000000+000')
    with pytest.raises(WBEMValueError):
        CIMProperty('P', 5)            # plain int: type needed
    with pytest.raises(WBEMValueError):
        CIMProperty('P', None)         # no type, no value
    with pytest.raises(WBEMValueError):
        CIMProperty('P', 'x', type='strange')
    with pytest.raises(WBEMValueError):
        CIMProperty('P', 300, type='uint8')
    with pytest.raises(WBEMValueError):
        CIMProperty('P', ['a'], is_array=False)
    with pytest.raises(WBEMValueError):
        CIMProperty('P', 'x', embedded_object='instance')


def test_property_equality():
    one = CIMProperty('Name', 'x', qualifiers={'Key': True})
    assert one == CIMProperty('NAME', 'x', qualifiers={'key': True})
    assert one != CIMProperty('Name', 'X', qualifiers={'Key': True})
    assert one != CIMProperty('Name', 'x')


def test_instance_item_access_and_equality():
    inst = CIMInstance('CIM_Foo', properties={'Name': 'a', 'Size': Uint32(3)},
                       path=CIMInstanceName('CIM_Foo', {'Name': 'a'}))
    assert inst['name'] == 'a' and 'SIZE' in inst and len(inst) == 2
    inst['Size'] = Uint32(4)
    assert inst.properties['size'].value == 4
    assert inst.items() == [('Name', 'a'), ('Size', 4)]
    other = CIMInstance('cim_foo', properties=[CIMProperty('name', 'a'),
                                               CIMProperty('size', Uint32(4))],
                        path=CIMInstanceName('CIM_FOO', {'NAME': 'a'}))
    assert inst == other
    clone = inst.copy()
    clone['Name'] = 'b'
    assert inst['Name'] == 'a'
    assert copy.deepcopy(inst) == inst
    with pytest.raises(KeyError):
        inst['missing']  # pylint: disable=pointless-statement


def test_compact_instance_equals_materialized():
    xml = (b'<INSTANCE CLASSNAME="C"><PROPERTY NAME="A" TYPE="uint16"><VALUE>7</VALUE>'
           b'</PROPERTY><PROPERTY.ARRAY NAME="L" TYPE="string"><VALUE.ARRAY><VALUE>x</VALUE>'
           b'<VALUE.NULL/></VALUE.ARRAY></PROPERTY.ARRAY></INSTANCE>')
    parsed = Converter().instance(etree.fromstring(xml))
    assert parsed['a'] == 7 and parsed.keys() == ['A', 'L']
    expected = CIMInstance('C', properties=[
        CIMProperty('A', 7, type='uint16', propagated=False),
        CIMProperty('L', ['x', None], type='string', propagated=False)])
    assert parsed == expected
    assert parsed.properties['L'].is_array


def test_class_method_parameter_qualifier():
    klass = CIMClass('CIM_Foo', superclass='CIM_Base',
                     properties=[CIMProperty('Name', None, type='string',
                                             qualifiers=[CIMQualifier('Key', True)])],
                     methods=[CIMMethod('Reset', return_type='uint32', parameters=[
                         CIMParameter('Force', 'boolean')])],
                     qualifiers={'Description': 'a class'},
                     path=CIMClassName('CIM_Foo', namespace='root'))
    assert klass.properties['name'].qualifiers['KEY'].value is True
    assert klass.methods['reset'].parameters['force'].type == 'boolean'
    assert klass == copy.deepcopy(klass)
    with pytest.raises(WBEMValueError):
        CIMMethod('M', return_type='reference')
    with pytest.raises(WBEMTypeError):
        CIMClass('C', methods=['x'])
    decl = CIMQualifierDeclaration('Key', 'boolean', value=False, scopes={'property': True})
    assert decl == CIMQualifierDeclaration('KEY', 'boolean', value=False,
                                           scopes={'PROPERTY': True})
    assert cimvalue(['1', '2'], 'uint8') == [Uint8(1), Uint8(2)]
    assert cimvalue('/:C.K="v"', 'reference') == CIMInstanceName('C', {'K': 'v'})
