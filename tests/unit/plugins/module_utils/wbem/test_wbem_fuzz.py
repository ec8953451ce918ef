# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fuzzing the response side of the WBEM client with hypothesis.

Random bytes, random CIM-XML-like element trees and mutations of valid responses are fed to
the parser and to whole operations (through the HTTP layer). Whatever comes in, the client
either returns a result or raises one of its WBEMError classes -- never an lxml, socket,
KeyError, TypeError ... traceback. Example counts are bounded so this runs in seconds.
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
    CIMClassName, CIMInstanceName)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import WBEMError
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.xml_parse import (
    Limits, ResponseParser)

from wbem_helpers import (connection, enum_response, http_response, imethod_response,
                          instance_xml, method_response)

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

LOCALNS = '<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/></LOCALNAMESPACEPATH>'
NAMESPACEPATH = '<NAMESPACEPATH><HOST>h</HOST>%s</NAMESPACEPATH>' % LOCALNS
CLASS = ('<CLASS NAME="C" SUPERCLASS="B"><QUALIFIER NAME="Description" TYPE="string">'
         '<VALUE>d</VALUE></QUALIFIER><PROPERTY NAME="P" TYPE="uint8"><VALUE>1</VALUE>'
         '</PROPERTY><PROPERTY.ARRAY NAME="A" TYPE="sint32" ARRAYSIZE="2"><VALUE.ARRAY>'
         '<VALUE>1</VALUE><VALUE.NULL/></VALUE.ARRAY></PROPERTY.ARRAY><PROPERTY.REFERENCE '
         'NAME="R" REFERENCECLASS="X"/><METHOD NAME="M" TYPE="uint32"><PARAMETER NAME="I" '
         'TYPE="string"/><PARAMETER.REFARRAY NAME="L" REFERENCECLASS="X"/></METHOD></CLASS>')
EMBEDDED = ('<INSTANCE CLASSNAME="C"><PROPERTY NAME="E" TYPE="string" EmbeddedObject="instance">'
            '<VALUE>&lt;INSTANCE CLASSNAME="E"&gt;&lt;PROPERTY NAME="D" TYPE="datetime"&gt;'
            '&lt;VALUE&gt;20240101000000.000000+000&lt;/VALUE&gt;&lt;/PROPERTY&gt;'
            '&lt;/INSTANCE&gt;</VALUE></PROPERTY><PROPERTY NAME="C" TYPE="char16"><VALUE>c'
            '</VALUE></PROPERTY><PROPERTY NAME="B" TYPE="boolean"><VALUE>true</VALUE>'
            '</PROPERTY><PROPERTY NAME="F" TYPE="real64"><VALUE>1.5e3</VALUE></PROPERTY>'
            '</INSTANCE>')

SEEDS = [
    ('EnumerateInstances', enum_response(3)),
    ('GetClass', imethod_response('GetClass', '<IRETURNVALUE>%s</IRETURNVALUE>' % CLASS)),
    ('GetInstance', imethod_response('GetInstance', '<IRETURNVALUE>%s</IRETURNVALUE>'
                                     % EMBEDDED)),
    ('References', imethod_response('References', (
        '<IRETURNVALUE><VALUE.OBJECTWITHPATH><INSTANCEPATH>%s<INSTANCENAME CLASSNAME="A">'
        '<KEYBINDING NAME="R"><VALUE.REFERENCE><INSTANCEPATH>%s<INSTANCENAME CLASSNAME="B">'
        '<KEYBINDING NAME="K"><KEYVALUE VALUETYPE="numeric">5</KEYVALUE></KEYBINDING>'
        '</INSTANCENAME></INSTANCEPATH></VALUE.REFERENCE></KEYBINDING></INSTANCENAME>'
        '</INSTANCEPATH><INSTANCE CLASSNAME="A"/></VALUE.OBJECTWITHPATH></IRETURNVALUE>')
        % (NAMESPACEPATH, NAMESPACEPATH))),
    ('OpenEnumerateInstances', imethod_response('OpenEnumerateInstances', (
        '<IRETURNVALUE></IRETURNVALUE><PARAMVALUE NAME="EndOfSequence"><VALUE>FALSE</VALUE>'
        '</PARAMVALUE><PARAMVALUE NAME="EnumerationContext"><VALUE>c1</VALUE></PARAMVALUE>'))),
    ('EnumerateQualifiers', imethod_response('EnumerateQualifiers', (
        '<IRETURNVALUE><QUALIFIER.DECLARATION NAME="Key" TYPE="boolean" ISARRAY="false" '
        'OVERRIDABLE="false"><SCOPE PROPERTY="true" REFERENCE="true"/><VALUE>false</VALUE>'
        '</QUALIFIER.DECLARATION></IRETURNVALUE>'))),
    ('GetInstance', imethod_response('GetInstance', '<ERROR CODE="6" DESCRIPTION="x">%s'
                                     '</ERROR>' % EMBEDDED)),
    ('InvokeMethod', method_response('M', (
        '<RETURNVALUE PARAMTYPE="uint32"><VALUE>0</VALUE></RETURNVALUE><PARAMVALUE NAME="O" '
        'PARAMTYPE="reference"><VALUE.REFERENCE><LOCALINSTANCEPATH>%s<INSTANCENAME '
        'CLASSNAME="C"><KEYVALUE>k</KEYVALUE></INSTANCENAME></LOCALINSTANCEPATH>'
        '</VALUE.REFERENCE></PARAMVALUE>') % LOCALNS)),
]

