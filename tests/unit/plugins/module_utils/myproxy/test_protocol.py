# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MyProxy messages: serialization, parsing, hostile replies, error classification."""

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import errors, protocol


def test_get_request_layout():
    data = protocol.build_request(protocol.GET, 'alice', 'pass phrase', 3600, credname='batch',
                                  want_trustroots=True)
    assert data.endswith(b'\n\0')
    assert data.decode().rstrip('\0').split('\n')[:-1] == [
        'VERSION=MYPROXYv2', 'COMMAND=0', 'USERNAME=alice', 'PASSPHRASE=pass phrase',
        'LIFETIME=3600', 'CRED_NAME=batch', 'TRUSTED_CERTS=1']


def test_put_request_policies():
    text = protocol.build_request(protocol.PUT, 'bob', 'secret-1', 43200, retrievers='*',
                                  renewers='*/CN=r', description='d', key_retrievers='k',
                                  trusted_retrievers='t').decode()
    for line in ('COMMAND=1', 'RETRIEVER=*', 'RENEWER=*/CN=r', 'CRED_DESC=d',
                 'KEYRETRIEVERS=k', 'RETRIEVER_TRUSTED=t'):
        assert line + '\n' in text


def test_change_password_request():
    text = protocol.build_request(protocol.CHANGE_PASSWORD, 'bob', 'old-pass', 0,
                                  new_passphrase='new-pass').decode()
    assert 'COMMAND=4\n' in text and 'NEW_PHRASE=new-pass\n' in text


@pytest.mark.parametrize('field', ['username', 'passphrase', 'credname', 'description'])
@pytest.mark.parametrize('bad', ['a\nCOMMAND=3', 'a\rb', 'a\0b'])
def test_injection_is_refused(field, bad):
    kwargs = {'username': 'alice', 'passphrase': 'p'}
    kwargs[field] = bad
    with pytest.raises(errors.MyProxyInputError) as exc:
        protocol.build_request(protocol.GET, **kwargs)
    assert bad not in str(exc.value)


def test_empty_username_only_for_trustroots():
    with pytest.raises(errors.MyProxyInputError):
        protocol.build_request(protocol.INFO, '', '')
    assert b'USERNAME=\n' in protocol.build_request(protocol.GET_TRUSTROOTS, '', '')


@pytest.mark.parametrize('lifetime', [-1, 2 ** 31, '12', 1.5])
def test_bad_lifetimes(lifetime):
    with pytest.raises(errors.MyProxyInputError):
        protocol.build_request(protocol.GET, 'alice', 'p', lifetime)


def test_passphrase_length_messages_do_not_echo():
    with pytest.raises(errors.MyProxyInputError) as exc:
        protocol.check_passphrase('passphrase', 'abc12')
    assert 'abc12' not in str(exc.value) and '6' in str(exc.value)
    with pytest.raises(errors.MyProxyInputError):
        protocol.check_passphrase('passphrase', 'x' * 1025)


def test_parse_ok_with_leading_nul():
    response = protocol.parse_response(b'\0VERSION=MYPROXYv2\nRESPONSE=0\n\0')
    assert response.ok and response.errors == []


def test_parse_error_lines():
    response = protocol.parse_response(b'VERSION=MYPROXYv2\nRESPONSE=1\nERROR=Bad password\n'
                                       b'ERROR=invalid credential passphrase\n')
    assert response.response_type == protocol.RESPONSE_ERROR
    assert response.errors == ['Bad password', 'invalid credential passphrase']


def test_parse_authorization_methods():
    response = protocol.parse_response(b'VERSION=MYPROXYv2\nRESPONSE=2\n'
                                       b'AUTHORIZATION_DATA=2:challenge\nAUTHORIZATION_DATA=3:x\n')
    assert response.authorization_methods() == ['X509_CERTIFICATE', 'SASL']


def test_parse_authorization_challenges():
    """myproxy-server names the methods (authorization_get_name) and appends the challenge."""
    response = protocol.parse_response(
        b'VERSION=MYPROXYv2\nRESPONSE=2\nAUTHORIZATION_DATA=X509_certificate:0a1b2c\n'
        b'AUTHORIZATION_DATA=password:Enter MyProxy pass phrase:\n')
    assert response.authorization_challenges() == {
        'X509_certificate': '0a1b2c', 'password': 'Enter MyProxy pass phrase:'}
    assert protocol.parse_response(b'VERSION=MYPROXYv2\nRESPONSE=2\n'
                                   b'AUTHORIZATION_DATA=2:abc\n').authorization_challenges() \
        == {'X509_CERTIFICATE': 'abc'}


@pytest.mark.parametrize('data', [
    b'', b'\0', b'garbage', b'VERSION=MYPROXYv1\nRESPONSE=0\n', b'VERSION=MYPROXYv2\n',
    b'VERSION=MYPROXYv2\nRESPONSE=x\n', b'VERSION=MYPROXYv2\nRESPONSE=7\n',
    b'VERSION=MYPROXYv2\nRESPONSE=0\nno equals sign\n', b'\xff\xfe\x00',
])
def test_malformed_replies(data):
    with pytest.raises(errors.MyProxyProtocolError) as exc:
        protocol.parse_response(data)
    assert exc.value.error_name == 'MALFORMED_REPLY'


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_parse_never_raises_anything_else(data):
    try:
        protocol.parse_response(data)
    except errors.MyProxyProtocolError:
        pass


