# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's WBEM client (plugins/module_utils/wbem) against the test CIMOM.

Every CIM operation of the client runs against the test server (tests/harness/wbem_server, on
pywbem_mock) over plain HTTP with Basic auth (``allow_plain_http_auth``), HTTPS with Basic
auth and HTTPS with a client certificate; the server's request log shows what arrived. The
quirk modes of the server put the failure paths on the wire: each must come out as one of the
client's error classes with its protocol name, without a traceback or a secret in the message.
"""

import base64
import socket
from urllib.parse import quote

import pytest

pytest.importorskip('lxml')
pytest.importorskip('pywbem_mock')

# pylint: disable=wrong-import-position
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import (  # noqa: E402
    HostsecError, fail_on_error)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import exceptions as wexc  # noqa: E402
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (  # noqa: E402
    CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMParameter, CIMProperty, CIMQualifier,
    CIMQualifierDeclaration)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_types import (  # noqa: E402
    CIMDateTime, Char16, Real32, Real64, Sint8, Sint16, Sint32, Sint64, Uint8, Uint16, Uint32,
    Uint64)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.operations import (  # noqa: E402
    WBEMConnection)

from harness.process import free_port  # noqa: E402
from harness.services.wbem import CIMV2, INTEROP, SYSTEM_NAME, WbemService  # noqa: E402

pytestmark = pytest.mark.slow

BULK = 200  # HOSTSEC_BulkElement instances: ~290 kB as EnumerateInstances response

TRANSPORTS = ('http-basic', 'https-basic', 'https-cert')

INTRINSIC = {'EnumerateInstanceNames', 'EnumerateInstances', 'GetInstance', 'ModifyInstance',
             'CreateInstance', 'DeleteInstance', 'AssociatorNames', 'Associators', 'ReferenceNames',
             'References', 'ExecQuery', 'EnumerateClassNames', 'EnumerateClasses', 'GetClass',
             'ModifyClass', 'CreateClass', 'DeleteClass', 'EnumerateQualifiers', 'GetQualifier',
             'SetQualifier', 'DeleteQualifier'}


def system_path(name):
    return CIMInstanceName('CIM_ComputerSystem', {'CreationClassName': 'CIM_ComputerSystem', 'Name': name},
                           namespace=CIMV2)


NODE01 = system_path('node01.example.org')
NODE02 = system_path('node02.example.org')
CIMOM = system_path(SYSTEM_NAME)
ALLTYPES1 = CIMInstanceName('HOSTSEC_AllTypes', {'InstanceID': 'hostsec:alltypes:1'}, namespace=CIMV2)
ALLTYPES2 = CIMInstanceName('HOSTSEC_AllTypes', {'InstanceID': 'hostsec:alltypes:2'}, namespace=CIMV2)


@pytest.fixture(scope='module')
def wbem(tmp_path_factory):
    with WbemService(str(tmp_path_factory.mktemp('wbem-client')), bulk=BULK) as service:
        yield service


@pytest.fixture(autouse=True)
def _clean(wbem, monkeypatch):
    # Both are set on some machines; tests that need them set them explicitly.
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        monkeypatch.delenv(name, raising=False)
    wbem.clear_quirks()
    wbem.reset_requests()
    yield
    wbem.clear_quirks()


def connect(wbem, transport='https-basic', **kwargs):
    """A WBEMConnection of the collection's client to the test CIMOM."""
    scheme, auth = transport.split('-')
    if auth == 'basic':
        kwargs.setdefault('creds', wbem.credentials)
    elif auth == 'cert':
        kwargs.setdefault('x509', {'cert_file': wbem.client_cert, 'key_file': wbem.client_key})
    if scheme == 'http':
        kwargs.setdefault('allow_plain_http_auth', True)
        url = kwargs.pop('url', wbem.http_url)
    else:
        kwargs.setdefault('ca_certs', wbem.ca_file)
        url = kwargs.pop('url', wbem.https_url)
    kwargs.setdefault('timeout', 10)
    return WBEMConnection(url, **kwargs)


class FakeModule(object):
    """What ``fail_on_error`` needs of an AnsibleModule."""

    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def check_error(wbem, excinfo, cls, name):
    """The error is ``cls`` with ``error_name`` ``name``, and the module failure a module would
    report for it names both, without a traceback or the password."""
    exc = excinfo.value
    assert isinstance(exc, cls), '%s: %s' % (type(exc).__name__, exc)
    assert isinstance(exc, HostsecError)
    assert exc.error_name == name, (exc.error_name, str(exc))
    module = FakeModule()
    with pytest.raises(SystemExit):
        with fail_on_error(module):
            raise exc
    msg = module.failed['msg']
    assert msg.startswith('%s: %s: ' % (type(exc).__name__, name)), msg
    assert 'exception' not in module.failed
    assert module.failed['error']['class'] == type(exc).__name__
    for text in (msg, repr(module.failed)):
        assert 'Traceback' not in text
        assert wbem.password not in text
        assert base64.b64encode(('%s:%s' % wbem.credentials).encode()).decode() not in text
    return msg


def clients(wbem):
    """The distinct client addresses (address:port = TCP connections) in the request log."""
    return {entry['client'] for entry in wbem.requests()}


# -- every operation over every transport ------------------------------------------------------

