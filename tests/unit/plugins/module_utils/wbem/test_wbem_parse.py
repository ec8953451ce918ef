# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The response parser: hostile input, limits, tolerance, incremental operation."""

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import (
    CIMVersionError, CIMXMLParseError, HeaderParseError, ParseError, ProtocolVersionError,
    WBEMConnectionError, XMLParseError)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.xml_parse import (
    Limits, ResponseParser)

from wbem_helpers import (connection, enum_response, http_response, imethod_response,
                          instance_xml)


def parse(data, method='EnumerateInstances', kind='imethod', limits=None, chunk=None,
          item_tags=None):
    parser = ResponseParser(kind, method, limits=limits, item_tags=item_tags)
    events = []
    step = chunk or len(data) or 1
    for start in range(0, len(data), step):
        events.extend(parser.feed(data[start:start + step]))
    events.extend(parser.close())
    return events


def test_parses_instances_in_chunks():
    events = parse(enum_response(5), chunk=7)
    items = [event[1] for event in events if event[0] == 'item']
    assert [inst['Id'] for inst in items] == [0, 1, 2, 3, 4]
    assert items[0].path['Id'] == 0
    assert events[-1] == ('ireturnvalue', 5)


BILLION_LAUGHS = b'''<?xml version="1.0"?>
<!DOCTYPE CIM [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLERSP>
<IMETHODRESPONSE NAME="GetQualifier"><IRETURNVALUE><QUALIFIER.DECLARATION NAME="Q" TYPE="string">
<VALUE>&lol9;</VALUE></QUALIFIER.DECLARATION></IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP>
</MESSAGE></CIM>'''

QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE CIM [<!ENTITY a "' + b'x' * 50000 + b'">]>'
             b'<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0">'
             b'<SIMPLERSP><IMETHODRESPONSE NAME="GetQualifier"><IRETURNVALUE>'
             b'<QUALIFIER.DECLARATION NAME="Q" TYPE="string"><VALUE>' + b'&a;' * 20000 +
             b'</VALUE></QUALIFIER.DECLARATION></IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP>'
             b'</MESSAGE></CIM>')

XXE = (b'<?xml version="1.0"?><!DOCTYPE CIM [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0">'
       b'<SIMPLERSP><IMETHODRESPONSE NAME="GetQualifier"><IRETURNVALUE>'
       b'<QUALIFIER.DECLARATION NAME="Q" TYPE="string"><VALUE>&x;</VALUE>'
       b'</QUALIFIER.DECLARATION></IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>')

EXTERNAL_DTD = (b'<?xml version="1.0"?><!DOCTYPE CIM SYSTEM "http://127.0.0.1:1/cim.dtd">'
                + enum_response(1).split(b'\n', 1)[1])


@pytest.mark.parametrize('data', [BILLION_LAUGHS, QUADRATIC, XXE, EXTERNAL_DTD],
                         ids=['billion-laughs', 'quadratic-blowup', 'xxe', 'external-dtd'])
def test_doctype_and_entities_are_refused(data):
    with pytest.raises(XMLParseError) as info:
        parse(data, method='GetQualifier', chunk=4096)
    assert 'DOCTYPE' in str(info.value) or 'not well-formed' in str(info.value)
    assert 'root:' not in str(info.value)  # nothing of /etc/passwd leaks


def test_undefined_entity_is_an_error():
    data = enum_response(1).replace(b'node0', b'&ghost;')
    with pytest.raises(XMLParseError):
        parse(data)


@pytest.mark.parametrize('cut', [10, 200, -30, -1])
def test_truncated_document(cut):
    with pytest.raises(ParseError):
        parse(enum_response(3)[:cut])


def test_empty_body():
    with pytest.raises(XMLParseError):
        parse(b'')


def test_size_limit():
    with pytest.raises(XMLParseError) as info:
        parse(enum_response(50), limits=Limits(max_size=2000), chunk=512)
    assert 'size limit' in str(info.value)


def test_text_limit():
    data = enum_response(1).replace(b'node0', b'n' * 5000)
    with pytest.raises(XMLParseError) as info:
        parse(data, limits=Limits(max_text=1000), method='EnumerateInstances')
    assert 'exceeds 1000 characters' in str(info.value) or 'text' in str(info.value)


