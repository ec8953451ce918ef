# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WBEMConnection behaviour beyond the recorded cases: tolerance, iterators, pull fallback,
connection reuse, argument checks."""

import pytest
from lxml import etree

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import exceptions as exc
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
    CIMInstance, CIMInstanceName)

from wbem_helpers import (connection, enum_response, http_response, imethod_response,
                          instance_xml)

PATH = CIMInstanceName('T_Node', {'Id': 1})


def _instance_with_path(i):
    return ('<VALUE.INSTANCEWITHPATH><INSTANCEPATH><NAMESPACEPATH><HOST>srv</HOST>'
            '<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/></LOCALNAMESPACEPATH></NAMESPACEPATH>'
            '<INSTANCENAME CLASSNAME="T_Node"><KEYBINDING NAME="Id"><KEYVALUE VALUETYPE='
            '"numeric" TYPE="uint32">%d</KEYVALUE></KEYBINDING></INSTANCENAME></INSTANCEPATH>'
            '<INSTANCE CLASSNAME="T_Node"><PROPERTY NAME="Id" TYPE="uint32"><VALUE>%d</VALUE>'
            '</PROPERTY></INSTANCE></VALUE.INSTANCEWITHPATH>' % (i, i))


def pull_response(method, ids, context=None):
    eos = 'TRUE' if context is None else 'FALSE'
    return http_response(imethod_response(method, (
        '<IRETURNVALUE>%s</IRETURNVALUE><PARAMVALUE NAME="EndOfSequence"><VALUE>%s</VALUE>'
        '</PARAMVALUE><PARAMVALUE NAME="EnumerationContext"><VALUE>%s</VALUE></PARAMVALUE>'
        % (''.join(_instance_with_path(i) for i in ids), eos, context or ''))))


def error_response(method, code):
    return http_response(imethod_response(method, '<ERROR CODE="%d"/>' % code))


@pytest.mark.parametrize('method,call', [
    ('ModifyInstance', lambda c: c.ModifyInstance(CIMInstance('T_Node', {'Name': 'x'},
                                                              path=PATH))),
    ('DeleteInstance', lambda c: c.DeleteInstance(PATH)),
    ('DeleteClass', lambda c: c.DeleteClass('T_Node')),
])
def test_empty_ireturnvalue_is_tolerated_for_void_operations(method, call):
    for body in ('', '<IRETURNVALUE></IRETURNVALUE>', '<IRETURNVALUE> </IRETURNVALUE>'):
        conn, _wire = connection(http_response(imethod_response(method, body)))
        assert call(conn) is None


def test_content_in_ireturnvalue_of_a_void_operation_is_an_error():
    conn, _wire = connection(http_response(imethod_response(
        'DeleteInstance', '<IRETURNVALUE>%s</IRETURNVALUE>' % instance_xml(1))))
    with pytest.raises(exc.CIMXMLParseError):
        conn.DeleteInstance(PATH)


def test_enumerate_sets_namespace_and_connection_is_reused():
    conn, wire = connection(http_response(enum_response(3)), http_response(enum_response(2)),
                            default_namespace='root/test')
    first = conn.EnumerateInstances('T_Node')
    second = conn.EnumerateInstances('T_Node', namespace='/other/')
    assert [i.path.namespace for i in first] == ['root/test'] * 3
    assert second[0].path.namespace == 'other'
    assert wire.connects == 1


def test_iterator_falls_back_when_pull_is_not_supported():
    conn, wire = connection(error_response('OpenEnumerateInstances', 7),
                            http_response(enum_response(4)),
                            http_response(enum_response(2)))
    got = list(conn.IterEnumerateInstances('T_Node', MaxObjectCount=10))
    assert [i['Id'] for i in got] == [0, 1, 2, 3]
    assert got[0].path.host == '127.0.0.1:5988'
    # the decision is remembered: the next call goes straight to EnumerateInstances
    assert len(list(conn.IterEnumerateInstances('T_Node'))) == 2
    methods = [etree.fromstring(b).find('.//IMETHODCALL').get('NAME') for b in wire.bodies()]
    assert methods == ['OpenEnumerateInstances', 'EnumerateInstances', 'EnumerateInstances']


def test_iterator_falls_back_on_cim_err_failed_but_not_on_other_errors():
    conn, _wire = connection(error_response('OpenEnumerateInstances', 1),
                             http_response(enum_response(1)))
    assert len(list(conn.IterEnumerateInstances('T_Node'))) == 1
    conn, _wire = connection(error_response('OpenEnumerateInstances', 2))
    with pytest.raises(exc.CIMError):
        list(conn.IterEnumerateInstances('T_Node'))


def test_iterator_pulls_until_end_of_sequence():
    conn, wire = connection(pull_response('OpenEnumerateInstances', [1, 2], 'ctx1'),
                            pull_response('PullInstancesWithPath', [3], 'ctx2'),
                            pull_response('PullInstancesWithPath', [4]))
    got = list(conn.IterEnumerateInstances('T_Node', MaxObjectCount=2))
    assert [i['Id'] for i in got] == [1, 2, 3, 4]
    assert got[0].path.host == 'srv'
    bodies = [etree.fromstring(b) for b in wire.bodies()]
    assert bodies[1].find('.//IPARAMVALUE[@NAME="EnumerationContext"]/VALUE').text == 'ctx1'


def test_abandoned_iterator_closes_the_enumeration():
    conn, wire = connection(pull_response('OpenEnumerateInstances', [1, 2], 'ctx1'),
                            http_response(imethod_response('CloseEnumeration', '')))
    iterator = conn.IterEnumerateInstances('T_Node', MaxObjectCount=2)
    assert next(iterator)['Id'] == 1
    iterator.close()
    last = etree.fromstring(wire.bodies()[-1])
    assert last.find('.//IMETHODCALL').get('NAME') == 'CloseEnumeration'


def test_pull_only_mode_does_not_fall_back():
    conn, _wire = connection(error_response('OpenEnumerateInstances', 7),
                             use_pull_operations=True)
    with pytest.raises(exc.CIMError):
        list(conn.IterEnumerateInstances('T_Node'))


def test_traditional_iterator_streams_and_an_abandoned_stream_reconnects():
    conn, wire = connection(http_response(enum_response(100)), http_response(enum_response(1)),
                            use_pull_operations=False)
    iterator = conn.IterEnumerateInstances('T_Node')
    assert next(iterator)['Id'] == 0
    iterator.close()
    assert len(conn.EnumerateInstances('T_Node')) == 1
    assert wire.connects == 2


def test_iter_query_instances_falls_back_to_execquery():
    body = imethod_response('ExecQuery', '<IRETURNVALUE><VALUE.OBJECTWITHPATH>%s'
                            '</VALUE.OBJECTWITHPATH></IRETURNVALUE>'
                            % _instance_with_path(5)[len('<VALUE.INSTANCEWITHPATH>'):
                                                     -len('</VALUE.INSTANCEWITHPATH>')])
    conn, _wire = connection(error_response('OpenQueryInstances', 7), http_response(body))
    result = conn.IterQueryInstances('DMTF:CQL', 'SELECT * FROM T_Node')
    assert [i['Id'] for i in result.instances] == [5]


@pytest.mark.parametrize('call,error', [
    (lambda c: c.GetInstance('T_Node'), TypeError),
    (lambda c: c.EnumerateInstances(5), TypeError),
    (lambda c: c.EnumerateInstances('C', LocalOnly='yes'), TypeError),
    (lambda c: c.EnumerateInstances('C', PropertyList=5), TypeError),
    (lambda c: c.PullInstances(None, 5), ValueError),
    (lambda c: c.PullInstances(('a', 'b'), -1), ValueError),
    (lambda c: c.OpenEnumerateInstances('C', OperationTimeout=-1), ValueError),
    (lambda c: list(c.IterEnumerateInstances('C', MaxObjectCount=0)), ValueError),
    (lambda c: c.ModifyInstance(CIMInstance('C')), ValueError),
    (lambda c: c.InvokeMethod('M', 5), TypeError),
])
def test_invalid_arguments_fail_before_anything_is_sent(call, error):
    conn, wire = connection()
    with pytest.raises(error) as info:
        call(conn)
    assert isinstance(info.value, (exc.WBEMTypeError, exc.WBEMValueError))
    assert wire.requests == []


def test_invalid_arguments_are_our_error_classes():
    conn, _wire = connection()
    with pytest.raises(exc.WBEMTypeError):
        conn.GetInstance('T_Node')
    with pytest.raises(exc.WBEMValueError):
        conn.PullInstances(None, 5)


def test_get_and_set_property():
    conn, wire = connection(
        http_response(imethod_response('GetProperty', '<IRETURNVALUE><VALUE>42</VALUE>'
                                                      '</IRETURNVALUE>')),
        http_response(imethod_response('GetProperty', '<IRETURNVALUE><VALUE.ARRAY><VALUE>a'
                                                      '</VALUE><VALUE.NULL/></VALUE.ARRAY>'
                                                      '</IRETURNVALUE>')),
        http_response(imethod_response('GetProperty', '')),
        http_response(imethod_response('SetProperty', '')),
        http_response(imethod_response('SetProperty', '')))
    assert conn.GetProperty(PATH, 'Size') == '42'
    assert conn.GetProperty(PATH, 'Tags') == ['a', None]
    assert conn.GetProperty(PATH, 'Empty') is None
    conn.SetProperty(PATH, 'Owner', CIMInstanceName('T_User', {'Name': 'u'}))
    conn.SetProperty(PATH, 'Note')
    set_ref = etree.fromstring(wire.bodies()[3])
    assert set_ref.find('.//IPARAMVALUE[@NAME="NewValue"]/VALUE.REFERENCE/INSTANCENAME') \
        is not None
    assert etree.fromstring(wire.bodies()[4]).find('.//IPARAMVALUE[@NAME="NewValue"]') is None


def test_instance_names_are_streamed_one_by_one():
    names = ''.join('<INSTANCENAME CLASSNAME="T_Node"><KEYBINDING NAME="Id"><KEYVALUE '
                    'VALUETYPE="numeric">%d</KEYVALUE></KEYBINDING></INSTANCENAME>' % i
                    for i in range(300))
    conn, _wire = connection(http_response(imethod_response(
        'EnumerateInstanceNames', '<IRETURNVALUE>%s</IRETURNVALUE>' % names)),
        use_pull_operations=False)
    seen = []
    for path in conn.IterEnumerateInstancePaths('T_Node'):
        seen.append(path['Id'])
    assert seen == list(range(300))


def test_operations_inside_a_streaming_iterator_use_another_connection():
    # pywbem-style code calls other operations while it iterates; the response the iterator
    # is reading must stay on its connection (before: the nested call took it over and the
    # iterator waited for the rest of its response until the timeout)
    conn, wire = connection(http_response(enum_response(300)), http_response(enum_response(1)),
                            http_response(enum_response(2)), http_response(enum_response(3)),
                            use_pull_operations=False)
    seen = []
    for inst in conn.IterEnumerateInstances('T_Node'):
        seen.append(inst['Id'])
        if inst['Id'] == 10:
            assert len(conn.EnumerateInstances('T_Node')) == 1
            assert len(conn.EnumerateInstances('T_Node')) == 2
    assert seen == list(range(300))
    assert wire.connects == 2  # one extra connection, reused by the second nested call
    assert len(conn.EnumerateInstances('T_Node')) == 3
    assert wire.connects == 2


def test_closing_the_connection_under_a_suspended_iterator():
    conn, wire = connection(http_response(enum_response(300)), http_response(enum_response(1)),
                            use_pull_operations=False)
    iterator = conn.IterEnumerateInstances('T_Node')
    assert next(iterator)['Id'] == 0
    conn.close()
    with pytest.raises(exc.WBEMConnectionError) as excinfo:
        list(iterator)
    assert excinfo.value.error_name == 'CONNECTION_CLOSED'
    assert len(conn.EnumerateInstances('T_Node')) == 1
    assert wire.connects == 2