@pytest.mark.parametrize('transport', TRANSPORTS)
def test_every_intrinsic_operation(wbem, transport):
    conn = connect(wbem, transport)
    tag = transport.replace('-', '_')

    # classes
    deep = conn.EnumerateClassNames(DeepInheritance=True)
    assert {'CIM_ComputerSystem', 'HOSTSEC_AllTypes', 'HOSTSEC_BulkElement'} <= set(deep)
    top = conn.EnumerateClassNames()
    assert 'CIM_ManagedElement' in top and 'CIM_ComputerSystem' not in top
    systems = conn.EnumerateClasses(ClassName='CIM_System', DeepInheritance=True)
    assert [k.classname for k in systems] == ['CIM_ComputerSystem']
    assert systems[0].path.namespace == CIMV2
    alltypes = conn.GetClass('HOSTSEC_AllTypes', LocalOnly=False, IncludeQualifiers=True)
    assert alltypes.superclass == 'CIM_ManagedElement'
    assert alltypes.properties['PUint64'].type == 'uint64'
    assert alltypes.properties['PEmbeddedInstance'].embedded_object == 'instance'
    assert alltypes.methods['Echo'].parameters['PReference'].reference_class == 'CIM_ComputerSystem'
    assert alltypes.methods['Echo'].qualifiers['Static'].value is True
    origins = conn.GetClass('HOSTSEC_AllTypes', LocalOnly=False, IncludeClassOrigin=True).properties
    assert (origins['Caption'].class_origin, origins['Caption'].propagated) == ('CIM_ManagedElement', True)
    assert (origins['PUint8'].class_origin, origins['PUint8'].propagated) == ('HOSTSEC_AllTypes', False)
    assert 'Caption' not in conn.GetClass('HOSTSEC_AllTypes', LocalOnly=True).properties

    classname = 'HOSTSEC_ITest_%s' % tag
    conn.CreateClass(CIMClass(classname, properties=[
        CIMProperty('Name', None, type='string', qualifiers=[CIMQualifier('Key', True)])]))
    created = conn.GetClass(classname, LocalOnly=False)
    assert list(created.properties) == ['Name'] and created.properties['Name'].qualifiers['Key'].value
    created.properties['Note'] = CIMProperty('Note', None, type='string')
    conn.ModifyClass(created)
    assert sorted(conn.GetClass(classname).properties) == ['Name', 'Note']
    conn.DeleteClass(classname)
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.GetClass(classname)
    check_error(wbem, excinfo, wexc.CIMError, 'CIM_ERR_NOT_FOUND')

    # qualifier declarations
    declarations = {q.name: q for q in conn.EnumerateQualifiers()}
    assert {'Key', 'Description', 'EmbeddedInstance'} <= set(declarations)
    key = conn.GetQualifier('Key')
    assert key == declarations['Key'] and key.type == 'boolean' and key.value is False
    qualname = 'ITest_%s' % tag
    conn.SetQualifier(CIMQualifierDeclaration(qualname, 'string', value='itest', scopes={'CLASS': True},
                                              overridable=True, tosubclass=True))
    assert conn.GetQualifier(qualname).value == 'itest'
    conn.DeleteQualifier(qualname)
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.GetQualifier(qualname)
    assert excinfo.value.error_name == 'CIM_ERR_NOT_FOUND'

    # instances
    paths = conn.EnumerateInstanceNames('CIM_ComputerSystem')
    assert len(paths) == 3 and set(paths) == {CIMOM, NODE01, NODE02}
    assert all(p.namespace == CIMV2 for p in paths)
    systems = conn.EnumerateInstances('CIM_ComputerSystem', PropertyList=['Name', 'EnabledState'])
    assert {i['Name']: i['EnabledState'] for i in systems} == {
        SYSTEM_NAME: 2, 'node01.example.org': 2, 'node02.example.org': 3}
    assert all(set(i.keys()) == {'Name', 'EnabledState'} for i in systems)
    node = conn.GetInstance(NODE01)
    assert node['Roles'] == ['Compute', 'Batch'] and node.path == NODE01
    namespaces = conn.EnumerateInstances('CIM_Namespace', namespace=INTEROP)
    assert sorted(i['Name'] for i in namespaces) == [CIMV2, INTEROP]
    assert all(i.path.namespace == INTEROP for i in namespaces)

    new = CIMInstance('HOSTSEC_BulkElement', properties=[
        CIMProperty('InstanceID', 'hostsec:itest:%s' % tag), CIMProperty('Label', 'created'),
        CIMProperty('Index', Uint32(4711))])
    path = conn.CreateInstance(new)
    assert path.classname == 'HOSTSEC_BulkElement' and path['InstanceID'] == 'hostsec:itest:%s' % tag
    assert path.namespace == CIMV2
    instance = conn.GetInstance(path, PropertyList=['Label', 'Index'])
    assert instance['Label'] == 'created' and instance['Index'] == 4711
    instance['Label'] = 'modified'
    conn.ModifyInstance(instance, PropertyList=['Label'])
    assert conn.GetInstance(path)['Label'] == 'modified'
    conn.DeleteInstance(path)
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.GetInstance(path)
    assert excinfo.value.error_name == 'CIM_ERR_NOT_FOUND'

    # associations, on instances and on classes
    cpus = conn.AssociatorNames(NODE01, AssocClass='CIM_SystemDevice', ResultRole='PartComponent')
    assert sorted(p['DeviceID'] for p in cpus) == ['CPU0', 'CPU1']
    assert all(p.classname == 'CIM_Processor' and p.namespace == CIMV2 for p in cpus)
    associated = conn.Associators(NODE01, AssocClass='CIM_SystemDevice', PropertyList=['DeviceID'])
    assert sorted(i['DeviceID'] for i in associated) == ['CPU0', 'CPU1']
    assert {i.path for i in associated} == set(cpus)
    links = conn.ReferenceNames(NODE01, ResultClass='CIM_HostedService')
    assert sorted(p['Dependent']['Name'] for p in links) == ['ntpd', 'slurmd']
    owners = conn.References(ALLTYPES1, ResultClass='HOSTSEC_AllTypesOwner')
    assert [(i['Note'], i['Owner']) for i in owners] == [('first', CIMOM)]
    assert owners[0]['Element'] == ALLTYPES1
    assoc_classes = conn.AssociatorNames(CIMClassName('CIM_ComputerSystem', namespace=CIMV2),
                                         AssocClass='CIM_SystemDevice')
    assert sorted(c.classname for c in assoc_classes) == ['CIM_LogicalDevice', 'CIM_System']
    assert all(c.namespace == CIMV2 and c.host == SYSTEM_NAME for c in assoc_classes)
    ref_classes = dict((name.classname, klass) for name, klass in conn.References('HOSTSEC_AllTypes'))
    assert {'HOSTSEC_AllTypesOwner', 'CIM_Dependency'} <= set(ref_classes)
    assert ref_classes['HOSTSEC_AllTypesOwner'].properties['Element'].reference_class == 'HOSTSEC_AllTypes'
    class_refs = conn.ReferenceNames('CIM_Processor', ResultClass='CIM_SystemDevice')
    assert [c.classname for c in class_refs] == ['CIM_SystemDevice']
    class_assocs = conn.Associators('CIM_Processor', AssocClass='CIM_SystemDevice')
    assert sorted(klass.classname for _name, klass in class_assocs) == ['CIM_LogicalDevice', 'CIM_System']

    # query
    found = conn.ExecQuery('WQL', 'SELECT Name, EnabledState FROM CIM_ComputerSystem WHERE EnabledState = 3')
    assert [(i['Name'], i['EnabledState']) for i in found] == [('node02.example.org', 3)]

    scheme, auth = transport.split('-')
    entries = wbem.requests()
    assert {e['operation'] for e in entries} == INTRINSIC
    assert {(e['scheme'], e['user'], e['auth']) for e in entries} == {
        (scheme, wbem.username, 'certificate' if auth == 'cert' else 'basic')}
    assert len(clients(wbem)) == 1  # one persistent connection for all of them
    assert wbem.count(write=True) == 8


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_invoke_method_with_typed_parameters(wbem, transport):
    conn = connect(wbem, transport)
    embedded = CIMInstance('CIM_ComputerSystem', properties=[
        CIMProperty('CreationClassName', 'CIM_ComputerSystem'), CIMProperty('Name', 'echo.example.org')])
    sent = [
        CIMParameter('PBoolean', 'boolean', value=False),
        CIMParameter('PString', 'string', value='Grüße, <CIM> & "XML" \u2713'),
        CIMParameter('PChar16', 'char16', value=Char16('\u00df')),
        CIMParameter('PUint8', 'uint8', value=Uint8(255)),
        CIMParameter('PSint8', 'sint8', value=Sint8(-128)),
        CIMParameter('PUint16', 'uint16', value=Uint16(65535)),
        CIMParameter('PSint16', 'sint16', value=Sint16(-32768)),
        CIMParameter('PUint32', 'uint32', value=Uint32(4294967295)),
        CIMParameter('PSint32', 'sint32', value=Sint32(-2147483648)),
        CIMParameter('PUint64', 'uint64', value=Uint64(18446744073709551615)),
        CIMParameter('PSint64', 'sint64', value=Sint64(-9223372036854775808)),
        CIMParameter('PReal32', 'real32', value=Real32(1.5)),
        CIMParameter('PReal64', 'real64', value=Real64(-2.25e-10)),
        CIMParameter('PDateTime', 'datetime', value=CIMDateTime('20240229235959.123456+060')),
        CIMParameter('PReference', 'reference', value=NODE01),
        CIMParameter('PEmbeddedInstance', 'string', value=embedded, embedded_object='instance'),
        CIMParameter('PStringArray', 'string', value=['one', '', 'three'], is_array=True),
        CIMParameter('PUint32Array', 'uint32', value=[Uint32(0), Uint32(4294967295)], is_array=True),
        CIMParameter('PDateTimeArray', 'datetime', is_array=True, value=[
            CIMDateTime('20240101000000.000000+000'), CIMDateTime('00000001020304.500000:000')]),
        CIMParameter('PReferenceArray', 'reference', value=[NODE01, NODE02], is_array=True),
    ]
    result, out = conn.InvokeMethod('Echo', CIMClassName('HOSTSEC_AllTypes', namespace=CIMV2), Params=sent)
    assert result == len(sent) and isinstance(result, Uint32)
    assert sorted(out) == sorted(p.name for p in sent)
    for param in sent:
        value = out[param.name]
        if param.embedded_object:
            # the server marks the properties PROPAGATED="false": compare class and values
            assert (value.classname, dict(value.items())) == (param.value.classname, dict(param.value.items()))
            continue
        assert value == param.value, param.name
        items = value if isinstance(value, list) else [value]
        wanted = param.value if isinstance(param.value, list) else [param.value]
        if param.type == 'char16':  # a str, as pywbem returns it
            assert all(isinstance(v, str) for v in items)
        else:
            assert [type(v) for v in items] == [type(v) for v in wanted], param.name
    assert out['PEmbeddedInstance']['Name'] == 'echo.example.org'
    assert out['PDateTimeArray'][1].is_interval and not out['PDateTime'].is_interval

    # other values of the same types: interval, true, empty string and array, zero, NULL
    second = [
        CIMParameter('PBoolean', 'boolean', value=True),
        CIMParameter('PString', 'string', value=''),
        CIMParameter('PUint8', 'uint8', value=Uint8(0)),
        CIMParameter('PReal32', 'real32', value=Real32(-0.5)),
        CIMParameter('PReal64', 'real64', value=Real64(1e100)),
        CIMParameter('PDateTime', 'datetime', value=CIMDateTime('00000001020304.500000:000')),
        CIMParameter('PStringArray', 'string', value=[], is_array=True),
        CIMParameter('PUint32Array', 'uint32', value=None, is_array=True),
        CIMParameter('PReference', 'reference', value=None),
    ]
    result, out = conn.InvokeMethod('Echo', 'HOSTSEC_AllTypes', Params=second)
    assert result == len(second)
    assert {name: out[name] for name in out} == {p.name: p.value for p in second}
    assert out['PDateTime'].is_interval and out['PBoolean'] is True

    # keyword parameters, an instance method changing the repository, a method error
    result, out = conn.InvokeMethod('Increment', ALLTYPES2, Increment=Uint32(5))
    assert result == 0 and list(out) == ['Value'] and isinstance(out['Value'], Uint32)
    first = out['Value']
    result, out = conn.InvokeMethod('Increment', ALLTYPES2, Increment=Uint32(2))
    assert out['Value'] == first + 2 and conn.GetInstance(ALLTYPES2)['PUint32'] == first + 2
    result, out = conn.InvokeMethod('RequestStateChange', NODE02, RequestedState=Uint16(3))
    assert result == 0 and 'Job' in out and out['Job'] is None
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.InvokeMethod('Increment', 'HOSTSEC_AllTypes', Increment=Uint32(1))
    check_error(wbem, excinfo, wexc.CIMError, 'CIM_ERR_INVALID_PARAMETER')
    assert wbem.operations() == ['InvokeMethod:Echo', 'InvokeMethod:Echo', 'InvokeMethod:Increment',
                                 'InvokeMethod:Increment', 'GetInstance', 'InvokeMethod:RequestStateChange',
                                 'InvokeMethod:Increment']
    assert wbem.count(operation='InvokeMethod', classname='HOSTSEC_AllTypes', method='Echo', cim_status=0) == 2