def test_text_limit_in_property_value():
    body = imethod_response('GetQualifier', '<IRETURNVALUE><QUALIFIER.DECLARATION NAME="Q" '
                            'TYPE="string"><VALUE>%s</VALUE></QUALIFIER.DECLARATION>'
                            '</IRETURNVALUE>' % ('v' * 3000))
    with pytest.raises(XMLParseError):
        parse(body, method='GetQualifier', limits=Limits(max_text=1000))


def test_depth_limit_of_nested_references():
    inner = '<INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="K"><KEYVALUE>v</KEYVALUE>' \
            '</KEYBINDING></INSTANCENAME>'
    for _level in range(80):
        inner = '<INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="R"><VALUE.REFERENCE>%s' \
                '</VALUE.REFERENCE></KEYBINDING></INSTANCENAME>' % inner
    body = imethod_response('EnumerateInstanceNames', '<IRETURNVALUE>%s</IRETURNVALUE>' % inner)
    with pytest.raises(XMLParseError) as info:
        parse(body, method='EnumerateInstanceNames', limits=Limits(max_depth=64))
    assert 'depth' in str(info.value).lower()


def test_deep_garbage_is_refused_by_libxml2_or_the_converter():
    body = enum_response(1).replace(b'<VALUE>node0</VALUE>',
                                    b'<VALUE>' + b'<a>' * 300 + b'</a>' * 300 + b'</VALUE>')
    with pytest.raises(ParseError):
        parse(body)


@pytest.mark.parametrize('data', [
    b'\xff\xfe<CIM/>', enum_response(1).replace(b'node0', b'node\xc3\x28'),
    enum_response(1).replace(b'node0', b'node\xed\xa0\x80')],
    ids=['bom-garbage', 'invalid-utf8', 'surrogate'])
def test_invalid_utf8(data):
    with pytest.raises(XMLParseError):
        parse(data)


def test_html_error_page_with_xml_content_type():
    with pytest.raises(ParseError):
        parse(b'<html><head><title>502 Bad Gateway</title></head><body>oops</body></html>')


def test_html_page_is_refused_by_content_type():
    conn, _wire = connection(http_response(b'<html><body>Login</body></html>',
                                           content_type='text/html'))
    with pytest.raises(HeaderParseError) as info:
        conn.EnumerateInstances('T_Node')
    assert 'text/html' in str(info.value)


def test_wrong_root_and_versions():
    with pytest.raises(CIMXMLParseError):
        parse(b'<?xml version="1.0"?><WBEM/>')
    with pytest.raises(CIMVersionError):
        parse(enum_response(0).replace(b'CIMVERSION="2.0"', b'CIMVERSION="3.0"'))
    with pytest.raises(ProtocolVersionError):
        parse(enum_response(0).replace(b'PROTOCOLVERSION="1.0"', b'PROTOCOLVERSION="2.0"'))
    with pytest.raises(CIMXMLParseError):
        parse(enum_response(0), method='GetInstance')


def test_strictness():
    with pytest.raises(CIMXMLParseError):
        parse(enum_response(1).replace(b'<PROPERTY NAME="Name"', b'<PROPERTY BOGUS="1" NAME="Name"'))
    with pytest.raises(CIMXMLParseError):
        parse(enum_response(1).replace(b'<VALUE>node0</VALUE>', b'<VALUE>node0</VALUE>junk'))
    with pytest.raises(CIMXMLParseError):
        parse(enum_response(1).replace(b'<VALUE>0</VALUE>', b'<VALUE>zero</VALUE>'))
    with pytest.raises(CIMXMLParseError):
        parse(enum_response(1).replace(b'<VALUE>0</VALUE>', b'<VALUE>-1</VALUE>'))


def test_incremental_parsing_frees_converted_elements():
    parser = ResponseParser('imethod', 'EnumerateInstances')
    data = enum_response(200)
    refs = []
    for start in range(0, len(data), 512):
        for event in parser.feed(data[start:start + 512]):
            if event[0] == 'item':
                refs.append(event[1])
    parser.close()
    assert len(refs) == 200
    # every converted object was removed from the tree as soon as it had been converted
    assert len(parser.root.find('.//IRETURNVALUE')) == 0