PATH = CIMInstanceName('C', {'K': 'v'})
CALLS = {
    'EnumerateInstances': lambda c: c.EnumerateInstances('T_Node'),
    'GetClass': lambda c: c.GetClass('C'),
    'GetInstance': lambda c: c.GetInstance(PATH),
    'References': lambda c: c.References(PATH),
    'OpenEnumerateInstances': lambda c: c.OpenEnumerateInstances('C'),
    'EnumerateQualifiers': lambda c: c.EnumerateQualifiers(),
    'InvokeMethod': lambda c: c.InvokeMethod('M', CIMClassName('C')),
}


def run_operation(method, body, raw=False):
    conn, _wire = connection(body if raw else http_response(body))
    try:
        CALLS[method](conn)
    except WBEMError:
        pass


def run_parser(method, data, chunk):
    kind = 'method' if method == 'InvokeMethod' else 'imethod'
    parser = ResponseParser(kind, 'M' if kind == 'method' else method,
                            limits=Limits(max_size=1 << 20, max_depth=32, max_text=4096))
    try:
        for start in range(0, len(data), chunk):
            parser.feed(data[start:start + chunk])
        parser.close()
    except WBEMError:
        pass


@FUZZ
@given(st.binary(max_size=2000), st.integers(1, 64))
def test_random_bytes(data, chunk):
    run_parser('EnumerateInstances', data, chunk)


@FUZZ
@given(st.binary(max_size=600))
def test_random_http_responses(data):
    run_operation('EnumerateInstances', data, raw=True)


MUTATION = st.tuples(st.sampled_from(['delete', 'insert', 'duplicate', 'replace', 'retag']),
                     st.integers(0, 10 ** 6), st.integers(0, 40),
                     st.binary(min_size=1, max_size=12))
TAGS = [b'INSTANCE', b'VALUE', b'PROPERTY', b'KEYBINDING', b'INSTANCENAME', b'VALUE.ARRAY',
        b'CLASS', b'IRETURNVALUE', b'PARAMVALUE', b'ERROR', b'CIM', b'VALUE.REFERENCE',
        b'LOCALNAMESPACEPATH', b'METHOD', b'SCOPE', b'TYPE="uint8"', b'TYPE="datetime"',
        b'EmbeddedObject="object"', b'&lt;', b'&amp;', b'"', b'<', b'>', b'/']


def mutate(data, mutations):
    data = bytearray(data)
    for kind, pos, length, blob in mutations:
        pos %= max(len(data), 1)
        if kind == 'delete':
            del data[pos:pos + length]
        elif kind == 'insert':
            data[pos:pos] = blob
        elif kind == 'duplicate':
            data[pos:pos] = data[pos:pos + length]
        elif kind == 'replace':
            data[pos:pos + len(blob)] = blob
        else:
            data[pos:pos] = TAGS[length % len(TAGS)]
    return bytes(data)