ALLTYPES_TYPES = {
    'PBoolean': bool, 'PString': str, 'PChar16': str, 'PUint8': Uint8, 'PSint8': Sint8, 'PUint16': Uint16,
    'PSint16': Sint16, 'PUint32': Uint32, 'PSint32': Sint32, 'PUint64': Uint64, 'PSint64': Sint64,
    'PReal32': Real32, 'PReal64': Real64, 'PDateTime': CIMDateTime, 'PInterval': CIMDateTime,
    'PEmbeddedInstance': CIMInstance, 'PEmbeddedObject': CIMInstance, 'POctetString': Uint8,
    'PBooleanArray': bool, 'PStringArray': str, 'PChar16Array': str, 'PUint8Array': Uint8, 'PSint8Array': Sint8,
    'PUint16Array': Uint16, 'PSint16Array': Sint16, 'PUint32Array': Uint32, 'PSint32Array': Sint32,
    'PUint64Array': Uint64, 'PSint64Array': Sint64, 'PReal32Array': Real32, 'PReal64Array': Real64,
    'PDateTimeArray': CIMDateTime, 'PEmbeddedInstanceArray': CIMInstance,
}


def test_every_cim_type_round_trips_as_instance_properties(wbem):
    """The types Echo cannot take (embedded object, arrays of every type, octet strings) as
    properties: read, created as a new instance, read back, set to NULL, read back."""
    conn = connect(wbem)
    original = conn.GetInstance(ALLTYPES1)
    for name, pytype in ALLTYPES_TYPES.items():
        prop = original.properties[name]
        values = prop.value if prop.is_array else [prop.value]
        assert values and all(v.__class__ is pytype for v in values), (name, prop.value)  # exact type, not a subclass
    assert original['PUint64Array'] == [0, 18446744073709551615] and original['PReal64Array'] == [3.0, 1e100]
    assert str(original['PInterval']) == '00000001020304.500000:000' and original['PInterval'].is_interval
    assert original['PEmbeddedInstanceArray'][1]['Name'] == 'b.example.org'
    assert original['PString'] == 'Grüße, <CIM> & "XML" \u2713' and original['PChar16'] == '\u00df'

    copy = original.copy()
    copy.path = None
    copy['InstanceID'] = 'hostsec:alltypes:itest'
    path = conn.CreateInstance(copy)
    try:
        again = conn.GetInstance(path)
        assert sorted(again.properties) == sorted(original.properties)
        for name in ALLTYPES_TYPES:
            assert again.properties[name] == original.properties[name], name
        for name in ALLTYPES_TYPES:
            prop = again.properties[name]
            again[name] = CIMProperty(name, None, type=prop.type, is_array=prop.is_array,
                                      embedded_object=prop.embedded_object)
        conn.ModifyInstance(again, PropertyList=list(ALLTYPES_TYPES))
        nulls = conn.GetInstance(path)
        assert {name: nulls[name] for name in ALLTYPES_TYPES} == dict.fromkeys(ALLTYPES_TYPES)
        assert nulls.properties['PUint64Array'].type == 'uint64' and nulls.properties['PUint64Array'].is_array
    finally:
        conn.DeleteInstance(path)
    assert wbem.operations() == ['GetInstance', 'CreateInstance', 'GetInstance', 'ModifyInstance', 'GetInstance',
                                 'DeleteInstance']
    assert wbem.requests(operation='CreateInstance')[0]['properties'] == sorted(original.properties)


def test_get_and_set_property_are_not_served_by_the_test_server(wbem):
    """The test CIMOM answers the deprecated GetProperty/SetProperty with CIM_ERR_NOT_SUPPORTED
    (as most servers do); the client sends them and reports that status."""
    conn = connect(wbem)
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.GetProperty(NODE01, 'ElementName')
    check_error(wbem, excinfo, wexc.CIMError, 'CIM_ERR_NOT_SUPPORTED')
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.SetProperty(NODE01, 'ElementName', 'renamed')
    check_error(wbem, excinfo, wexc.CIMError, 'CIM_ERR_NOT_SUPPORTED')
    assert wbem.operations() == ['GetProperty', 'SetProperty']
    assert conn.GetInstance(NODE01)['ElementName'] == 'node01'