INFO = (b'VERSION=MYPROXYv2\nRESPONSE=0\n'
        b'CRED_START_TIME=1700000000\nCRED_END_TIME=1700043200\n'
        b'CRED_OWNER=/O=Grid/CN=alice\nCRED_RETRIEVER=*\n'
        b'CRED_my_batch_DESC=batch jobs\nCRED_my_batch_START_TIME=1700000100\n'
        b'CRED_my_batch_END_TIME=1700604900\nCRED_my_batch_OWNER=/O=Grid/CN=alice\n'
        b'CRED_my_batch_RENEWER=*/CN=r\nCRED_my_batch_LOCKMSG=locked by admin\n'
        b'ADDL_CREDS=my_batch\n')


def test_parse_info_default_and_additional():
    creds = protocol.parse_info(protocol.parse_response(INFO))
    assert creds[0] == {'name': None, 'start_time': 1700000000, 'end_time': 1700043200,
                        'owner': '/O=Grid/CN=alice', 'description': None, 'retrievers': '*',
                        'key_retrievers': None, 'trusted_retrievers': None, 'renewers': None,
                        'lock_message': None}
    # A credential name with an underscore is found by exact prefix, not by splitting.
    assert creds[1]['name'] == 'my_batch'
    assert creds[1]['description'] == 'batch jobs'
    assert creds[1]['renewers'] == '*/CN=r'
    assert creds[1]['lock_message'] == 'locked by admin'
    assert creds[1]['end_time'] == 1700604900


def test_parse_info_empty_and_bad_numbers():
    assert protocol.parse_info(protocol.parse_response(b'VERSION=MYPROXYv2\nRESPONSE=0\n')) == []
    bad = protocol.parse_response(b'VERSION=MYPROXYv2\nRESPONSE=0\nCRED_START_TIME=soon\n')
    with pytest.raises(errors.MyProxyProtocolError):
        protocol.parse_info(bad)


def test_parse_trustroots():
    pem = b'-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    response = protocol.parse_response(
        b'VERSION=MYPROXYv2\nRESPONSE=0\nTRUSTED_CERTS=abcd1234.0,abcd1234.signing_policy\n'
        b'FILEDATA_abcd1234.0=' + base64.b64encode(pem) + b'\n'
        b'FILEDATA_abcd1234.signing_policy=' + base64.b64encode(b'policy') + b'\n')
    assert protocol.parse_trustroots(response) == {'abcd1234.0': pem,
                                                   'abcd1234.signing_policy': b'policy'}


@pytest.mark.parametrize('names', ['../etc/passwd', '..', 'a/b', '.hidden/x'])
def test_trustroots_unsafe_names(names):
    response = protocol.parse_response(
        ('VERSION=MYPROXYv2\nRESPONSE=0\nTRUSTED_CERTS=%s\nFILEDATA_%s=eA==\n'
         % (names, names)).encode())
    with pytest.raises(errors.MyProxyProtocolError):
        protocol.parse_trustroots(response)


def test_trustroots_missing_content():
    response = protocol.parse_response(b'VERSION=MYPROXYv2\nRESPONSE=0\nTRUSTED_CERTS=a.0\n')
    with pytest.raises(errors.MyProxyProtocolError):
        protocol.parse_trustroots(response)


@pytest.mark.parametrize('lines,cls,name', [
    (['Bad password', 'invalid credential passphrase'], errors.MyProxyAuthenticationError,
     'BAD_PASSPHRASE'),
    (['No credentials exist for username "x".'], errors.MyProxyCredentialNotFoundError,
     'NO_CREDENTIALS'),
    (['X509_verify_cert() failed: certificate has expired'],
     errors.MyProxyCredentialExpiredError, 'CREDENTIAL_EXPIRED'),
    (['"<anonymous>" not authorized by server\'s authorized_retrievers policy'],
     errors.MyProxyAuthorizationError, 'NOT_AUTHORIZED'),
    (['Credentials are already stored for user a', 'and they are not owned by', '"x",'],
     errors.MyProxyAuthorizationError, 'NOT_OWNER'),
    (['credential locked', 'by the admin'], errors.MyProxyCredentialLockedError,
     'CREDENTIAL_LOCKED'),
    (['Pass phrase violates local policy.'], errors.MyProxyPassphrasePolicyError,
     'PASSPHRASE_POLICY'),
    (['invalid password'], errors.MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    # myproxy-server 6.2.14, when the wrongly decrypted key happens to pass the padding check.
    (['Error reading private key /store/alice.creds; error:1E08010C:DECODER routines::unsupported;'
      ' error:0680007B:asn1 encoding routines::header too long; Type=PKCS8_PRIV_KEY_INFO;'
      ' invalid credential passphrase'], errors.MyProxyAuthenticationError, 'BAD_PASSPHRASE'),
    (['unknown username: nobody'], errors.MyProxyCredentialNotFoundError, 'UNKNOWN_USERNAME'),
    (['Something odd'], errors.MyProxyServerError, 'SERVER_ERROR'),
    ([], errors.MyProxyServerError, 'SERVER_ERROR'),
])
def test_server_error_classes(lines, cls, name):
    exc = errors.server_error(lines)
    assert exc.__class__ is cls and exc.error_name == name
    assert exc.details['server_error']


def test_unknown_error_on_passphrase_command_is_policy():
    exc = errors.server_error(['Use at least one digit'], passphrase_policy_command=True)
    assert isinstance(exc, errors.MyProxyPassphrasePolicyError)


def test_server_error_redacts_secrets():
    exc = errors.server_error(['policy: "hunter2-secret" is too weak'], ['hunter2-secret'], True)
    assert 'hunter2-secret' not in str(exc) and 'hunter2-secret' not in repr(exc.to_dict())
    assert '********' in str(exc)