def test_items_arrive_before_the_document_ends():
    parser = ResponseParser('imethod', 'EnumerateInstances')
    data = enum_response(50)
    half = parser.feed(data[:len(data) // 2])
    assert 10 < len([e for e in half if e[0] == 'item']) < 50


def test_either_namespace_path_form_is_accepted():
    local = ('<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/>'
             '</LOCALNAMESPACEPATH>')
    full = '<NAMESPACEPATH><HOST>srv</HOST>%s</NAMESPACEPATH>' % local
    name = ('<INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="K"><KEYVALUE>v</KEYVALUE>'
            '</KEYBINDING></INSTANCENAME>')
    inst = '<INSTANCE CLASSNAME="C"><PROPERTY NAME="K" TYPE="string"><VALUE>v</VALUE>' \
           '</PROPERTY></INSTANCE>'
    for path in ('<INSTANCEPATH>%s%s</INSTANCEPATH>' % (local, name),
                 '<LOCALINSTANCEPATH>%s%s</LOCALINSTANCEPATH>' % (full, name)):
        body = imethod_response('References', '<IRETURNVALUE><VALUE.OBJECTWITHPATH>%s%s'
                                '</VALUE.OBJECTWITHPATH></IRETURNVALUE>' % (path, inst))
        items = [e[1] for e in parse(body, method='References') if e[0] == 'item']
        assert items[0].path.namespace == 'root/cimv2'
        assert items[0]['K'] == 'v'


def test_embedded_objects_are_parsed_safely():
    embedded = ('&lt;INSTANCE CLASSNAME="E"&gt;&lt;PROPERTY NAME="P" TYPE="string"&gt;'
                '&lt;VALUE&gt;x&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;/INSTANCE&gt;')
    body = imethod_response('GetInstance', '<IRETURNVALUE><INSTANCE CLASSNAME="C">'
                            '<PROPERTY NAME="E" TYPE="string" EmbeddedObject="instance">'
                            '<VALUE>%s</VALUE></PROPERTY></INSTANCE></IRETURNVALUE>' % embedded)
    item = [e[1] for e in parse(body, method='GetInstance') if e[0] == 'item'][0]
    assert item['E']['P'] == 'x'
    hostile = '&lt;!DOCTYPE x [&lt;!ENTITY a "b"&gt;]&gt;&lt;INSTANCE CLASSNAME="E"/&gt;'
    with pytest.raises(XMLParseError):
        parse(body.replace(embedded.encode(), hostile.encode()), method='GetInstance')


def test_truncated_http_body_is_a_connection_error():
    response = http_response(enum_response(3))
    conn, _wire = connection(response[:-50])
    with pytest.raises(WBEMConnectionError) as info:
        conn.EnumerateInstances('T_Node')
    assert info.value.error_name == 'INCOMPLETE_READ'


def test_instance_xml_helper_is_valid():
    assert b'node7' in instance_xml(7).encode()


def _qualifier_declaration(attrs, value):
    body = imethod_response('GetQualifier', '<IRETURNVALUE><QUALIFIER.DECLARATION NAME="Q" '
                            'TYPE="uint16"%s><SCOPE PROPERTY="true"/>%s'
                            '</QUALIFIER.DECLARATION></IRETURNVALUE>' % (attrs, value))
    items = [event[1] for event in parse(body, method='GetQualifier') if event[0] == 'item']
    assert len(items) == 1
    return items[0]


def test_qualifier_declaration_without_isarray_but_with_an_array_value_is_an_array():
    """A broker sent an array declaration without ISARRAY (DSP0201: #IMPLIED) but with its
    default as VALUE.ARRAY: the value is unambiguous, so the declaration is an array."""
    decl = _qualifier_declaration('', '<VALUE.ARRAY><VALUE>1</VALUE><VALUE>2</VALUE>'
                                      '</VALUE.ARRAY>')
    assert decl.is_array is True and decl.value == [1, 2] and decl.type == 'uint16'
    empty = _qualifier_declaration('', '<VALUE.ARRAY></VALUE.ARRAY>')
    assert empty.is_array is True and empty.value == []
    sized = _qualifier_declaration(' ARRAYSIZE="3"', '')
    assert sized.is_array is True and sized.array_size == 3


def test_qualifier_declaration_without_isarray_and_a_scalar_or_no_value_is_scalar():
    assert _qualifier_declaration('', '<VALUE>7</VALUE>').is_array is False
    assert _qualifier_declaration('', '').is_array is False
    assert _qualifier_declaration(' ISARRAY="true"', '').is_array is True


def test_qualifier_declaration_that_contradicts_itself_is_refused():
    with pytest.raises(CIMXMLParseError) as info:
        _qualifier_declaration(' ISARRAY="false"', '<VALUE.ARRAY><VALUE>1</VALUE></VALUE.ARRAY>')
    assert "'Q'" in str(info.value)