def test_get_property_response_from_the_wire(wbem):
    """A GetProperty answer as a server that has it sends it (raw_response), parsed."""
    body = ('<?xml version="1.0" encoding="utf-8" ?><CIM CIMVERSION="2.0" DTDVERSION="2.0">'
            '<MESSAGE ID="1001" PROTOCOLVERSION="1.0"><SIMPLERSP><IMETHODRESPONSE NAME="GetProperty">'
            '<IRETURNVALUE><VALUE>node01</VALUE></IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>')
    wbem.set_quirks(raw_response={'body': body, 'operations': ['GetProperty']})
    conn = connect(wbem)
    assert conn.GetProperty(NODE01, 'ElementName') == 'node01'
    assert wbem.requests(operation='GetProperty')[0]['quirks'] == ['raw_response']


# -- pull operations and the Iter* helpers ----------------------------------------------------

def local(path):
    """The path without host (servers put their own name there, the fallback ours)."""
    path = path.copy()
    path.host = None
    return path


def instance_map(instances):
    return {local(i.path): dict(i.items()) for i in instances}


def drain(conn, first, pull):
    """Every object of an open enumeration: (objects, number of pull requests)."""
    objects = list(first[0])
    result, pulls = first, 0
    while not result.eos:
        result = pull(result.context, 2)
        objects.extend(result[0])
        pulls += 1
    return objects, pulls


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_pull_operations(wbem, transport):
    conn = connect(wbem, transport)
    opened = conn.OpenEnumerateInstances('HOSTSEC_BulkElement', PropertyList=['Index'], MaxObjectCount=8,
                                         FilterQueryLanguage='DMTF:FQL', FilterQuery='Index < 20')
    assert len(opened.instances) == 8 and not opened.eos and opened.context[1] == CIMV2
    instances, pulls = drain(conn, opened, conn.PullInstancesWithPath)
    assert sorted(i['Index'] for i in instances) == list(range(20)) and pulls == 6
    assert all(set(i.keys()) == {'Index'} and i.path.namespace == CIMV2 for i in instances)

    opened = conn.OpenEnumerateInstancePaths('CIM_ComputerSystem', MaxObjectCount=1)
    paths, pulls = drain(conn, opened, conn.PullInstancePaths)
    assert {local(p) for p in paths} == {local(CIMOM), local(NODE01), local(NODE02)} and pulls >= 1

    opened = conn.OpenAssociatorInstances(NODE01, AssocClass='CIM_SystemDevice', MaxObjectCount=0)
    assert opened.instances == [] and not opened.eos
    cpus, _pulls = drain(conn, opened, conn.PullInstancesWithPath)
    assert sorted(i['DeviceID'] for i in cpus) == ['CPU0', 'CPU1']
    opened = conn.OpenAssociatorInstancePaths(NODE01, ResultClass='HOSTSEC_TestService', MaxObjectCount=1)
    services, _pulls = drain(conn, opened, conn.PullInstancePaths)
    assert sorted(p['Name'] for p in services) == ['ntpd', 'slurmd']

    opened = conn.OpenReferenceInstances(NODE01, ResultClass='CIM_HostedService', MaxObjectCount=1)
    links, _pulls = drain(conn, opened, conn.PullInstancesWithPath)
    assert sorted(i['Dependent']['Name'] for i in links) == ['ntpd', 'slurmd']
    opened = conn.OpenReferenceInstancePaths(ALLTYPES1, MaxObjectCount=5)
    assert opened.eos and opened.context is None
    assert [p.classname for p in opened.paths] == ['HOSTSEC_AllTypesOwner']

    opened = conn.OpenQueryInstances('DMTF:CQL', 'SELECT DeviceID, SystemName FROM CIM_Processor',
                                     ReturnQueryResultClass=True, MaxObjectCount=1)
    assert isinstance(opened.query_result_class, CIMClass)
    assert opened.query_result_class.classname == 'CIM_Processor'
    rows, pulls = drain(conn, opened, conn.PullInstances)
    assert sorted((i['SystemName'], i['DeviceID']) for i in rows) == [
        ('node01.example.org', 'CPU0'), ('node01.example.org', 'CPU1'), ('node02.example.org', 'CPU0')]
    assert pulls >= 1

    opened = conn.OpenEnumerateInstances('HOSTSEC_BulkElement', MaxObjectCount=1)
    conn.CloseEnumeration(opened.context)
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.PullInstancesWithPath(opened.context, 1)
    check_error(wbem, excinfo, wexc.CIMError, 'CIM_ERR_INVALID_ENUMERATION_CONTEXT')

    assert set(wbem.operations()) == {
        'OpenEnumerateInstances', 'OpenEnumerateInstancePaths', 'OpenAssociatorInstances',
        'OpenAssociatorInstancePaths', 'OpenReferenceInstances', 'OpenReferenceInstancePaths',
        'OpenQueryInstances', 'PullInstancesWithPath', 'PullInstancePaths', 'PullInstances', 'CloseEnumeration'}
    assert wbem.requests(operation='OpenEnumerateInstances')[0]['query'] == 'Index < 20'
    assert len(clients(wbem)) == 1


# (name, call, open operation, pull operation, traditional operation, what the result is)
ITERATORS = [
    ('IterEnumerateInstances', lambda c: c.IterEnumerateInstances('CIM_ComputerSystem', MaxObjectCount=2),
     'OpenEnumerateInstances', 'PullInstancesWithPath', 'EnumerateInstances', 'instances'),
    ('IterEnumerateInstancePaths', lambda c: c.IterEnumerateInstancePaths('CIM_Processor', MaxObjectCount=2),
     'OpenEnumerateInstancePaths', 'PullInstancePaths', 'EnumerateInstanceNames', 'paths'),
    ('IterAssociatorInstances',
     lambda c: c.IterAssociatorInstances(NODE01, AssocClass='CIM_HostedService', MaxObjectCount=1),
     'OpenAssociatorInstances', 'PullInstancesWithPath', 'Associators', 'instances'),
    ('IterAssociatorInstancePaths',
     lambda c: c.IterAssociatorInstancePaths(NODE01, ResultClass='CIM_Processor', MaxObjectCount=1),
     'OpenAssociatorInstancePaths', 'PullInstancePaths', 'AssociatorNames', 'paths'),
    ('IterReferenceInstances',
     lambda c: c.IterReferenceInstances(NODE01, ResultClass='CIM_SystemDevice', MaxObjectCount=1),
     'OpenReferenceInstances', 'PullInstancesWithPath', 'References', 'instances'),
    ('IterReferenceInstancePaths', lambda c: c.IterReferenceInstancePaths(NODE01, MaxObjectCount=2),
     'OpenReferenceInstancePaths', 'PullInstancePaths', 'ReferenceNames', 'paths'),
    ('IterQueryInstances',
     lambda c: c.IterQueryInstances('DMTF:CQL', 'SELECT * FROM CIM_Processor WHERE MaxClockSpeed > 0',
                                    MaxObjectCount=2).instances,
     'OpenQueryInstances', 'PullInstances', 'ExecQuery', 'rows'),
]


def expected_results(conn):
    """What each Iter* helper must yield, from the traditional operations."""
    return {
        'IterEnumerateInstances': instance_map(conn.EnumerateInstances('CIM_ComputerSystem')),
        'IterEnumerateInstancePaths': {local(p) for p in conn.EnumerateInstanceNames('CIM_Processor')},
        'IterAssociatorInstances': instance_map(conn.Associators(NODE01, AssocClass='CIM_HostedService')),
        'IterAssociatorInstancePaths': {local(p) for p in conn.AssociatorNames(NODE01, ResultClass='CIM_Processor')},
        'IterReferenceInstances': instance_map(conn.References(NODE01, ResultClass='CIM_SystemDevice')),
        'IterReferenceInstancePaths': {local(p) for p in conn.ReferenceNames(NODE01)},
        'IterQueryInstances': sorted(sorted(i.items()) for i in conn.ExecQuery(
            'DMTF:CQL', 'SELECT * FROM CIM_Processor WHERE MaxClockSpeed > 0')),
    }


