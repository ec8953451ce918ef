# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors: classes and names, HTTP statuses, trailers, network failures, TLS settings."""

import socket
import ssl

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import (
    HostsecError, format_error)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import exceptions as exc
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import CIMInstanceName
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.http import (
    make_ssl_context, parse_url)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.operations import WBEMConnection

from wbem_helpers import (CannedServer, connection, enum_response, http_response,
                          imethod_response, method_response)

ERROR_BODY = imethod_response('GetInstance', '<ERROR CODE="6" DESCRIPTION="No such thing">'
                                             '<INSTANCE CLASSNAME="CIM_Error"><PROPERTY '
                                             'NAME="Message" TYPE="string"><VALUE>gone</VALUE>'
                                             '</PROPERTY></INSTANCE></ERROR>')
PATH = CIMInstanceName('C', {'K': 'v'})


def test_every_error_is_a_hostsec_error_with_a_name():
    for cls in (exc.WBEMConnectionError, exc.WBEMTimeoutError, exc.AuthError, exc.ParseError,
                exc.XMLParseError, exc.CIMXMLParseError, exc.HeaderParseError,
                exc.VersionError):
        error = cls('message')
        assert isinstance(error, HostsecError) and error.error_name
    assert exc.HTTPError(500, 'Error').error_name == 'HTTP_500'
    assert exc.status_name(6) == 'CIM_ERR_NOT_FOUND' and exc.status_name(99) == 'CIM_ERR_99'


def test_cim_error():
    conn, _wire = connection(http_response(ERROR_BODY))
    with pytest.raises(exc.CIMError) as info:
        conn.GetInstance(PATH)
    error = info.value
    assert (error.status_code, error.status_code_name, error.error_name) == (
        6, 'CIM_ERR_NOT_FOUND', 'CIM_ERR_NOT_FOUND')
    assert error.status_description == 'No such thing'
    assert error.instances[0]['Message'] == 'gone'
    assert format_error(error) == ('CIMError: CIM_ERR_NOT_FOUND: GetInstance of '
                                   'root/cimv2:C.K="v": No such thing')
    assert error.to_dict()['status_code'] == 6
    assert (error.operation, error.target) == ('GetInstance', 'root/cimv2:C.K="v"')


def _failing(operation, code=6, description='The requested object could not be found'):
    body = imethod_response(operation, '<ERROR CODE="%d" DESCRIPTION="%s"/>'
                            % (code, description))
    return connection(http_response(body))[0]


def _cim_error_of(call):
    with pytest.raises(exc.CIMError) as info:
        call()
    return info.value


def test_every_cim_error_names_the_operation_and_its_object():
    """A broker's bare 'The requested object could not be found' says nothing; the client
    puts the operation and the instance path, class or qualifier it was about in front."""
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.cim_obj import (
        CIMClass, CIMInstance, CIMQualifierDeclaration)
    not_found = 'The requested object could not be found'
    cases = [
        (lambda c: c.GetInstance(CIMInstanceName('CIM_Foo', {'Name': 'x'},
                                                 namespace='root/test')),
         'GetInstance', 'GetInstance of root/test:CIM_Foo.Name="x"'),
        (lambda c: c.DeleteInstance(PATH), 'DeleteInstance', 'DeleteInstance of root/cimv2:C.K="v"'),
        (lambda c: c.GetClass('CIM_Bar', namespace='root/interop'), 'GetClass',
         'GetClass of root/interop:CIM_Bar'),
        (lambda c: c.DeleteClass('CIM_Bar'), 'DeleteClass', 'DeleteClass of root/cimv2:CIM_Bar'),
        (lambda c: c.EnumerateInstances('CIM_Bar'), 'EnumerateInstances',
         'EnumerateInstances of root/cimv2:CIM_Bar'),
        (lambda c: c.GetQualifier('Levels'), 'GetQualifier', 'GetQualifier of root/cimv2:Levels'),
        (lambda c: c.DeleteQualifier('Levels', namespace='root/x'), 'DeleteQualifier',
         'DeleteQualifier of root/x:Levels'),
        (lambda c: c.SetQualifier(CIMQualifierDeclaration('Levels', 'string')), 'SetQualifier',
         'SetQualifier of root/cimv2:Levels'),
        (lambda c: c.CreateClass(CIMClass('CIM_New')), 'CreateClass',
         'CreateClass of root/cimv2:CIM_New'),
        (lambda c: c.CreateInstance(CIMInstance('CIM_New')), 'CreateInstance',
         'CreateInstance of root/cimv2:CIM_New'),
        (lambda c: c.EnumerateQualifiers(), 'EnumerateQualifiers',
         'EnumerateQualifiers of namespace root/cimv2'),
    ]
    for call, operation, prefix in cases:
        error = _cim_error_of(lambda: call(_failing(operation)))
        assert str(error) == '%s: %s' % (prefix, not_found), operation
        assert format_error(error) == 'CIMError: CIM_ERR_NOT_FOUND: %s: %s' % (prefix, not_found)
        assert error.error_name == 'CIM_ERR_NOT_FOUND' and error.status_code == 6
        assert error.status_description == not_found
        assert error.to_dict()['operation'] == error.operation == operation


