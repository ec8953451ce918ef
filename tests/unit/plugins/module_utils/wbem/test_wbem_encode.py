# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request building: escaping, refused characters, element forms, HTTP headers."""

import pytest
from lxml import etree

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import xml_encode as enc
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
    CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMParameter, CIMProperty,
    CIMQualifierDeclaration)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_types import (
    CIMDateTime, Char16, Real32, Uint16, Uint32)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import (
    WBEMTypeError, WBEMValueError)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.operations import (
    cimobject_header)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.xml_parse import Converter

from wbem_helpers import connection, http_response, imethod_response, method_response


def test_escaping_round_trips_through_the_parser():
    inst = CIMInstance('C', properties={'S': 'a<b>&"c\' \n\ttab'})
    xml = enc.instance_elem(inst)
    parsed = Converter().instance(etree.fromstring(xml))
    assert parsed['S'] == 'a<b>&"c\' \n\ttab'


@pytest.mark.parametrize('char', ['\x00', '\x01', '\x1b', '\ufffe'])
def test_characters_xml_cannot_carry_are_refused(char):
    with pytest.raises(WBEMValueError):
        enc.imethodcall('GetInstance', 'root/cimv2',
                        [('InstanceName', CIMInstanceName('C', {'K': 'a' + char}))])


def test_imethodcall_document():
    doc = enc.imethodcall('EnumerateInstances', '/root/cimv2/', [
        ('ClassName', CIMClassName('CIM_Foo')), ('LocalOnly', False), ('DeepInheritance', None),
        ('PropertyList', ['A', 'B'])])
    root = etree.fromstring(doc)
    assert doc.startswith(b'<?xml version="1.0" encoding="utf-8" ?>')
    call = root.find('MESSAGE/SIMPLEREQ/IMETHODCALL')
    assert call.get('NAME') == 'EnumerateInstances'
    assert [ns.get('NAME') for ns in call.find('LOCALNAMESPACEPATH')] == ['root', 'cimv2']
    params = dict((p.get('NAME'), p) for p in call.findall('IPARAMVALUE'))
    assert set(params) == {'ClassName', 'LocalOnly', 'PropertyList'}
    assert params['LocalOnly'].findtext('VALUE') == 'FALSE'
    assert [v.text for v in params['PropertyList'].find('VALUE.ARRAY')] == ['A', 'B']


def test_keyvalue_types():
    path = CIMInstanceName('C', {'S': 'x', 'B': True, 'U': Uint16(3), 'I': 7, 'F': 1.5,
                                 'D': CIMDateTime('20240101000000.000000+000'),
                                 'C': Char16('z'),
                                 'R': CIMInstanceName('D', {'K': 'v'}, namespace='n')})
    root = etree.fromstring(enc.instancename_elem(path))
    kv = dict((kb.get('NAME'), kb[0]) for kb in root)
    assert (kv['S'].get('VALUETYPE'), kv['S'].get('TYPE')) == ('string', 'string')
    assert (kv['B'].get('VALUETYPE'), kv['B'].text) == ('boolean', 'TRUE')
    assert (kv['U'].get('TYPE'), kv['U'].text) == ('uint16', '3')
    assert (kv['I'].get('VALUETYPE'), kv['I'].get('TYPE')) == ('numeric', None)
    assert kv['D'].get('TYPE') == 'datetime' and kv['C'].get('TYPE') == 'char16'
    assert kv['R'].tag == 'VALUE.REFERENCE' and kv['R'][0].tag == 'LOCALINSTANCEPATH'
    assert Converter().instancename(root) == CIMInstanceName(
        'C', {'S': 'x', 'B': True, 'U': 3, 'I': 7, 'F': 1.5,
              'D': CIMDateTime('20240101000000.000000+000'), 'C': 'z',
              'R': CIMInstanceName('D', {'K': 'v'}, namespace='n')})


def test_class_and_qualifier_declaration_round_trip():
    klass = CIMClass('C', superclass='B', properties=[
        CIMProperty('A', Real32(1.5), qualifiers={'Key': True}),
        CIMProperty('L', None, type='uint8', is_array=True, array_size=4),
        CIMProperty('R', None, type='reference', reference_class='X')])
    parsed = Converter().class_(etree.fromstring(enc.class_elem(klass)))
    assert parsed.properties['a'].value == 1.5
    assert parsed.properties['L'].array_size == 4
    assert parsed.properties['r'].reference_class == 'X'
    decl = CIMQualifierDeclaration('Q', 'string', value=['a', None], is_array=True,
                                   scopes={'CLASS': True}, overridable=False)
    again = Converter().qualifier_declaration(etree.fromstring(enc.qualifierdecl_elem(decl)))
    assert again.value == ['a', None] and again.scopes['class'] is True
    assert again.overridable is False


def test_method_params():
    xml = enc.method_params([CIMParameter('P', 'uint32', value=5), ('Q', 'x')],
                            {'R': CIMInstanceName('C', {'K': 'v'}), 'E': CIMInstance('E')})
    root = etree.fromstring('<X>%s</X>' % xml)
    types = dict((p.get('NAME'), (p.get('PARAMTYPE'), p.get('EmbeddedObject'))) for p in root)
    assert types == {'P': ('uint32', None), 'Q': ('string', None), 'R': ('reference', None),
                     'E': ('string', 'instance')}
    with pytest.raises(WBEMTypeError):
        enc.method_params(None, {'N': 5})


def test_cimobject_header_is_percent_encoded():
    assert cimobject_header('root/cimv2:C.Name="a b"') == 'root/cimv2:C.Name="a%20b"'
    assert cimobject_header('root/cimv2:C.Name="ä"') == 'root/cimv2:C.Name="%C3%A4"'


def test_request_headers_and_auth():
    conn, wire = connection(http_response(imethod_response('DeleteInstance', '')),
                            creds=('user', 'pw'), allow_plain_http_auth=True)
    conn.DeleteInstance(CIMInstanceName('C', {'K': 'v'}, namespace='interop'))
    head = wire.heads()[0]
    assert head.startswith('POST /cimom HTTP/1.1\r\n')
    for line in ('CIMOperation: MethodCall', 'CIMMethod: DeleteInstance',
                 'CIMObject: interop', 'Authorization: Basic dXNlcjpwdw==',
                 'Content-Type: application/xml; charset="utf-8"', 'TE: trailers'):
        assert line in head


def test_invoke_method_request():
    conn, wire = connection(http_response(method_response(
        'Reset', '<RETURNVALUE PARAMTYPE="uint32"><VALUE>0</VALUE></RETURNVALUE>'
                 '<PARAMVALUE NAME="Count" PARAMTYPE="uint16"><VALUE>3</VALUE></PARAMVALUE>')))
    result = conn.InvokeMethod('Reset', CIMInstanceName('C', {'K': 'v'}), Force=True,
                               Count=Uint32(2))
    assert result[0] == 0 and result[0].cimtype == 'uint32'
    assert result[1]['count'] == 3 and result[1]['COUNT'].cimtype == 'uint16'
    root = etree.fromstring(wire.bodies()[0])
    call = root.find('MESSAGE/SIMPLEREQ/METHODCALL')
    assert call[0].tag == 'LOCALINSTANCEPATH'
    assert 'CIMObject: root/cimv2:C.K="v"' in wire.heads()[0]