@FUZZ
@given(st.sampled_from(range(len(SEEDS))), st.lists(MUTATION, min_size=1, max_size=4),
       st.integers(1, 300))
def test_mutated_responses_in_the_parser(seed, mutations, chunk):
    method, body = SEEDS[seed]
    run_parser(method, mutate(body, mutations), chunk)


@FUZZ
@given(st.sampled_from(range(len(SEEDS))), st.lists(MUTATION, min_size=1, max_size=3))
def test_mutated_responses_through_operations(seed, mutations):
    method, body = SEEDS[seed]
    run_operation(method, mutate(body, mutations))


ELEMENTS = ['INSTANCE', 'PROPERTY', 'PROPERTY.ARRAY', 'PROPERTY.REFERENCE', 'VALUE',
            'VALUE.ARRAY', 'VALUE.NULL', 'VALUE.REFERENCE', 'VALUE.NAMEDINSTANCE',
            'INSTANCENAME', 'KEYBINDING', 'KEYVALUE', 'INSTANCEPATH', 'LOCALINSTANCEPATH',
            'NAMESPACEPATH', 'LOCALNAMESPACEPATH', 'NAMESPACE', 'HOST', 'CLASS', 'CLASSNAME',
            'QUALIFIER', 'METHOD', 'PARAMETER', 'VALUE.OBJECTWITHPATH', 'SCOPE']
ATTRS = st.dictionaries(
    st.sampled_from(['NAME', 'TYPE', 'CLASSNAME', 'VALUETYPE', 'EmbeddedObject', 'ARRAYSIZE',
                     'PROPAGATED', 'REFERENCECLASS', 'ISARRAY', 'CLASS']),
    st.sampled_from(['x', 'uint8', 'string', 'datetime', 'char16', 'boolean', 'numeric',
                     'instance', 'object', 'true', '-1', '', 'reference', 'real32']),
    max_size=3)


def xml_tree(depth=3):
    leaf = st.builds(lambda tag, attrs, text: (tag, attrs, text, []), st.sampled_from(ELEMENTS),
                     ATTRS, st.sampled_from(['', '1', '300', 'x', 'true', '1.5',
                                             '20240101000000.000000+000', '&lt;INSTANCE/&gt;']))
    return st.recursive(leaf, lambda children: st.builds(
        lambda tag, attrs, kids: (tag, attrs, '', kids), st.sampled_from(ELEMENTS), ATTRS,
        st.lists(children, max_size=4)), max_leaves=12)


def render(node):
    tag, attrs, text, kids = node
    attr_text = ''.join(' %s="%s"' % item for item in attrs.items())
    return '<%s%s>%s%s</%s>' % (tag, attr_text, text, ''.join(render(k) for k in kids), tag)


@FUZZ
@given(st.lists(xml_tree(), min_size=1, max_size=3),
       st.sampled_from(['EnumerateInstances', 'GetInstance', 'References', 'GetClass']))
def test_random_cim_xml_trees(items, method):
    body = imethod_response(method, '<IRETURNVALUE>%s</IRETURNVALUE>'
                            % ''.join(render(item) for item in items))
    run_parser(method, body, 128)
    run_operation(method, body)


def test_seeds_are_valid():
    for method, body in SEEDS:
        conn, _wire = connection(http_response(body))
        try:
            CALLS[method](conn)
        except WBEMError as exc:
            assert method == 'GetInstance' and exc.error_name == 'CIM_ERR_NOT_FOUND'
    assert b'node2' in instance_xml(2).encode()


@pytest.mark.parametrize('value,paramtype', [('1', 'eference'), ('x', 'uint8'), (['1', 'y'], 'sint16')])
def test_a_bad_paramtype_from_the_server_is_a_parse_error(value, paramtype):
    """Found by the fuzzer: PARAMTYPE="eference" raised WBEMValueError, an input error class."""
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import operations
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.exceptions import CIMXMLParseError
    with pytest.raises(CIMXMLParseError, match='PARAMTYPE'):
        operations._typed(value, paramtype)  # pylint: disable=protected-access