def as_result(kind, objects):
    if kind == 'instances':
        return instance_map(objects)
    if kind == 'paths':
        return {local(p) for p in objects}
    return sorted(sorted(i.items()) for i in objects)


@pytest.mark.parametrize('transport', ('http-basic', 'https-cert'))
def test_iterators_use_pull_operations(wbem, transport):
    conn = connect(wbem, transport)
    expected = expected_results(conn)
    for name, call, open_op, pull_op, _traditional, kind in ITERATORS:
        wbem.reset_requests()
        objects = list(call(conn))
        assert as_result(kind, objects) == expected[name], name
        assert len(objects) >= 2, name
        operations = wbem.operations()
        assert operations[0] == open_op and set(operations[1:]) == {pull_op}, (name, operations)
        assert wbem.count(cim_status=0) == len(operations)


@pytest.mark.parametrize('status', ['CIM_ERR_NOT_SUPPORTED', 'CIM_ERR_FAILED'])
def test_iterators_fall_back_when_the_server_has_no_pull(wbem, status):
    conn = connect(wbem)
    expected = expected_results(conn)
    wbem.set_quirks(no_pull=True if status == 'CIM_ERR_NOT_SUPPORTED' else status)
    for name, call, open_op, _pull_op, traditional, kind in ITERATORS:
        wbem.reset_requests()
        assert as_result(kind, call(conn)) == expected[name], name
        assert wbem.operations() == [open_op, traditional], name
        refused = wbem.requests(operation=open_op)[0]
        assert (refused['cim_status_name'], refused['quirks']) == (status, ['no_pull'])
        # the client remembers: the next call goes straight to the traditional operation
        wbem.reset_requests()
        assert as_result(kind, call(conn)) == expected[name], name
        assert wbem.operations() == [traditional], name

    # pull only: no fallback, the server's status comes through
    strict = connect(wbem, use_pull_operations=True)
    for name, call, open_op, _pull_op, traditional, _kind in ITERATORS:
        wbem.reset_requests()
        with pytest.raises(wexc.CIMError) as excinfo:
            list(call(strict))
        check_error(wbem, excinfo, wexc.CIMError, status)
        assert wbem.operations() == [open_op], name


def test_iterators_without_pull_on_request(wbem):
    conn = connect(wbem, use_pull_operations=False)
    expected = expected_results(conn)
    for name, call, _open_op, _pull_op, traditional, kind in ITERATORS:
        wbem.reset_requests()
        assert as_result(kind, call(conn)) == expected[name], name
        assert wbem.operations() == [traditional], name


# -- failure paths: authentication and TLS -----------------------------------------------------

@pytest.mark.parametrize('transport', ('http-basic', 'https-basic'))
def test_wrong_password_is_an_auth_error(wbem, transport):
    conn = connect(wbem, transport, creds=(wbem.username, wbem.password + '-wrong'))
    with pytest.raises(wexc.AuthError) as excinfo:
        conn.GetInstance(NODE01)
    msg = check_error(wbem, excinfo, wexc.AuthError, 'HTTP_401')
    assert wbem.password + '-wrong' not in msg
    [entry] = wbem.requests()
    assert (entry['http_status'], entry['auth'], entry['operation']) == (401, None, 'GetInstance')


def test_password_over_plain_http_is_refused_before_sending(wbem):
    with pytest.raises(wexc.WBEMValueError) as excinfo:
        WBEMConnection(wbem.http_url, creds=wbem.credentials)
    check_error(wbem, excinfo, wexc.WBEMValueError, 'INSECURE_AUTH')
    assert wbem.requests() == []
    # the same connection with the explicit option works (and is seen by the server)
    assert connect(wbem, 'http-basic').GetInstance(NODE01)['Name'] == 'node01.example.org'
    assert [(e['scheme'], e['auth']) for e in wbem.requests()] == [('http', 'basic')]


def test_always_401(wbem):
    wbem.set_quirks(always_401=True)
    for transport in TRANSPORTS:
        with pytest.raises(wexc.AuthError) as excinfo:
            connect(wbem, transport).EnumerateInstanceNames('CIM_ComputerSystem')
        check_error(wbem, excinfo, wexc.AuthError, 'HTTP_401')
    assert [(e['http_status'], e['quirks']) for e in wbem.requests()] == [(401, ['always_401'])] * 3


def test_untrusted_server_certificate(wbem):
    for kwargs in ({'ca_certs': wbem.untrusted_ca_file}, {'ca_certs': None}):
        conn = connect(wbem, **kwargs)
        with pytest.raises(wexc.WBEMConnectionError) as excinfo:
            conn.GetInstance(NODE01)
        msg = check_error(wbem, excinfo, wexc.WBEMConnectionError, 'CERTIFICATE_VERIFY_FAILED')
        assert 'self-signed certificate in certificate chain' in msg or 'unable to get local issuer' in msg
    assert wbem.requests() == []  # nothing was sent


def _pin_to_loopback(address, timeout):
    """socket_factory: connect to the test server whatever name the URL has (like curl --resolve)."""
    return socket.create_connection(('127.0.0.1', address[1]), timeout)


def test_wrong_hostname(wbem):
    conn = connect(wbem, url=wbem.https_url_for('cimom.wrong.example'), socket_factory=_pin_to_loopback)
    with pytest.raises(wexc.WBEMConnectionError) as excinfo:
        conn.GetInstance(NODE01)
    msg = check_error(wbem, excinfo, wexc.WBEMConnectionError, 'CERTIFICATE_VERIFY_FAILED')
    assert 'cimom.wrong.example' in msg and 'mismatch' in msg.lower()
    assert wbem.requests() == []
    # names that are in the certificate work, through the same pinned socket
    for name in ('localhost', '127.0.0.1'):
        conn = connect(wbem, url=wbem.https_url_for(name), socket_factory=_pin_to_loopback)
        assert conn.GetInstance(NODE01)['Name'] == 'node01.example.org'


def test_validate_certs_false_accepts_any_certificate(wbem):
    for kwargs in ({'validate_certs': False}, {'no_verification': True}):
        conn = connect(wbem, url=wbem.https_url_for('cimom.wrong.example'), socket_factory=_pin_to_loopback,
                       ca_certs=wbem.untrusted_ca_file, **kwargs)
        assert conn.GetInstance(NODE01)['Name'] == 'node01.example.org'
    assert wbem.count(operation='GetInstance', http_status=200) == 2