def test_cim_error_of_a_method_and_of_a_trailer_name_their_object():
    body = method_response('Stop', '<ERROR CODE="17" DESCRIPTION="no"/>')
    conn, _wire = connection(http_response(body))
    error = _cim_error_of(lambda: conn.InvokeMethod('Stop', PATH))
    assert str(error) == 'InvokeMethod Stop of root/cimv2:C.K="v": no'
    conn, _wire = connection(http_response(enum_response(1), chunked=True, trailers={
        'CIMStatusCode': '6', 'CIMStatusCodeDescription': 'gone'}))
    error = _cim_error_of(lambda: conn.EnumerateInstances('T_Node', namespace='root/t'))
    assert str(error) == 'EnumerateInstances of root/t:T_Node: gone'


def test_cim_error_without_description():
    conn, _wire = connection(http_response(imethod_response('GetInstance',
                                                            '<ERROR CODE="2"/>')))
    with pytest.raises(exc.CIMError) as info:
        conn.GetInstance(PATH)
    assert 'not available' in str(info.value)


def test_http_401_is_an_auth_error_and_leaks_no_password():
    conn, _wire = connection(http_response(b'', status=401, reason='Unauthorized',
                                           headers={'WWW-Authenticate': 'Basic realm="x"'}),
                             creds=('admin', 's3cret'), allow_plain_http_auth=True)
    with pytest.raises(exc.AuthError) as info:
        conn.GetInstance(PATH)
    assert info.value.error_name == 'HTTP_401'
    assert 's3cret' not in str(info.value) and 's3cret' not in repr(info.value.to_dict())


def test_http_error_with_cimerror_and_pegasus_detail():
    conn, _wire = connection(http_response(b'', status=400, reason='Bad Request', headers={
        'CIMError': 'request-not-valid', 'PGErrorDetail': 'bad%20thing'}))
    with pytest.raises(exc.HTTPError) as info:
        conn.GetInstance(PATH)
    error = info.value
    assert (error.status, error.cimerror, error.cimdetails) == (
        400, 'request-not-valid', {'PGErrorDetail': 'bad thing'})
    assert 'request-not-valid' in str(error)


def test_chunked_response_with_error_trailers():
    body = enum_response(3)
    conn, wire = connection(http_response(body, chunked=True, trailers={
        'CIMStatusCode': '1', 'CIMStatusCodeDescription': 'provider%20crashed'}),
        http_response(enum_response(2)))
    with pytest.raises(exc.CIMError) as info:
        conn.EnumerateInstances('T_Node')
    assert info.value.status_code == 1 and info.value.status_description == 'provider crashed'
    # the response was read to its end: the connection stays in use
    assert len(conn.EnumerateInstances('T_Node')) == 2 and wire.connects == 1
    conn, _wire = connection(http_response(body, chunked=True,
                                           trailers={'CIMStatusCode': '0'}))
    assert len(conn.EnumerateInstances('T_Node')) == 3


def test_password_over_plain_http_is_refused():
    with pytest.raises(exc.WBEMValueError) as info:
        WBEMConnection('http://127.0.0.1', creds=('u', 'secret'))
    assert info.value.error_name == 'INSECURE_AUTH' and 'secret' not in str(info.value)
    WBEMConnection('http://127.0.0.1', creds=('u', 'p'), allow_plain_http_auth=True)
    WBEMConnection('https://127.0.0.1', creds=('u', 'p'))


