# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test CIMOM (tests/harness/wbem_server) against independent clients.

pywbem's WBEMConnection (a test dependency, not the collection's client) runs every operation
over HTTP and HTTPS with Basic and client-certificate authentication; raw ``http.client``
requests check the DSP0200 HTTP details; sblim-wbemcli (Debian) is a second, C++ client. The
quirk modes are checked as the clients see them, and the request log against what was sent.
"""

import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys

import pytest

pywbem = pytest.importorskip('pywbem')

from harness.services.wbem import CIMV2, INTEROP, SYSTEM_NAME, WbemService  # noqa: E402
from harness.wbem_server import repository  # noqa: E402

pytestmark = pytest.mark.slow

CS_PATH = pywbem.CIMInstanceName('CIM_ComputerSystem', {'CreationClassName': 'CIM_ComputerSystem',
                                                        'Name': 'node01.example.org'}, namespace=CIMV2)


@pytest.fixture(scope='module')
def wbem(tmp_path_factory):
    with WbemService(str(tmp_path_factory.mktemp('wbem'))) as service:
        yield service


@pytest.fixture(autouse=True)
def _clean(request, monkeypatch):
    # pywbem (requests) lets these override an explicit ca_certs; the collection's client must not.
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        monkeypatch.delenv(name, raising=False)
    yield
    if 'wbem' in request.fixturenames:
        request.getfixturevalue('wbem').clear_quirks()


def connect(wbem, scheme='https', auth='basic', namespace=CIMV2, **kwargs):
    """A pywbem connection to the test CIMOM."""
    x509 = None
    creds = None
    if auth == 'basic':
        creds = wbem.credentials
    elif auth == 'cert':
        x509 = {'cert_file': wbem.client_cert, 'key_file': wbem.client_key}
    if scheme == 'https':
        url = kwargs.pop('url', wbem.https_url)
        kwargs.setdefault('ca_certs', wbem.ca_file)
    else:
        url = wbem.http_url
    return pywbem.WBEMConnection(url, creds, default_namespace=namespace, x509=x509, **kwargs)


def post(wbem, body, method='EnumerateInstanceNames', cimobject='root%2Fcimv2', headers=None, verb='POST',
         connection=None):
    """A raw CIM-XML POST over plain HTTP: (status, headers dict, body bytes)."""
    conn = connection or http.client.HTTPConnection('127.0.0.1', wbem.http_port, timeout=10)
    auth = base64.b64encode(('%s:%s' % wbem.credentials).encode()).decode()
    all_headers = {'Content-Type': 'application/xml; charset="utf-8"', 'Authorization': 'Basic ' + auth,
                   'CIMOperation': 'MethodCall', 'CIMMethod': method, 'CIMObject': cimobject}
    all_headers.update(headers or {})
    all_headers = {k: v for k, v in all_headers.items() if v is not None}
    conn.request(verb, '/cimom', body=body.encode('utf-8') if isinstance(body, str) else body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    result = (response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    if connection is None:
        conn.close()
    return result


def imethodcall(name, params='', namespace=('root', 'cimv2'), protocol='1.0'):
    ns = ''.join('<NAMESPACE NAME="%s"/>' % part for part in namespace)
    return ('<?xml version="1.0" encoding="utf-8" ?><CIM CIMVERSION="2.0" DTDVERSION="2.0">'
            '<MESSAGE ID="4711" PROTOCOLVERSION="%s"><SIMPLEREQ><IMETHODCALL NAME="%s">'
            '<LOCALNAMESPACEPATH>%s</LOCALNAMESPACEPATH>%s</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>'
            % (protocol, name, ns, params))


ENUM_CS = imethodcall('EnumerateInstanceNames', '<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="CIM_ComputerSystem"/>'
                                                '</IPARAMVALUE>')


# -- discovery, reads and transports ----------------------------------------------------------

def test_server_discovery_with_pywbem_wbemserver(wbem):
    server = pywbem.WBEMServer(connect(wbem))
    assert server.interop_ns == INTEROP
    assert {ns.lower() for ns in server.namespaces} == {CIMV2, INTEROP}
    assert server.cimom_inst.classname == 'CIM_ObjectManager'
    assert server.cimom_inst['Name'] == 'hostsec-test-cimom'
    indications = server.get_selected_profiles('DMTF', 'Indications')
    assert [p['RegisteredVersion'] for p in indications] == ['1.2.0']
    assert len(server.get_selected_profiles('SNIA')) == 2
    assert len(server.profiles) == 6


@pytest.mark.parametrize('scheme,auth', [('http', 'basic'), ('https', 'basic'), ('https', 'cert')])
def test_reads_over_each_transport(wbem, scheme, auth):
    wbem.reset_requests()
    conn = connect(wbem, scheme, auth)
    names = conn.EnumerateInstanceNames('CIM_ComputerSystem')
    assert sorted(p['Name'] for p in names) == [SYSTEM_NAME, 'node01.example.org', 'node02.example.org']
    assert all(p.namespace == CIMV2 for p in names)
    instances = conn.EnumerateInstances('CIM_ComputerSystem', PropertyList=['Name', 'EnabledState'])
    assert {i['Name']: i['EnabledState'] for i in instances}['node02.example.org'] == 3
    assert all(set(i.keys()) <= {'Name', 'EnabledState'} for i in instances)
    node = conn.GetInstance(CS_PATH)
    assert node['Roles'] == ['Compute', 'Batch'] and node['Dedicated'] == [0]
    assert isinstance(node['EnabledState'], pywbem.Uint16)
    with pytest.raises(pywbem.CIMError) as err:
        conn.GetInstance(pywbem.CIMInstanceName('CIM_ComputerSystem', {'CreationClassName': 'CIM_ComputerSystem',
                                                                       'Name': 'nonexistent.example.org'}))
    assert err.value.status_code_name == 'CIM_ERR_NOT_FOUND'
    with pytest.raises(pywbem.CIMError) as err:
        conn.EnumerateInstanceNames('CIM_NoSuchClass')
    assert err.value.status_code_name == 'CIM_ERR_INVALID_CLASS'
    with pytest.raises(pywbem.CIMError) as err:
        conn.EnumerateInstanceNames('CIM_ComputerSystem', namespace='root/nowhere')
    assert err.value.status_code_name == 'CIM_ERR_INVALID_NAMESPACE'
    log = wbem.requests()
    assert [e['operation'] for e in log] == ['EnumerateInstanceNames', 'EnumerateInstances', 'GetInstance',
                                             'GetInstance', 'EnumerateInstanceNames', 'EnumerateInstanceNames']
    assert {e['scheme'] for e in log} == {scheme}
    assert {e['auth'] for e in log} == {'certificate' if auth == 'cert' else 'basic'}
    assert {e['user'] for e in log} == {wbem.username}
    assert [e['cim_status_name'] for e in log] == [None, None, None, 'CIM_ERR_NOT_FOUND', 'CIM_ERR_INVALID_CLASS',
                                                   'CIM_ERR_INVALID_NAMESPACE']
    assert log[1]['property_list'] == ['Name', 'EnabledState']


def test_every_cim_type_round_trips(wbem):
    conn = connect(wbem)
    expected = repository.all_types_instance('hostsec:alltypes:1')
    got = conn.GetInstance(expected.path)
    for name, prop in expected.properties.items():
        assert name in got.properties, name
        actual = got.properties[name]
        assert actual.type == prop.type, name
        assert actual.is_array == prop.is_array, name
        assert actual.embedded_object == prop.embedded_object, name
        if prop.embedded_object:
            values = prop.value if prop.is_array else [prop.value]
            got_values = actual.value if actual.is_array else [actual.value]
            assert [dict(v.items()) for v in got_values] == [dict(v.items()) for v in values], name
        else:
            assert actual.value == prop.value, name
    assert got['PInterval'].is_interval and got['PDateTime'].minutes_from_utc == 60
    nulls = conn.GetInstance(pywbem.CIMInstanceName('HOSTSEC_AllTypes', {'InstanceID': 'hostsec:alltypes:2'}))
    assert nulls['PUint64'] is None and nulls['PStringArray'] is None
    assert nulls.properties['PStringArray'].is_array


def test_class_operations(wbem):
    conn = connect(wbem)
    names = conn.EnumerateClassNames(DeepInheritance=True)
    assert {'CIM_ComputerSystem', 'CIM_IndicationSubscription', 'HOSTSEC_AllTypes'} <= set(names)
    top = conn.EnumerateClassNames()
    assert 'CIM_ManagedElement' in top and 'CIM_ComputerSystem' not in top
    systems = conn.EnumerateClasses(ClassName='CIM_System', DeepInheritance=True)
    assert [c.classname for c in systems] == ['CIM_ComputerSystem']
    klass = conn.GetClass('HOSTSEC_AllTypes', LocalOnly=False, IncludeQualifiers=True)
    assert klass.superclass == 'CIM_ManagedElement'
    assert klass.properties['PEmbeddedInstance'].embedded_object == 'instance'
    assert klass.properties['InstanceID'].qualifiers['Key'].value is True
    assert klass.methods['Echo'].qualifiers['Static'].value is True
    assert klass.methods['Echo'].parameters['PReference'].reference_class == 'CIM_ComputerSystem'
    service = conn.GetClass('HOSTSEC_TestService', LocalOnly=True)
    assert set(service.properties) == {'CommandLine', 'Notes'}

    new = pywbem.CIMClass('HOSTSEC_Extra', superclass='CIM_ManagedElement', properties=[
        pywbem.CIMProperty('InstanceID', None, type='string', qualifiers=[
            pywbem.CIMQualifier('Key', True), pywbem.CIMQualifier('Override', 'InstanceID')])])
    conn.CreateClass(new)
    try:
        with pytest.raises(pywbem.CIMError) as err:
            conn.CreateClass(new)
        assert err.value.status_code_name == 'CIM_ERR_ALREADY_EXISTS'
        modified = conn.GetClass('HOSTSEC_Extra', LocalOnly=True, IncludeQualifiers=True)
        modified.properties['Comment'] = pywbem.CIMProperty('Comment', None, type='string')
        conn.ModifyClass(modified)
        assert 'Comment' in conn.GetClass('HOSTSEC_Extra').properties
    finally:
        conn.DeleteClass('HOSTSEC_Extra')
    with pytest.raises(pywbem.CIMError) as err:
        conn.GetClass('HOSTSEC_Extra')
    assert err.value.status_code_name == 'CIM_ERR_NOT_FOUND'
    assert [e['operation'] for e in wbem.requests(write=True, classname='HOSTSEC_Extra')] == [
        'CreateClass', 'CreateClass', 'ModifyClass', 'DeleteClass']


def test_qualifier_operations(wbem):
    conn = connect(wbem)
    names = {q.name for q in conn.EnumerateQualifiers()}
    assert {'Key', 'Description', 'EmbeddedInstance', 'ValueMap'} <= names
    key = conn.GetQualifier('Key')
    assert key.type == 'boolean' and key.overridable is False
    conn.SetQualifier(pywbem.CIMQualifierDeclaration('HostsecTag', 'string', scopes={'CLASS': True}))
    try:
        assert conn.GetQualifier('HostsecTag').type == 'string'
    finally:
        conn.DeleteQualifier('HostsecTag')
    with pytest.raises(pywbem.CIMError) as err:
        conn.GetQualifier('HostsecTag')
    assert err.value.status_code_name == 'CIM_ERR_NOT_FOUND'


def test_instance_write_operations(wbem):
    conn = connect(wbem)
    new = pywbem.CIMInstance('HOSTSEC_AllTypes', properties={
        'InstanceID': 'test:write', 'PString': 'before', 'PUint16': pywbem.Uint16(7),
        'PDateTimeArray': [pywbem.CIMDateTime('20240301120000.000000+000')]})
    wbem.reset_requests()
    path = conn.CreateInstance(new)
    try:
        assert path.classname == 'HOSTSEC_AllTypes' and path['InstanceID'] == 'test:write'
        with pytest.raises(pywbem.CIMError) as err:
            conn.CreateInstance(new)
        assert err.value.status_code_name == 'CIM_ERR_ALREADY_EXISTS'
        changed = pywbem.CIMInstance('HOSTSEC_AllTypes', path=path, properties={
            'PString': 'after', 'PUint16': pywbem.Uint16(9)})
        conn.ModifyInstance(changed, PropertyList=['PString'])
        got = conn.GetInstance(path)
        assert got['PString'] == 'after' and got['PUint16'] == 7
        key_change = pywbem.CIMInstance('HOSTSEC_AllTypes', properties={'InstanceID': 'other'})
        key_change.path = path
        with pytest.raises(pywbem.CIMError) as err:
            conn.ModifyInstance(key_change)
        assert err.value.status_code_name == 'CIM_ERR_INVALID_PARAMETER'
    finally:
        conn.DeleteInstance(path)
    with pytest.raises(pywbem.CIMError) as err:
        conn.DeleteInstance(path)
    assert err.value.status_code_name == 'CIM_ERR_NOT_FOUND'
    writes = wbem.requests(write=True)
    assert [e['operation'] for e in writes] == ['CreateInstance', 'CreateInstance', 'ModifyInstance',
                                                'ModifyInstance', 'DeleteInstance', 'DeleteInstance']
    assert writes[2]['property_list'] == ['PString']
    assert writes[2]['properties'] == ['PString', 'PUint16']
    assert writes[2]['path'] == 'root/cimv2:HOSTSEC_AllTypes.InstanceID="test:write"'
    assert wbem.count(operation='GetInstance') == 1


def test_associations(wbem):
    conn = connect(wbem)
    cpus = conn.AssociatorNames(CS_PATH, AssocClass='CIM_SystemDevice', ResultRole='PartComponent')
    assert sorted(p['DeviceID'] for p in cpus) == ['CPU0', 'CPU1']
    assert all(p.host == SYSTEM_NAME and p.namespace == CIMV2 for p in cpus)
    services = conn.Associators(CS_PATH, AssocClass='CIM_HostedService', ResultClass='CIM_Service',
                                PropertyList=['Name', 'Started'])
    assert sorted((s['Name'], s['Started']) for s in services) == [('ntpd', False), ('slurmd', True)]
    refs = conn.References(CS_PATH, ResultClass='CIM_SystemDevice', Role='GroupComponent')
    assert len(refs) == 2 and all(r.classname == 'CIM_SystemDevice' for r in refs)
    ref_names = conn.ReferenceNames(CS_PATH)
    assert sorted(r.classname for r in ref_names) == ['CIM_HostedService', 'CIM_HostedService',
                                                      'CIM_SystemDevice', 'CIM_SystemDevice', 'HOSTSEC_AllTypesOwner']
    owner = conn.Associators(pywbem.CIMInstanceName('HOSTSEC_AllTypes', {'InstanceID': 'hostsec:alltypes:1'}),
                             AssocClass='HOSTSEC_AllTypesOwner')
    assert [o['Name'] for o in owner] == [SYSTEM_NAME]
    class_level = conn.AssociatorNames('CIM_ComputerSystem', AssocClass='CIM_SystemDevice', Role='GroupComponent')
    assert 'CIM_LogicalDevice' in [c.classname for c in class_level]
    assert all(isinstance(c, pywbem.CIMClassName) and c.namespace == CIMV2 for c in class_level)
    assert 'CIM_SystemDevice' in [c.classname for c in conn.ReferenceNames('CIM_Processor')]
    interop = connect(wbem, namespace=INTEROP)
    om = interop.EnumerateInstanceNames('CIM_ObjectManager')[0]
    profiles = interop.Associators(om, AssocClass='CIM_ElementConformsToProfile')
    assert sorted(p['InstanceID'] for p in profiles) == ['DMTF:WBEM Server:1.0.0', 'SNIA:Server:1.5.0']


def test_exec_query(wbem):
    conn = connect(wbem)
    result = conn.ExecQuery('WQL', 'SELECT Name, EnabledState FROM CIM_ComputerSystem WHERE EnabledState = 2')
    assert sorted(i['Name'] for i in result) == [SYSTEM_NAME, 'node01.example.org']
    assert all(set(i.keys()) == {'Name', 'EnabledState'} for i in result)
    result = conn.ExecQuery('DMTF:CQL', "SELECT * FROM CIM_LogicalDevice WHERE LoadPercentage > 40 AND "
                                        "SystemName LIKE 'node0%'")
    assert sorted(i['LoadPercentage'] for i in result) == [42, 87]
    result = conn.ExecQuery('WQL', "SELECT * FROM CIM_ComputerSystem WHERE Roles = 'Batch' OR NOT "
                                   "(HealthState <> 10)")
    assert sorted(i['Name'] for i in result) == ['node01.example.org', 'node02.example.org']
    with pytest.raises(pywbem.CIMError) as err:
        conn.ExecQuery('WQL', 'SELECT FROM')
    assert err.value.status_code_name == 'CIM_ERR_INVALID_QUERY'
    with pytest.raises(pywbem.CIMError) as err:
        conn.ExecQuery('XPath', '/a')
    assert err.value.status_code_name == 'CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED'


def test_pull_operations(wbem):
    conn = connect(wbem)
    wbem.reset_requests()
    result = conn.OpenEnumerateInstances('HOSTSEC_BulkElement', MaxObjectCount=20)
    assert not result.eos and len(result.instances) == 20
    instances = list(result.instances)
    context = result.context
    while context is not None:
        result = conn.PullInstancesWithPath(context, MaxObjectCount=20)
        instances.extend(result.instances)
        context = result.context
    assert len(instances) == 50 and result.eos
    assert sorted(i['Index'] for i in instances) == list(range(50))
    assert all(i.path.host == SYSTEM_NAME and i.path.namespace == CIMV2 for i in instances)
    assert wbem.operations() == ['OpenEnumerateInstances', 'PullInstancesWithPath', 'PullInstancesWithPath']
    assert [e['classname'] for e in wbem.requests()] == ['HOSTSEC_BulkElement'] * 3

    paths = conn.OpenEnumerateInstancePaths('HOSTSEC_BulkElement', MaxObjectCount=10)
    assert len(paths.paths) == 10 and not paths.eos
    more = conn.PullInstancePaths(paths.context, MaxObjectCount=5)
    assert len(more.paths) == 5
    conn.CloseEnumeration(more.context)
    with pytest.raises(pywbem.CIMError) as err:
        conn.PullInstancePaths(more.context, MaxObjectCount=5)
    assert err.value.status_code_name == 'CIM_ERR_INVALID_ENUMERATION_CONTEXT'

    filtered = conn.OpenEnumerateInstances('CIM_ComputerSystem', FilterQueryLanguage='DMTF:FQL',
                                           FilterQuery="EnabledState = 3 AND Name LIKE 'node%'", MaxObjectCount=100)
    assert [i['Name'] for i in filtered.instances] == ['node02.example.org'] and filtered.eos

    refs = conn.OpenReferenceInstances(CS_PATH, ResultClass='CIM_HostedService', MaxObjectCount=100)
    assert len(refs.instances) == 2
    ref_paths = conn.OpenReferenceInstancePaths(CS_PATH, MaxObjectCount=100)
    assert len(ref_paths.paths) == 5
    assoc = conn.OpenAssociatorInstances(CS_PATH, AssocClass='CIM_SystemDevice', MaxObjectCount=1)
    assoc_all = list(assoc.instances) + list(conn.PullInstancesWithPath(assoc.context, MaxObjectCount=1).instances)
    assert sorted(i['DeviceID'] for i in assoc_all) == ['CPU0', 'CPU1']
    assoc_paths = conn.OpenAssociatorInstancePaths(CS_PATH, ResultClass='HOSTSEC_TestService', MaxObjectCount=100)
    assert sorted(p['Name'] for p in assoc_paths.paths) == ['ntpd', 'slurmd']

    query = conn.OpenQueryInstances('WQL', 'SELECT Index FROM HOSTSEC_BulkElement WHERE Index < 30',
                                    ReturnQueryResultClass=True, MaxObjectCount=25)
    assert query.query_result_class.classname == 'HOSTSEC_BulkElement'
    assert set(query.query_result_class.properties) == {'Index'}
    rest = conn.PullInstances(query.context, MaxObjectCount=25)
    assert rest.eos and sorted(i['Index'] for i in list(query.instances) + list(rest.instances)) == list(range(30))

    iterated = list(conn.IterEnumerateInstances('HOSTSEC_BulkElement', MaxObjectCount=7))
    assert len(iterated) == 50


def test_invoke_method(wbem):
    conn = connect(wbem)
    ntpd = pywbem.CIMInstanceName('HOSTSEC_TestService', {
        'SystemCreationClassName': 'CIM_ComputerSystem', 'SystemName': 'node01.example.org',
        'CreationClassName': 'HOSTSEC_TestService', 'Name': 'ntpd'})
    rv, out = conn.InvokeMethod('RequestStateChange', ntpd, RequestedState=pywbem.Uint16(2))
    try:
        assert rv == 0 and 'Job' in out and out['Job'] is None
        after = conn.GetInstance(ntpd)
        assert after['EnabledState'] == 2 and after['Started'] is True and after['TimeOfLastStateChange'] is not None
        rv, _out = conn.InvokeMethod('RequestStateChange', ntpd, RequestedState=pywbem.Uint16(99))
        assert rv == 5
        rv, _out = conn.InvokeMethod('RequestStateChange', ntpd, RequestedState=pywbem.Uint16(2),
                                     TimeoutPeriod=pywbem.CIMDateTime('00000000000010.000000:000'))
        assert rv == 4098
    finally:
        rv, _out = conn.InvokeMethod('StopService', ntpd)
    assert rv == 0 and conn.GetInstance(ntpd)['Started'] is False

    params = [
        ('PBoolean', False), ('PString', 'ünïcode <&>'), ('PChar16', pywbem.Char16('x')),
        ('PUint8', pywbem.Uint8(200)), ('PSint8', pywbem.Sint8(-5)), ('PUint16', pywbem.Uint16(60000)),
        ('PSint16', pywbem.Sint16(-300)), ('PUint32', pywbem.Uint32(4000000000)), ('PSint32', pywbem.Sint32(-7)),
        ('PUint64', pywbem.Uint64(2 ** 63)), ('PSint64', pywbem.Sint64(-2 ** 40)), ('PReal32', pywbem.Real32(0.25)),
        ('PReal64', pywbem.Real64(1e-300)), ('PDateTime', pywbem.CIMDateTime('20250102030405.678901-120')),
        ('PReference', CS_PATH.copy()),
        ('PEmbeddedInstance', repository.all_types_instance('x').copy()),
        ('PStringArray', ['a', 'b']), ('PUint32Array', [pywbem.Uint32(1), pywbem.Uint32(2)]),
        ('PDateTimeArray', [pywbem.CIMDateTime('00000001000000.000000:000')]),
        ('PReferenceArray', [CS_PATH.copy()]),
    ]
    params[15][1].path = None
    rv, out = conn.InvokeMethod('Echo', pywbem.CIMClassName('HOSTSEC_AllTypes'), Params=params)
    assert rv == len(params)
    for name, value in params:
        if name == 'PBoolean':
            # pywbem 1.9 decodes boolean output parameters with bool('FALSE') == True: check the wire.
            assert b'<PARAMVALUE NAME="PBoolean" PARAMTYPE="boolean"><VALUE>FALSE</VALUE></PARAMVALUE>' in \
                conn.last_raw_reply
        elif name == 'PEmbeddedInstance':
            assert out[name].classname == 'HOSTSEC_AllTypes' and out[name]['PUint64'] == value['PUint64']
        elif name.startswith('PReference'):
            values = out[name] if isinstance(out[name], list) else [out[name]]
            assert [v['Name'] for v in values] == ['node01.example.org'], name
        else:
            assert out[name] == value, name
            if not isinstance(value, (list, str)):  # pywbem returns char16 as str
                assert type(out[name]) is type(value), name  # pylint: disable=unidiomatic-typecheck

    with pytest.raises(pywbem.CIMError) as err:
        conn.InvokeMethod('NoSuchMethod', ntpd)
    assert err.value.status_code_name == 'CIM_ERR_METHOD_NOT_FOUND'
    with pytest.raises(pywbem.CIMError) as err:
        conn.InvokeMethod('RequestStateChange', ntpd, RequestedState='two')
    assert err.value.status_code_name == 'CIM_ERR_INVALID_PARAMETER'
    with pytest.raises(pywbem.CIMError) as err:
        conn.InvokeMethod('RequestStateChange', 'HOSTSEC_TestService', RequestedState=pywbem.Uint16(2))
    assert err.value.status_code_name == 'CIM_ERR_INVALID_PARAMETER'
    assert wbem.operations(operation='InvokeMethod')[:2] == ['InvokeMethod:RequestStateChange'] * 2


def test_increment_method_changes_the_instance(wbem):
    conn = connect(wbem)
    path = conn.CreateInstance(pywbem.CIMInstance('HOSTSEC_AllTypes', properties={
        'InstanceID': 'test:increment', 'PUint32': pywbem.Uint32(40)}))
    try:
        rv, out = conn.InvokeMethod('Increment', path, Increment=pywbem.Uint32(2))
        assert rv == 0 and out['Value'] == 42 and conn.GetInstance(path)['PUint32'] == 42
        with pytest.raises(pywbem.CIMError) as err:
            conn.InvokeMethod('Increment', path, Increment=pywbem.Uint32(0xFFFFFFFF))
        assert err.value.status_code_name == 'CIM_ERR_INVALID_PARAMETER'
    finally:
        conn.DeleteInstance(path)


# -- indication subscriptions in the Interop namespace ----------------------------------------

def _filter(name='site-alerts', query='SELECT * FROM CIM_AlertIndication', language='WQL', **extra):
    props = {'CreationClassName': 'CIM_IndicationFilter', 'Name': name, 'SystemCreationClassName': 'CIM_ComputerSystem',
             'SystemName': SYSTEM_NAME, 'Query': query, 'QueryLanguage': language, 'SourceNamespaces': [CIMV2]}
    props.update(extra)
    return pywbem.CIMInstance('CIM_IndicationFilter', properties={k: v for k, v in props.items() if v is not None})


def _destination(name='site-listener', url='https://mgmt.example.org:5999/cimlistener', classname=None):
    classname = classname or 'CIM_ListenerDestinationCIMXML'
    return pywbem.CIMInstance(classname, properties={'Name': name, 'Destination': url})


def test_subscription_lifecycle(wbem):
    conn = connect(wbem, namespace=INTEROP)
    before = {str(p) for p in conn.EnumerateInstanceNames('CIM_IndicationSubscription')}
    filter_path = conn.CreateInstance(_filter())
    dest_path = conn.CreateInstance(_destination())
    sub_path = None
    try:
        assert filter_path.keybindings['SystemName'] == SYSTEM_NAME and filter_path['Name'] == 'site-alerts'
        dest = conn.GetInstance(dest_path)
        assert dest['Protocol'] == 2 and dest['PersistenceType'] == 2
        assert dest_path['SystemCreationClassName'] == 'CIM_ComputerSystem'
        sub_path = conn.CreateInstance(pywbem.CIMInstance('CIM_IndicationSubscription', properties={
            'Filter': filter_path, 'Handler': dest_path}))
        sub = conn.GetInstance(sub_path)
        assert sub['SubscriptionState'] == 2 and sub['SubscriptionStartTime'] is not None
        # The keys of the subscription are references; a path without namespaces finds it too.
        bare = sub_path.copy()
        for key in ('Filter', 'Handler'):
            ref = bare[key].copy()
            ref.namespace = ref.host = None
            bare[key] = ref
        assert conn.GetInstance(bare)['SubscriptionState'] == 2

        changed = pywbem.CIMInstance('CIM_IndicationFilter', path=filter_path, properties={
            'Query': 'SELECT * FROM CIM_AlertIndication WHERE PerceivedSeverity > 3'})
        conn.ModifyInstance(changed, PropertyList=['Query'])
        assert 'PerceivedSeverity' in conn.GetInstance(filter_path)['Query']
        conn.ModifyInstance(pywbem.CIMInstance('CIM_IndicationSubscription', path=sub_path, properties={
            'SubscriptionState': pywbem.Uint16(4)}), PropertyList=['SubscriptionState'])
        assert conn.GetInstance(sub_path)['SubscriptionState'] == 4

        for path in (filter_path, dest_path):
            with pytest.raises(pywbem.CIMError) as err:
                conn.DeleteInstance(path)
            assert err.value.status_code_name == 'CIM_ERR_FAILED'
        assert len(conn.References(filter_path, ResultClass='CIM_IndicationSubscription')) == 1
    finally:
        for path in (sub_path, filter_path, dest_path):
            if path is not None:
                conn.DeleteInstance(path)
    assert {str(p) for p in conn.EnumerateInstanceNames('CIM_IndicationSubscription')} == before
    assert len(conn.EnumerateInstanceNames('CIM_IndicationFilter')) == 1  # the vendor's filter stays


@pytest.mark.parametrize('instance,namespace,status', [
    (_filter(), CIMV2, 'CIM_ERR_NOT_SUPPORTED'),
    (_filter(query=None), INTEROP, 'CIM_ERR_INVALID_PARAMETER'),
    (_filter(language='XPath'), INTEROP, 'CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED'),
    (_filter(query='SELECT * FROM CIM_ComputerSystem'), INTEROP, 'CIM_ERR_INVALID_QUERY'),
    (_filter(query='DROP TABLE'), INTEROP, 'CIM_ERR_INVALID_QUERY'),
    (_filter(CreationClassName='CIM_Other'), INTEROP, 'CIM_ERR_INVALID_PARAMETER'),
    (_destination(url='mailto:ops@example.org'), INTEROP, 'CIM_ERR_INVALID_PARAMETER'),
    (pywbem.CIMInstance('CIM_IndicationSubscription', properties={
        'Filter': pywbem.CIMInstanceName('CIM_IndicationFilter', {
            'CreationClassName': 'CIM_IndicationFilter', 'Name': 'missing', 'SystemName': SYSTEM_NAME,
            'SystemCreationClassName': 'CIM_ComputerSystem'}),
        'Handler': pywbem.CIMInstanceName('CIM_ListenerDestinationCIMXML', {
            'CreationClassName': 'CIM_ListenerDestinationCIMXML', 'Name': 'vendor:default-listener',
            'SystemName': SYSTEM_NAME, 'SystemCreationClassName': 'CIM_ComputerSystem'})}),
     INTEROP, 'CIM_ERR_INVALID_PARAMETER'),
], ids=['not-interop', 'no-query', 'language', 'not-indication', 'syntax', 'creationclass', 'url', 'dangling'])
def test_subscription_validation(wbem, instance, namespace, status):
    conn = connect(wbem, namespace=namespace)
    with pytest.raises(pywbem.CIMError) as err:
        conn.CreateInstance(instance)
    assert err.value.status_code_name == status


def test_indication_quirks(wbem):
    conn = connect(wbem, namespace=INTEROP)
    wbem.set_quirks(readonly_indications=True, override_indication_keys=True)
    path = conn.CreateInstance(_filter(name='quirky', SystemName='my.own.name'))
    legacy = conn.CreateInstance(_destination(name='legacy', classname='CIM_IndicationHandlerCIMXML'))
    try:
        assert path['SystemName'] == SYSTEM_NAME
        with pytest.raises(pywbem.CIMError) as err:
            conn.ModifyInstance(pywbem.CIMInstance('CIM_IndicationFilter', path=path, properties={
                'Query': 'SELECT * FROM CIM_InstCreation'}), PropertyList=['Query'])
        assert err.value.status_code_name == 'CIM_ERR_NOT_SUPPORTED'
        wbem.clear_quirks()
        conn.ModifyInstance(pywbem.CIMInstance('CIM_IndicationFilter', path=path, properties={
            'Query': 'SELECT * FROM CIM_InstCreation'}), PropertyList=['Query'])
    finally:
        conn.DeleteInstance(path)
        conn.DeleteInstance(legacy)


# -- quirks as the client sees them ----------------------------------------------------------

def test_quirk_empty_ireturnvalue(wbem):
    conn = connect(wbem, 'http')
    path = conn.CreateInstance(pywbem.CIMInstance('HOSTSEC_AllTypes', properties={'InstanceID': 'test:quirk'}))
    wbem.set_quirks(empty_ireturnvalue=True)
    with pytest.raises(pywbem.CIMXMLParseError, match='Unexpected IRETURNVALUE'):
        conn.ModifyInstance(pywbem.CIMInstance('HOSTSEC_AllTypes', path=path, properties={'PString': 'done'}))
    wbem.clear_quirks()
    assert conn.GetInstance(path)['PString'] == 'done'  # the server did the work
    with wbem.quirked(empty_ireturnvalue=True):
        with pytest.raises(pywbem.CIMXMLParseError):
            conn.DeleteInstance(path)
    assert 'test:quirk' not in [p['InstanceID'] for p in conn.EnumerateInstanceNames('HOSTSEC_AllTypes')]
    body = imethodcall('DeleteInstance', '<IPARAMVALUE NAME="InstanceName"><INSTANCENAME CLASSNAME="HOSTSEC_AllTypes">'
                                         '<KEYBINDING NAME="InstanceID"><KEYVALUE>nope</KEYVALUE></KEYBINDING>'
                                         '</INSTANCENAME></IPARAMVALUE>')
    wbem.set_quirks(empty_ireturnvalue=True)
    _status, _headers, data = post(wbem, body, method='DeleteInstance')
    assert b'<ERROR CODE="6"' in data  # errors stay errors


def test_quirk_omit_empty_ireturnvalue_and_single_namespace_element(wbem):
    conn = connect(wbem, 'http')
    wbem.set_quirks(omit_empty_ireturnvalue=True, single_namespace_element=True)
    assert conn.EnumerateInstanceNames('CIM_ConcreteJob') == []
    assert len(conn.AssociatorNames(CS_PATH, AssocClass='CIM_SystemDevice')) == 2
    _status, _headers, data = post(wbem, imethodcall('EnumerateInstanceNames', '<IPARAMVALUE NAME="ClassName">'
                                                     '<CLASSNAME NAME="CIM_ConcreteJob"/></IPARAMVALUE>'))
    assert b'IRETURNVALUE' not in data
    _status, _headers, data = post(wbem, imethodcall(
        'AssociatorNames', '<IPARAMVALUE NAME="ObjectName"><INSTANCENAME CLASSNAME="CIM_Processor">'
        '<KEYBINDING NAME="CreationClassName"><KEYVALUE>CIM_Processor</KEYVALUE></KEYBINDING>'
        '<KEYBINDING NAME="DeviceID"><KEYVALUE>CPU0</KEYVALUE></KEYBINDING>'
        '<KEYBINDING NAME="SystemCreationClassName"><KEYVALUE>CIM_ComputerSystem</KEYVALUE></KEYBINDING>'
        '<KEYBINDING NAME="SystemName"><KEYVALUE>node02.example.org</KEYVALUE></KEYBINDING>'
        '</INSTANCENAME></IPARAMVALUE>'), method='AssociatorNames')
    assert b'<LOCALNAMESPACEPATH><NAMESPACE NAME="root/cimv2"></NAMESPACE></LOCALNAMESPACEPATH>' in data
    assert b'node02.example.org' in data


def test_quirk_compact_empty_elements(wbem):
    conn = connect(wbem, 'http')
    body = imethodcall('EnumerateInstanceNames', '<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="CIM_ConcreteJob"/>'
                                                 '</IPARAMVALUE>')
    _status, _headers, data = post(wbem, body)
    assert b'<IRETURNVALUE></IRETURNVALUE>' in data and b'/>' not in data
    wbem.set_quirks(compact_empty_elements=True)
    _status, _headers, data = post(wbem, body)
    assert b'<IRETURNVALUE/>' in data and b'<NAMESPACE NAME="root"/>' not in data
    assert conn.EnumerateInstanceNames('CIM_ConcreteJob') == []
    assert len(conn.EnumerateInstanceNames('CIM_ComputerSystem')) == 3


def test_quirk_no_pull_and_fallback(wbem):
    conn = connect(wbem, 'http', use_pull_operations=None)  # None: try pull, fall back
    wbem.set_quirks(no_pull=True)
    with pytest.raises(pywbem.CIMError) as err:
        conn.OpenEnumerateInstances('CIM_ComputerSystem')
    assert err.value.status_code_name == 'CIM_ERR_NOT_SUPPORTED'
    wbem.reset_requests()
    assert len(list(conn.IterEnumerateInstances('HOSTSEC_BulkElement', MaxObjectCount=10))) == 50
    assert wbem.operations() == ['OpenEnumerateInstances', 'EnumerateInstances']
    assert wbem.requests()[0]['quirks'] == ['no_pull']
    wbem.set_quirks(no_pull='CIM_ERR_FAILED')
    with pytest.raises(pywbem.CIMError) as err:
        conn.OpenEnumerateInstancePaths('CIM_ComputerSystem')
    assert err.value.status_code_name == 'CIM_ERR_FAILED'


def test_quirk_delay_causes_client_timeout(wbem):
    conn = connect(wbem, 'https', timeout=1)
    wbem.set_quirks(delay={'value': 2.5, 'operations': ['GetInstance']})
    assert len(conn.EnumerateInstanceNames('CIM_ComputerSystem')) == 3  # not delayed
    with pytest.raises((pywbem.TimeoutError, pywbem.ConnectionError), match='timed out'):
        conn.GetInstance(CS_PATH)
    assert wbem.requests(operation='GetInstance')[-1]['quirks'] == ['delay']


def test_quirk_reset_mid_body(wbem):
    conn = connect(wbem, 'http')
    wbem.set_quirks(reset=True)
    with pytest.raises(pywbem.ConnectionError):
        conn.EnumerateInstances('HOSTSEC_BulkElement')
    conn = connect(wbem, 'https')
    with pytest.raises(pywbem.ConnectionError):
        conn.EnumerateInstances('HOSTSEC_BulkElement')
    wbem.set_quirks(reset={'value': True, 'times': 1})
    with pytest.raises(pywbem.ConnectionError):
        conn.GetInstance(CS_PATH)
    assert conn.GetInstance(CS_PATH)['Name'] == 'node01.example.org'  # only the first one


def test_quirk_http_500(wbem):
    conn = connect(wbem, 'https')
    wbem.set_quirks(http_500=True)
    with pytest.raises(pywbem.HTTPError) as err:
        conn.EnumerateInstanceNames('CIM_ComputerSystem')
    assert err.value.status == 500
    status, headers, _data = post(wbem, ENUM_CS)
    assert status == 500 and 'quirk http_500' in headers['pgerrordetail'].replace('%20', ' ')


def test_quirk_always_401(wbem):
    wbem.set_quirks(always_401=True)
    for conn in (connect(wbem, 'https'), connect(wbem, 'https', 'cert')):
        with pytest.raises(pywbem.AuthError):
            conn.EnumerateInstanceNames('CIM_ComputerSystem')
    assert {e['http_status'] for e in wbem.requests(quirks=['always_401'])} == {401}


def test_quirk_cim_error_for_chosen_operations(wbem):
    conn = connect(wbem, namespace=INTEROP)
    wbem.set_quirks(cim_error={'code': 'CIM_ERR_ACCESS_DENIED', 'description': 'read-only account',
                               'operations': ['CreateInstance', 'ModifyInstance', 'DeleteInstance']})
    assert len(conn.EnumerateInstanceNames('CIM_IndicationFilter')) == 1
    with pytest.raises(pywbem.CIMError) as err:
        conn.CreateInstance(_filter(name='denied'))
    assert err.value.status_code_name == 'CIM_ERR_ACCESS_DENIED'
    assert err.value.status_description == 'read-only account'
    assert len(conn.EnumerateInstanceNames('CIM_IndicationFilter')) == 1  # nothing was created
    wbem.set_quirks(cim_error={'value': 'CIM_ERR_FAILED', 'classes': ['CIM_ComputerSystem'], 'times': 1})
    cimv2 = connect(wbem)
    with pytest.raises(pywbem.CIMError) as err:
        cimv2.GetInstance(CS_PATH)
    assert err.value.status_code == 1
    assert cimv2.GetInstance(CS_PATH)['Name'] == 'node01.example.org'


def test_quirks_chunked_with_trailers_and_close(wbem):
    conn = connect(wbem, 'http')
    wbem.set_quirks(chunked={'value': True, 'chunk_size': 50, 'trailers': True}, close=True)
    assert len(conn.EnumerateInstances('HOSTSEC_BulkElement')) == 50
    assert len(conn.EnumerateInstanceNames('CIM_ComputerSystem')) == 3
    raw = http.client.HTTPConnection('127.0.0.1', wbem.http_port, timeout=10)
    _status, headers, data = post(wbem, ENUM_CS, connection=raw)
    assert headers['transfer-encoding'] == 'chunked' and headers['connection'] == 'close'
    assert data.count(b'<INSTANCENAME ') == 3
    raw.close()


def test_quirk_raw_response(wbem):
    conn = connect(wbem, 'http')
    wbem.set_quirks(raw_response={'status': 200, 'content_type': 'text/html', 'body': '<html><body>Login</body></html>'})
    with pytest.raises(pywbem.Error):
        conn.EnumerateInstanceNames('CIM_ComputerSystem')
    wbem.set_quirks(raw_response={'body_base64': base64.b64encode(b'<?xml version="1.0"?><CIM>\xff\xfe').decode()})
    with pytest.raises(pywbem.XMLParseError):
        conn.EnumerateInstanceNames('CIM_ComputerSystem')


def test_quirk_file_written_by_hand_is_picked_up(wbem):
    conn = connect(wbem, 'http')
    tmp = wbem.quirks_file + '.new'
    with open(tmp, 'w') as handle:
        json.dump({'http_500': {'operations': ['EnumerateInstanceNames']}}, handle)
    os.replace(tmp, wbem.quirks_file)
    with pytest.raises(pywbem.HTTPError):
        conn.EnumerateInstanceNames('CIM_ComputerSystem')
    assert conn.GetInstance(CS_PATH)['Name'] == 'node01.example.org'


# -- authentication and TLS failures ------------------------------------------------------------

def test_authentication_failures(wbem):
    bad = pywbem.WBEMConnection(wbem.https_url, (wbem.username, 'wrong-password'), ca_certs=wbem.ca_file)
    with pytest.raises(pywbem.AuthError):
        bad.EnumerateInstanceNames('CIM_ComputerSystem', namespace=CIMV2)
    anonymous = pywbem.WBEMConnection(wbem.http_url)
    with pytest.raises(pywbem.AuthError):
        anonymous.EnumerateInstanceNames('CIM_ComputerSystem', namespace=CIMV2)
    untrusted_client = pywbem.WBEMConnection(wbem.https_url, ca_certs=wbem.ca_file, x509={
        'cert_file': wbem.untrusted_client_cert, 'key_file': wbem.untrusted_client_key})
    with pytest.raises(pywbem.ConnectionError):
        untrusted_client.EnumerateInstanceNames('CIM_ComputerSystem', namespace=CIMV2)
    wrong_ca = pywbem.WBEMConnection(wbem.https_url, wbem.credentials, ca_certs=wbem.untrusted_ca_file)
    with pytest.raises(pywbem.ConnectionError, match='CERTIFICATE_VERIFY_FAILED'):
        wrong_ca.EnumerateInstanceNames('CIM_ComputerSystem', namespace=CIMV2)
    status = [e['http_status'] for e in wbem.requests()[-2:]]
    assert status == [401, 401]
    # localhost is in the certificate too
    conn = pywbem.WBEMConnection(wbem.https_url_for('localhost'), wbem.credentials, ca_certs=wbem.ca_file)
    assert len(conn.EnumerateInstanceNames('CIM_ComputerSystem', namespace=CIMV2)) == 3


def test_wrong_hostname_and_required_client_certificate(tmp_path, monkeypatch):
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        monkeypatch.delenv(name, raising=False)
    with WbemService(str(tmp_path / 'other'), http=False, cert_hostnames=('cimom.example.org',),
                     require_client_cert=True, bulk=0) as other:
        x509 = {'cert_file': other.client_cert, 'key_file': other.client_key}
        wrong_host = pywbem.WBEMConnection(other.https_url, ca_certs=other.ca_file, x509=x509)
        with pytest.raises(pywbem.ConnectionError, match="match|mismatch"):
            wrong_host.EnumerateInstanceNames('CIM_ComputerSystem', namespace=CIMV2)
        unverified = pywbem.WBEMConnection(other.https_url, other.credentials, no_verification=True)
        with pytest.raises(pywbem.ConnectionError):  # no client certificate
            unverified.EnumerateInstanceNames('CIM_ComputerSystem', namespace=CIMV2)
        ok = pywbem.WBEMConnection(other.https_url, no_verification=True, x509=x509)
        assert len(ok.EnumerateInstanceNames('CIM_ComputerSystem', namespace=CIMV2)) == 3
        assert other.count(operation='EnumerateInstanceNames') == 1
        assert other.http_url is None
        pid = other.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_anonymous_server(tmp_path):
    with WbemService(str(tmp_path / 'anon'), username=None, https=False, bulk=0) as anon:
        conn = pywbem.WBEMConnection(anon.http_url, default_namespace=CIMV2)
        assert len(conn.EnumerateInstanceNames('CIM_ComputerSystem')) == 3
        assert anon.requests()[0]['auth'] == 'none'
        assert anon.ansible_vars()['wbem_password'] is None


# -- DSP0200 HTTP details -------------------------------------------------------------------------

def test_http_protocol_details(wbem):
    raw = http.client.HTTPConnection('127.0.0.1', wbem.http_port, timeout=10)
    status, headers, data = post(wbem, ENUM_CS, connection=raw)
    assert status == 200
    assert headers['content-type'] == 'application/xml; charset="utf-8"'
    assert headers['cimoperation'] == 'MethodResponse'
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8" ?>')
    assert b'<MESSAGE ID="4711" PROTOCOLVERSION="1.0">' in data
    first_socket = raw.sock
    status, _headers, _data = post(wbem, ENUM_CS, connection=raw)
    assert status == 200 and raw.sock is first_socket  # HTTP/1.1 keep-alive
    raw.close()

    cases = [
        (dict(body=ENUM_CS, headers={'CIMOperation': None}), 400, 'header-mismatch'),
        (dict(body=ENUM_CS, method='GetInstance'), 400, 'header-mismatch'),
        (dict(body=ENUM_CS, cimobject='root%2Finterop'), 400, 'header-mismatch'),
        (dict(body='<CIM><MESSAGE'), 400, 'request-not-well-formed'),
        (dict(body='<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"/>'), 400, 'request-not-valid'),
        (dict(body=imethodcall('EnumerateInstanceNames', protocol='2.0')), 501, 'unsupported-protocol-version'),
        (dict(body=ENUM_CS.replace('CIMVERSION="2.0"', 'CIMVERSION="3.0"')), 501, 'unsupported-cim-version'),
        (dict(body=ENUM_CS, headers={'CIMProtocolVersion': '2.0'}), 501, 'unsupported-protocol-version'),
    ]
    for kwargs, want_status, want_error in cases:
        status, headers, _data = post(wbem, **kwargs)
        assert (status, headers.get('cimerror')) == (want_status, want_error), kwargs

    status, _headers, data = post(wbem, imethodcall('EnumerateInstanceNames'))
    assert status == 200 and b'<ERROR CODE="4"' in data  # missing ClassName: CIM_ERR_INVALID_PARAMETER
    status, _headers, data = post(wbem, imethodcall('Frobnicate'), method='Frobnicate')
    assert status == 200 and b'<ERROR CODE="7"' in data  # CIM_ERR_NOT_SUPPORTED

    status, headers, data = post(wbem, ENUM_CS, verb='M-POST', headers={
        'Man': 'http://www.dmtf.org/cim/mapping.http#ns=73', 'CIMOperation': None, 'CIMMethod': None,
        'CIMObject': None, '73-CIMOperation': 'MethodCall', '73-CIMMethod': 'EnumerateInstanceNames',
        '73-CIMObject': 'root%2Fcimv2'})
    assert status == 200 and headers['73-cimoperation'] == 'MethodResponse' and 'ext' in headers
    assert data.count(b'<INSTANCENAME ') == 3


def test_request_log(wbem):
    conn = connect(wbem, 'http')
    wbem.reset_requests()
    assert wbem.requests() == []
    conn.GetInstance(CS_PATH)
    conn.InvokeMethod('RequestStateChange', CS_PATH, RequestedState=pywbem.Uint16(2))
    entries = wbem.requests()
    assert [e['seq'] for e in entries] == [entries[0]['seq'], entries[0]['seq'] + 1]
    get, invoke = entries
    assert get['operation'] == 'GetInstance' and get['write'] is False
    assert get['classname'] == 'CIM_ComputerSystem' and get['namespace'] == CIMV2
    assert get['path'] == str(CS_PATH)
    assert get['http_status'] == 200 and get['cim_status'] == 0 and get['cim_status_name'] is None
    assert invoke['operation'] == 'InvokeMethod' and invoke['method'] == 'RequestStateChange' and invoke['write']
    assert wbem.count(operation='getinstance') == 1 and wbem.count(write=True) == 1
    assert wbem.operations() == ['GetInstance', 'InvokeMethod:RequestStateChange']


# -- sblim-wbemcli as an independent second client -----------------------------------------------

def _wbemcli(*args):
    proc = subprocess.run(['wbemcli'] + list(args), capture_output=True, text=True, timeout=60, check=False,
                          stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.skipif(shutil.which('wbemcli') is None, reason='sblim-wbemcli is not installed (bindep.txt, profile test)')
def test_wbemcli(wbem):
    user, password = wbem.credentials
    http_base = 'http://%s:%s@127.0.0.1:%d' % (user, password, wbem.http_port)
    https_base = 'https://%s:%s@127.0.0.1:%d' % (user, password, wbem.https_port)
    wbem.reset_requests()

    rc, out, err = _wbemcli('ein', http_base + '/root/cimv2:CIM_ComputerSystem')
    assert rc == 0, err
    assert sorted(line.rsplit(',Name=', 1)[1] for line in out.split()) == [
        '"%s"' % SYSTEM_NAME, '"node01.example.org"', '"node02.example.org"']

    rc, out, err = _wbemcli('gi', '-cacert', wbem.ca_file, https_base + '/root/cimv2:CIM_ComputerSystem.'
                            'CreationClassName="CIM_ComputerSystem",Name="node02.example.org"')
    assert rc == 0, err
    assert 'EnabledState=3' in out and 'StatusDescriptions="Degraded","Fan 2 failed"' in out

    rc, out, err = _wbemcli('ein', http_base + '/root/cimv2:CIM_ConcreteJob')  # empty result
    assert rc == 0 and out == '', err

    rc, out, err = _wbemcli('ecn', '-noverify', https_base + '/root/interop')
    assert rc == 0, err
    assert 'root/interop:CIM_IndicationSubscription' in out

    rc, out, err = _wbemcli('ec', '-nl', '-cacert', wbem.ca_file, https_base + '/root/cimv2:CIM_System')
    assert rc == 0, err
    assert 'root/cimv2:CIM_ComputerSystem : CIM_System' in out and '-PrimaryOwnerContact=' in out

    rc, out, err = _wbemcli('ei', '-nl', '-cacert', wbem.ca_file, '-clientcert', wbem.client_cert, '-clientkey',
                            wbem.client_key, 'https://localhost:%d/root/interop:CIM_RegisteredProfile' % wbem.https_port)
    assert rc == 0, err
    assert out.count('RegisteredName=') == 6

    rc, out, err = _wbemcli('ein', 'http://%s:wrong@127.0.0.1:%d/root/cimv2:CIM_ComputerSystem' % (user, wbem.http_port))
    assert rc != 0 and 'username/password' in (out + err)
    rc, out, err = _wbemcli('ein', https_base + '/root/cimv2:CIM_ComputerSystem')  # our CA is not the system's
    assert rc != 0

    log = wbem.requests()
    assert [(e['operation'], e['scheme'], e['http_status']) for e in log] == [
        ('EnumerateInstanceNames', 'http', 200), ('GetInstance', 'https', 200), ('EnumerateInstanceNames', 'http', 200),
        ('EnumerateClassNames', 'https', 200),
        ('EnumerateClasses', 'https', 200), ('EnumerateInstances', 'https', 200),
        ('EnumerateInstanceNames', 'http', 401)]
    assert log[5]['auth'] == 'certificate'


# -- the standalone command ----------------------------------------------------------------------

def test_command_line_help():
    proc = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                        'harness', 'wbem_server'), '--help'],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    for option in ('--http-port', '--https-port', '--generate-certs', '--username', '--quirks', '--bulk'):
        assert option in proc.stdout


def test_demo_services_include_wbem():
    from harness.services import demo_services  # pylint: disable=import-outside-toplevel
    assert WbemService in demo_services()


def test_tls_context(wbem):
    from harness.wbem_server.server import tls_context  # pylint: disable=import-outside-toplevel
    tls = dict(wbem.tls)
    context = tls_context(tls['server_cert'], tls['server_key'], tls['ca'])
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2 and context.verify_mode == ssl.CERT_OPTIONAL
    assert tls_context(tls['server_cert'], tls['server_key'], tls['ca'], True).verify_mode == ssl.CERT_REQUIRED
    assert tls_context(tls['server_cert'], tls['server_key']).verify_mode == ssl.CERT_NONE
    for name in ('ca_key', 'server_key', 'client_key', 'untrusted_client_key'):
        assert os.stat(tls[name]).st_mode & 0o077 == 0, name