def test_explicit_ca_certs_win_over_the_environment(wbem, monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', wbem.untrusted_ca_file)
    monkeypatch.setenv('CURL_CA_BUNDLE', wbem.untrusted_ca_file)
    assert connect(wbem, ca_certs=wbem.ca_file).GetInstance(NODE01)['Name'] == 'node01.example.org'
    # ... and without an explicit CA the environment is what is trusted
    with pytest.raises(wexc.WBEMConnectionError) as excinfo:
        connect(wbem, ca_certs=None).GetInstance(NODE01)
    check_error(wbem, excinfo, wexc.WBEMConnectionError, 'CERTIFICATE_VERIFY_FAILED')
    monkeypatch.delenv('REQUESTS_CA_BUNDLE')
    monkeypatch.setenv('CURL_CA_BUNDLE', wbem.ca_file)
    assert connect(wbem, ca_certs=None).GetInstance(NODE01)['Name'] == 'node01.example.org'
    assert wbem.count(operation='GetInstance') == 2


def test_client_certificate_auth(wbem):
    conn = connect(wbem, 'https-cert')
    assert conn.creds is None
    assert conn.GetInstance(NODE01)['Name'] == 'node01.example.org'
    assert [(e['auth'], e['user']) for e in wbem.requests()] == [('certificate', wbem.username)]
    # a certificate from a CA the server does not trust is refused in the TLS handshake
    untrusted = connect(wbem, 'https-cert', x509={'cert_file': wbem.untrusted_client_cert,
                                                  'key_file': wbem.untrusted_client_key})
    with pytest.raises(wexc.WBEMConnectionError) as excinfo:
        untrusted.GetInstance(NODE01)
    assert excinfo.value.error_name in ('SSL_ERROR', 'ECONNRESET')
    check_error(wbem, excinfo, wexc.WBEMConnectionError, excinfo.value.error_name)
    # a key that does not belong to the certificate: refused before connecting
    with pytest.raises(wexc.WBEMConnectionError) as excinfo:
        connect(wbem, 'https-cert', x509={'cert_file': wbem.client_cert, 'key_file': wbem.untrusted_client_key})
    check_error(wbem, excinfo, wexc.WBEMConnectionError, 'CLIENT_CERT_ERROR')
    assert wbem.count() == 1


@pytest.fixture
def encrypted_client_key(wbem, tmp_path):
    """The client key of the test CIMOM's client certificate, encrypted with a passphrase."""
    serialization = pytest.importorskip('cryptography.hazmat.primitives.serialization')
    with open(wbem.client_key, 'rb') as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    path = tmp_path / 'client-encrypted.key'
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(b'Client-Key-Pass-7')))
    path.chmod(0o600)
    return str(path), 'Client-Key-Pass-7'


def test_client_certificate_with_an_encrypted_key(wbem, encrypted_client_key):
    key_file, passphrase = encrypted_client_key
    conn = connect(wbem, 'https-cert', x509={'cert_file': wbem.client_cert, 'key_file': key_file,
                                             'key_passphrase': passphrase})
    assert conn.GetInstance(NODE01)['Name'] == 'node01.example.org'
    assert [(e['auth'], e['user']) for e in wbem.requests()] == [('certificate', wbem.username)]
    # without the passphrase: a clear error before connecting, never a prompt on the terminal
    with pytest.raises(wexc.WBEMConnectionError) as excinfo:
        connect(wbem, 'https-cert', x509={'cert_file': wbem.client_cert, 'key_file': key_file})
    msg = check_error(wbem, excinfo, wexc.WBEMConnectionError, 'CLIENT_KEY_ENCRYPTED')
    assert 'client_key_passphrase' in msg
    with pytest.raises(wexc.WBEMConnectionError) as excinfo:
        connect(wbem, 'https-cert', x509={'cert_file': wbem.client_cert, 'key_file': key_file,
                                          'key_passphrase': 'Wrong-Pass-3'})
    msg = check_error(wbem, excinfo, wexc.WBEMConnectionError, 'CLIENT_KEY_PASSPHRASE_WRONG')
    assert 'Wrong-Pass-3' not in msg and passphrase not in msg
    assert wbem.count() == 1


@pytest.mark.parametrize('name', ['St\u00f6p', 'Stop\u20ac'])
def test_method_names_that_are_not_ascii_reach_the_server(wbem, name):
    """DSP0200: the CIMMethod header is the UTF-8 name, %-encoded; the test CIMOM decodes it and
    compares it with the body, and then does not know the method."""
    conn = connect(wbem, 'http-basic')
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.InvokeMethod(name, NODE01)
    assert excinfo.value.error_name in ('CIM_ERR_METHOD_NOT_FOUND', 'CIM_ERR_METHOD_NOT_AVAILABLE',
                                        'CIM_ERR_NOT_SUPPORTED'), str(excinfo.value)
    head = conn.last_http_request.partition(b'\r\n\r\n')[0]
    expected = quote(name.encode('utf-8'), safe='_').encode('ascii')
    assert b'\r\nCIMMethod: ' + expected + b'\r\n' in head


# -- failure paths: the network ----------------------------------------------------------------

@pytest.mark.parametrize('transport', ('http-basic', 'https-basic'))
def test_timeout(wbem, transport):
    conn = connect(wbem, transport, timeout=1)
    wbem.set_quirks(delay={'value': 2.5, 'operations': ['GetInstance']})
    with pytest.raises(wexc.WBEMTimeoutError) as excinfo:
        conn.GetInstance(NODE01)
    check_error(wbem, excinfo, wexc.WBEMTimeoutError, 'TIMEOUT')
    assert isinstance(excinfo.value, wexc.WBEMConnectionError)
    # the connection is usable again (on a new TCP connection)
    assert len(conn.EnumerateInstanceNames('CIM_ComputerSystem')) == 3
    first, second = wbem.requests()
    assert first['quirks'] == ['delay'] and first['client'] != second['client']


@pytest.mark.parametrize('scheme', ('http', 'https'))
def test_connection_refused(wbem, scheme):
    conn = connect(wbem, '%s-basic' % scheme, url='%s://127.0.0.1:%d' % (scheme, free_port()))
    with pytest.raises(wexc.WBEMConnectionError) as excinfo:
        conn.GetInstance(NODE01)
    check_error(wbem, excinfo, wexc.WBEMConnectionError, 'ECONNREFUSED')


@pytest.mark.parametrize('transport', ('http-basic', 'https-basic'))
def test_reset_mid_body(wbem, transport):
    conn = connect(wbem, transport)
    wbem.set_quirks(reset={'fraction': 0.5, 'operations': ['EnumerateInstances']})
    with pytest.raises(wexc.WBEMConnectionError) as excinfo:
        conn.EnumerateInstances('CIM_ComputerSystem')
    check_error(wbem, excinfo, wexc.WBEMConnectionError, excinfo.value.error_name)
    assert excinfo.value.error_name in ('ECONNRESET', 'INCOMPLETE_READ'), excinfo.value.error_name
    assert not isinstance(excinfo.value, wexc.WBEMTimeoutError)
    assert wbem.requests()[0]['quirks'] == ['reset']
    wbem.clear_quirks()
    assert len(conn.EnumerateInstances('CIM_ComputerSystem')) == 3


def test_http_500_with_pegasus_error_detail(wbem):
    conn = connect(wbem)
    wbem.set_quirks(http_500=True)
    with pytest.raises(wexc.HTTPError) as excinfo:
        conn.GetInstance(NODE01)
    msg = check_error(wbem, excinfo, wexc.HTTPError, 'HTTP_500')
    assert excinfo.value.status == 500
    assert excinfo.value.cimdetails == {'PGErrorDetail': 'hostsec test CIMOM: quirk http_500'}
    assert 'PGErrorDetail: hostsec test CIMOM: quirk http_500' in msg


def test_cim_error_access_denied(wbem):
    conn = connect(wbem)
    before = conn.GetInstance(NODE02)
    changed = before.copy()
    changed['ElementName'] = 'must not be written'
    wbem.set_quirks(cim_error={'code': 'CIM_ERR_ACCESS_DENIED', 'operations': ['ModifyInstance']})
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.ModifyInstance(changed, PropertyList=['ElementName'])
    msg = check_error(wbem, excinfo, wexc.CIMError, 'CIM_ERR_ACCESS_DENIED')
    assert excinfo.value.status_code == 2 and excinfo.value.status_description == 'quirk cim_error'
    assert msg == ('CIMError: CIM_ERR_ACCESS_DENIED: ModifyInstance of root/cimv2:CIM_ComputerSystem.'
                   'CreationClassName="CIM_ComputerSystem",Name="node02.example.org": quirk cim_error')
    assert conn.GetInstance(NODE02)['ElementName'] == before['ElementName']


# -- tolerance of real brokers -----------------------------------------------------------------