def test_url_parsing():
    assert parse_url('https://srv') == ('https', 'srv', 5989)
    assert parse_url('http://srv') == ('http', 'srv', 5988)
    assert parse_url('srv:1234') == ('https', 'srv', 1234)
    assert parse_url('https://[::1]:5') == ('https', '::1', 5)
    for bad in ('ftp://srv', 'https://srv/path', 'https://u:p@srv', '', 'https://srv:x'):
        with pytest.raises(exc.WBEMValueError):
            parse_url(bad)
    # a password in the URL is refused without quoting the URL, whatever else is wrong with it
    for bad in ('https://admin:Url-Secret-1@srv/cimom', 'https://admin:Url-Secret-1@srv:x'):
        with pytest.raises(exc.WBEMValueError) as info:
            parse_url(bad)
        assert 'Url-Secret-1' not in str(info.value) and 'creds' in str(info.value)


def _free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_connection_refused():
    conn = WBEMConnection('http://127.0.0.1:%d' % _free_port(), timeout=5)
    with pytest.raises(exc.WBEMConnectionError) as info:
        conn.EnumerateInstances('C')
    assert info.value.error_name == 'ECONNREFUSED'
    assert not isinstance(info.value, exc.WBEMTimeoutError)


def test_read_timeout():
    with CannedServer(reply=None) as server:
        conn = WBEMConnection('http://127.0.0.1:%d' % server.port, timeout=0.5)
        with pytest.raises(exc.WBEMTimeoutError) as info:
            conn.EnumerateInstances('C')
    assert info.value.error_name == 'TIMEOUT'


def test_connection_closed_without_response():
    with CannedServer(reply=b'', close=True) as server:
        conn = WBEMConnection('http://127.0.0.1:%d' % server.port, timeout=5)
        with pytest.raises(exc.WBEMConnectionError) as info:
            conn.EnumerateInstances('C')
    assert info.value.error_name in ('CONNECTION_CLOSED', 'ECONNRESET')


def test_garbage_instead_of_http():
    conn, _wire = connection(b'SSH-2.0-OpenSSH_9.2\r\n\r\n')
    with pytest.raises(exc.WBEMConnectionError) as info:
        conn.EnumerateInstances('C')
    assert info.value.error_name == 'BAD_HTTP_RESPONSE'


def test_tls_to_a_plain_server_fails_cleanly():
    with CannedServer(reply=http_response(enum_response(1))) as server:
        conn = WBEMConnection('https://127.0.0.1:%d' % server.port, timeout=5)
        with pytest.raises(exc.WBEMConnectionError) as info:
            conn.EnumerateInstances('T_Node')
    assert info.value.error_name in ('SSL_ERROR', 'ECONNRESET', 'CONNECTION_ERROR')


def test_ssl_context_defaults_and_ca_precedence(tmp_path):
    context = make_ssl_context(environ={})
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert make_ssl_context(validate_certs=False, environ={}).verify_mode == ssl.CERT_NONE
    bogus = tmp_path / 'bogus.pem'
    bogus.write_text('not a certificate')
    # REQUESTS_CA_BUNDLE is used when nothing explicit is given ...
    with pytest.raises(exc.WBEMConnectionError) as info:
        make_ssl_context(environ={'REQUESTS_CA_BUNDLE': str(bogus)})
    assert info.value.error_name == 'CA_CERTS_ERROR'
    with pytest.raises(exc.WBEMConnectionError):
        make_ssl_context(environ={'CURL_CA_BUNDLE': str(bogus)})
    # ... but an explicit CA wins over it
    good = ssl.get_default_verify_paths().cafile
    if good:
        make_ssl_context(ca_certs=good, environ={'REQUESTS_CA_BUNDLE': str(bogus)})
    make_ssl_context(ca_certs=str(tmp_path), environ={'REQUESTS_CA_BUNDLE': str(bogus)})
    with pytest.raises(exc.WBEMConnectionError) as info:
        make_ssl_context(cert_file=str(bogus), environ={})
    assert info.value.error_name == 'CLIENT_CERT_ERROR'


def test_proxies_are_refused_and_timeout_checked():
    with pytest.raises(exc.WBEMValueError):
        WBEMConnection('https://srv', proxies={'https': 'http://proxy:3128'})
    with pytest.raises(exc.WBEMValueError):
        WBEMConnection('https://srv', timeout=0)