@pytest.mark.parametrize('quirk', ['empty_ireturnvalue', 'omit_empty_ireturnvalue'])
def test_empty_or_omitted_ireturnvalue_is_tolerated(wbem, quirk):
    conn = connect(wbem)
    conn.debug = True
    wbem.set_quirks({quirk: True, 'compact_empty_elements': True})
    path = conn.CreateInstance(CIMInstance('HOSTSEC_BulkElement', properties=[
        CIMProperty('InstanceID', 'hostsec:itest:%s' % quirk), CIMProperty('Label', 'created')]))
    instance = conn.GetInstance(path)
    instance['Label'] = 'modified'
    conn.ModifyInstance(instance)
    if quirk == 'empty_ireturnvalue':
        assert b'<IRETURNVALUE/>' in conn.last_raw_reply
    else:
        assert b'IRETURNVALUE' not in conn.last_raw_reply
    assert conn.GetInstance(path)['Label'] == 'modified'
    conn.DeleteInstance(path)
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.GetInstance(path)
    assert excinfo.value.error_name == 'CIM_ERR_NOT_FOUND'
    # empty results: no instances of a class, a query without matches, an empty pull response
    assert conn.EnumerateInstances('CIM_ConcreteJob') == []
    assert conn.EnumerateInstanceNames('CIM_ConcreteJob') == []
    assert conn.ExecQuery('WQL', 'SELECT * FROM CIM_ComputerSystem WHERE Name = "none"') == []
    assert list(conn.IterEnumerateInstances('CIM_ConcreteJob')) == []
    if quirk == 'omit_empty_ireturnvalue':
        assert b'IRETURNVALUE' not in conn.last_raw_reply
    applied = [e['operation'] for e in wbem.requests() if quirk in e['quirks']]
    assert {'ModifyInstance', 'DeleteInstance'} <= set(applied), applied


def _results_for_namespace_paths(conn):
    return [
        instance_map(conn.Associators(NODE01, AssocClass='CIM_SystemDevice')),
        {local(p) for p in conn.AssociatorNames(NODE01)},
        instance_map(conn.EnumerateInstances('HOSTSEC_AllTypesOwner')),  # reference properties
        instance_map(conn.OpenEnumerateInstances('CIM_ComputerSystem').instances),
        {local(p) for p in conn.OpenReferenceInstancePaths(NODE01).paths},
        instance_map(conn.ExecQuery('WQL', 'SELECT * FROM CIM_Processor')),
    ]


def test_single_namespace_element_responses(wbem):
    conn = connect(wbem)
    conn.debug = True
    expected = _results_for_namespace_paths(conn)
    assert b'<NAMESPACE NAME="root"></NAMESPACE><NAMESPACE NAME="cimv2"></NAMESPACE>' in conn.last_raw_reply
    wbem.set_quirks(single_namespace_element=True)
    got = _results_for_namespace_paths(conn)
    assert b'<NAMESPACE NAME="root/cimv2"></NAMESPACE>' in conn.last_raw_reply
    assert b'<NAMESPACE NAME="cimv2">' not in conn.last_raw_reply
    assert got == expected
    assert all(p.namespace == CIMV2 for p in got[1])


def test_compact_empty_elements(wbem):
    conn = connect(wbem)
    conn.debug = True

    def results():
        return [dict(conn.GetInstance(ALLTYPES2).items()), instance_map(conn.EnumerateInstances('HOSTSEC_AllTypes')),
                conn.GetClass('HOSTSEC_AllTypes', IncludeQualifiers=True), conn.EnumerateInstances('CIM_ConcreteJob')]
    expected = results()
    assert expected[0]['PUint32Array'] is None and expected[3] == []
    assert b'/>' not in conn.last_raw_reply
    wbem.set_quirks(compact_empty_elements=True)
    assert results() == expected
    assert b'<IRETURNVALUE/>' in conn.last_raw_reply
    assert wbem.requests()[-1]['quirks'] == ['compact_empty_elements']


class RecordingSocket(object):
    """A TCP connection to the server (plain HTTP) that keeps what it received and how much had
    been received at each moment the test asks (``received``)."""

    def __init__(self, address, timeout):
        self.sock = socket.create_connection(address, timeout)
        self.data = bytearray()

    @property
    def received(self):
        return len(self.data)

    def settimeout(self, timeout):
        self.sock.settimeout(timeout)

    def sendall(self, data):
        self.sock.sendall(data)

    def recv(self, size):
        data = self.sock.recv(size)
        self.data += data
        return data

    def close(self):
        self.sock.close()


class Recorder(object):
    """socket_factory that hands out RecordingSockets and keeps them."""

    def __init__(self):
        self.sockets = []

    def __call__(self, address, timeout):
        self.sockets.append(RecordingSocket(address, timeout))
        return self.sockets[-1]


def test_chunked_responses_and_cimstatuscode_trailers(wbem):
    recorder = Recorder()
    conn = connect(wbem, 'http-basic', socket_factory=recorder)
    expected = instance_map(conn.EnumerateInstances('CIM_ComputerSystem'))

    wbem.set_quirks(chunked={'chunk_size': 64, 'trailers': True})
    assert instance_map(conn.EnumerateInstances('CIM_ComputerSystem')) == expected
    wire = bytes(recorder.sockets[0].data)
    assert b'Transfer-Encoding: chunked' in wire and b'\r\n0\r\nCIMStatusCode: 0\r\n\r\n' in wire
    # the trailer section was consumed: the next response is read from the same connection
    assert conn.GetInstance(NODE01)['Name'] == 'node01.example.org'

    wbem.set_quirks(chunked={'chunk_size': 64, 'trailers': True},
                    cim_error={'code': 'CIM_ERR_ACCESS_DENIED', 'operations': ['GetInstance']})
    with pytest.raises(wexc.CIMError) as excinfo:
        conn.GetInstance(NODE01)
    check_error(wbem, excinfo, wexc.CIMError, 'CIM_ERR_ACCESS_DENIED')
    wire = bytes(recorder.sockets[-1].data)
    assert b'\r\n0\r\nCIMStatusCode: 2\r\nCIMStatusCodeDescription: quirk%20cim_error\r\n\r\n' in wire

    wbem.set_quirks(chunked={'chunk_size': 100})  # without trailers
    assert instance_map(conn.EnumerateInstances('CIM_ComputerSystem')) == expected
    # one connection throughout: each chunked body and trailer section was read to its end
    assert len(recorder.sockets) == 1 and len(clients(wbem)) == 1


# -- hostile responses -------------------------------------------------------------------------

_HEAD = ('<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1001" PROTOCOLVERSION="1.0"><SIMPLERSP>'
         '<IMETHODRESPONSE NAME="GetInstance"><IRETURNVALUE>')
_TAIL = '</IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>'
_INSTANCE = ('<INSTANCE CLASSNAME="CIM_ComputerSystem"><PROPERTY NAME="Name" TYPE="string"><VALUE>%s</VALUE>'
             '</PROPERTY></INSTANCE>')
_LAUGHS = '<!DOCTYPE CIM [<!ENTITY l0 "ha">' + ''.join(
    '<!ENTITY l%d "%s">' % (i, ('&l%d;' % (i - 1)) * 10) for i in range(1, 10)) + ']>'

HOSTILE = [
    ('doctype', {'body': '<?xml version="1.0"?><!DOCTYPE CIM SYSTEM "http://127.0.0.1:9/cim.dtd">'
                         + _HEAD + _INSTANCE % 'x' + _TAIL}, wexc.XMLParseError, 'XML_PARSE_ERROR'),
    ('billion_laughs', {'body': '<?xml version="1.0"?>' + _LAUGHS + _HEAD + _INSTANCE % '&l9;' + _TAIL},
     wexc.XMLParseError, 'XML_PARSE_ERROR'),
    ('external_entity', {'body': '<?xml version="1.0"?><!DOCTYPE CIM [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                 + _HEAD + _INSTANCE % '&x;' + _TAIL}, wexc.XMLParseError, 'XML_PARSE_ERROR'),
    ('html_error_page', {'content_type': 'text/html; charset=utf-8',
                         'body': '<html><body><h1>502 Bad Gateway</h1></body></html>'},
     wexc.HeaderParseError, 'HEADER_PARSE_ERROR'),
    ('html_as_xml', {'body': '<html><body><p>Error<br></p></body></html>'}, wexc.XMLParseError, 'XML_PARSE_ERROR'),
    ('xhtml_as_xml', {'body': '<html><body><p>Error</p></body></html>'}, wexc.CIMXMLParseError,
     'CIMXML_PARSE_ERROR'),
    ('truncated', {'body': '<?xml version="1.0"?>' + _HEAD + _INSTANCE % 'x' + _TAIL[:25]},
     wexc.XMLParseError, 'XML_PARSE_ERROR'),
    ('invalid_utf8', {'body_base64': base64.b64encode(
        ('<?xml version="1.0" encoding="utf-8"?>' + _HEAD + _INSTANCE % 'n\udcffde' + _TAIL).encode(
            'utf-8', 'surrogateescape')).decode()}, wexc.XMLParseError, 'XML_PARSE_ERROR'),
    ('wrong_content_type', {'content_type': 'text/plain', 'body': '<?xml version="1.0"?>' + _HEAD
                            + _INSTANCE % 'x' + _TAIL}, wexc.HeaderParseError, 'HEADER_PARSE_ERROR'),
    ('empty', {'body': ''}, wexc.XMLParseError, 'XML_PARSE_ERROR'),
    ('deep_invalid_nesting', {'body': _HEAD + '<VALUE.ARRAY>' * 100 + '</VALUE.ARRAY>' * 100 + _TAIL},
     wexc.CIMXMLParseError, 'CIMXML_PARSE_ERROR'),
    ('too_deep', {'body': _HEAD + '<VALUE.ARRAY>' * 5000 + '</VALUE.ARRAY>' * 5000 + _TAIL},
     wexc.XMLParseError, 'XML_PARSE_ERROR'),
    ('not_cim', {'body': '<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" '
                         'PROTOCOLVERSION="1.0"><SIMPLERSP><IMETHODRESPONSE NAME="EnumerateInstances">'
                         '</IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>'}, wexc.CIMXMLParseError,
     'CIMXML_PARSE_ERROR'),
]


@pytest.mark.parametrize('raw,error,name', [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_responses(wbem, raw, error, name):
    conn = connect(wbem)
    # the reference: the same envelope with a harmless value is a good response
    wbem.set_quirks(raw_response={'body': '<?xml version="1.0"?>' + _HEAD + _INSTANCE % 'x' + _TAIL})
    assert conn.GetInstance(NODE01)['Name'] == 'x'
    wbem.set_quirks(raw_response=raw)
    with pytest.raises(error) as excinfo:
        conn.GetInstance(NODE01)
    msg = check_error(wbem, excinfo, error, name)
    assert 'root:' not in msg and 'hahaha' not in msg
    wbem.clear_quirks()
    assert conn.GetInstance(NODE01)['Name'] == 'node01.example.org'


# -- the connection and the iterator API -------------------------------------------------------

@pytest.mark.parametrize('transport', TRANSPORTS)
def test_one_persistent_connection_for_many_operations(wbem, transport):
    conn = connect(wbem, transport)
    for _round in range(5):
        conn.EnumerateInstanceNames('CIM_ComputerSystem')
        conn.GetInstance(NODE01)
        list(conn.IterEnumerateInstancePaths('CIM_Processor', MaxObjectCount=1))
        conn.InvokeMethod('Echo', 'HOSTSEC_AllTypes', PString='x')
    assert wbem.count() >= 25
    assert len(clients(wbem)) == 1
    # the measure can tell: a server that closes after each response gets a connection each time
    wbem.reset_requests()
    wbem.set_quirks(close=True)
    for _round in range(5):
        conn.GetInstance(NODE01)
    assert len(clients(wbem)) == 5
    # closing the client closes the connection; the next operation opens a new one
    wbem.clear_quirks()
    wbem.reset_requests()
    conn.GetInstance(NODE01)
    conn.close()
    conn.GetInstance(NODE01)
    assert len(clients(wbem)) == 2


@pytest.mark.parametrize('use_pull,quirks,operations', [
    (False, {'chunked': {'chunk_size': 4096}}, ['EnumerateInstances']),
    (False, {}, ['EnumerateInstances']),
    (None, {'no_pull': True}, ['OpenEnumerateInstances', 'EnumerateInstances']),
], ids=['chunked', 'content-length', 'pull-fallback'])
def test_iterator_yields_before_the_response_has_arrived(wbem, use_pull, quirks, operations):
    """The first bulk instance comes out of the iterator when only part of the response has
    been received from the socket (the traditional operation, also as the fallback of a
    server without pull operations)."""
    wbem.set_quirks(quirks)
    recorder = Recorder()
    conn = connect(wbem, 'http-basic', socket_factory=recorder, use_pull_operations=use_pull)
    iterator = conn.IterEnumerateInstances('HOSTSEC_BulkElement')
    first = next(iterator)
    received_at_first = recorder.sockets[0].received
    rest = list(iterator)
    total = recorder.sockets[0].received
    assert len(recorder.sockets) == 1
    assert [first['Index']] + [i['Index'] for i in rest] == list(range(BULK))
    assert total > 250000 and received_at_first < total / 2, (received_at_first, total)
    assert wbem.operations() == operations


def test_pull_iterator_yields_before_the_enumeration_is_complete(wbem):
    conn = connect(wbem)
    iterator = conn.IterEnumerateInstances('HOSTSEC_BulkElement', MaxObjectCount=50)
    first = next(iterator)
    assert wbem.operations() == ['OpenEnumerateInstances']  # nothing pulled yet
    rest = list(iterator)
    assert [first['Index']] + [i['Index'] for i in rest] == list(range(BULK))
    assert wbem.operations() == ['OpenEnumerateInstances'] + ['PullInstancesWithPath'] * (BULK // 50 - 1)


@pytest.mark.parametrize('use_pull', [False, None])
def test_operations_inside_an_iterator_loop(wbem, use_pull):
    """pywbem code calls other operations while it iterates; the enumeration must go on."""
    conn = connect(wbem, use_pull_operations=use_pull)
    seen = []
    for instance in conn.IterEnumerateInstances('HOSTSEC_BulkElement', MaxObjectCount=100):
        seen.append(instance['Index'])
        if instance['Index'] % 50 == 0:
            assert conn.GetInstance(instance.path)['Index'] == instance['Index']
            assert len(conn.EnumerateInstanceNames('CIM_ComputerSystem')) == 3
    assert seen == list(range(BULK))
    assert wbem.count(operation='GetInstance') == BULK // 50


def test_abandoned_iterators(wbem):
    conn = connect(wbem)
    # a pull enumeration left early is closed on the server
    iterator = conn.IterEnumerateInstances('HOSTSEC_BulkElement', MaxObjectCount=10)
    assert next(iterator)['Index'] == 0
    iterator.close()
    assert wbem.operations() == ['OpenEnumerateInstances', 'CloseEnumeration']
    assert wbem.requests()[-1]['cim_status'] == 0
    # a traditional enumeration left mid-response does not disturb the next operation
    conn.use_pull_operations = False
    iterator = conn.IterEnumerateInstances('HOSTSEC_BulkElement')
    assert next(iterator)['Index'] == 0
    del iterator
    assert conn.GetInstance(NODE01)['Name'] == 'node01.example.org'
