# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""krb5_keytab's pieces without a KDC: the keytab format (hostile files included), kadmin's
getprinc output and error names, and what may reach a kadmin query."""

import struct

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import InvalidInputError
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import kadmin, keytabfile
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.errors import KeytabError

KEY = b'K' * 32


def _counted(data):
    return struct.pack('>H', len(data)) + data


def _entry(components, realm, kvno, enctype=18, key=KEY, kvno32=True):
    body = struct.pack('>H', len(components)) + _counted(realm)
    body += b''.join(_counted(c) for c in components)
    body += struct.pack('>IIBH', 1, 1700000000, kvno & 0xFF, enctype) + _counted(key)
    if kvno32:
        body += struct.pack('>I', kvno)
    return struct.pack('>i', len(body)) + body


def test_parse_and_serialize_round_trip_with_holes_and_32bit_kvnos():
    data = (keytabfile.HEADER + _entry([b'HTTP', b'www.example.org'], b'EXAMPLE.ORG', 300)
            + struct.pack('>i', -12) + b'\0' * 12
            + _entry([b'host', b'a/b@c'], b'EXAMPLE.ORG', 2, 17, kvno32=False))
    entries = keytabfile.parse(data)
    assert [e.line() for e in entries] == [
        'HTTP/www.example.org@EXAMPLE.ORG kvno 300 aes256-cts-hmac-sha1-96',
        'host/a\\/b\\@c@EXAMPLE.ORG kvno 2 aes128-cts-hmac-sha1-96']
    assert keytabfile.serialize(entries) == data.replace(struct.pack('>i', -12) + b'\0' * 12, b'')
    described = entries[0].describe()
    assert described['kvno'] == 300 and described['timestamp'] == '2023-11-14T22:13:20Z'
    assert KEY.decode() not in repr(described) + repr(entries)


@pytest.mark.parametrize('data', [
    b'\x05\x01' + b'\0' * 8,                       # the old native-endian format
    b'not a keytab',
    keytabfile.HEADER + b'\0\0',                   # a truncated record length
    keytabfile.HEADER + struct.pack('>i', 1000) + b'\0' * 10,   # an entry past the end
    keytabfile.HEADER + struct.pack('>i', 4) + b'\0\x05\0\xff',  # a realm past the entry
    keytabfile.HEADER + struct.pack('>i', -100),  # a hole past the end
])
def test_hostile_keytabs_are_refused_with_the_format_error(data):
    with pytest.raises(KeytabError) as info:
        keytabfile.parse(data, 'keytab /x')
    assert info.value.error_name == 'KRB5_KT_FORMAT'
    assert 'keytab /x' in str(info.value)


def test_empty_file_and_header_only_have_no_entries():
    assert keytabfile.parse(b'') == []
    assert keytabfile.parse(keytabfile.HEADER) == []


GETPRINC = """Authenticating as principal keytab/admin with password.
Password for keytab/admin@EXAMPLE.ORG:
Principal: HTTP/www.example.org@EXAMPLE.ORG
Expiration date: [never]
Last password change: Wed Dec 02 01:59:39 UTC 2026
Last modified: Wed Dec 02 02:10:00 UTC 2026 (keytab/admin@EXAMPLE.ORG)
Number of keys: 4
Key: vno 3, aes256-cts-hmac-sha1-96
Key: vno 3, aes128-cts-hmac-sha1-96:normal
Key: vno 2, aes256-cts-hmac-sha1-96
Key: vno 2, aes128-cts-hmac-sha1-96
MKey: vno 1
"""


def test_getprinc_output():
    info = kadmin.parse_getprinc(GETPRINC)
    assert info['principal'] == 'HTTP/www.example.org@EXAMPLE.ORG'
    assert info['kvno'] == 3
    assert info['enctypes'] == ['aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96']
    assert info['last_password_change'] == 1796176779
    assert info['last_modified'] == 1796177400


@pytest.mark.parametrize('message,name', [
    ('kadmin: Incorrect password while initializing kadmin interface', 'KADM5_BAD_PASSWORD'),
    ("kadmin: Operation requires ``extract-keys'' privilege while changing x's key",
     'KADM5_AUTH_EXTRACT'),
    ('get_principal: Principal does not exist while retrieving "x@R".', 'KADM5_UNK_PRINC'),
    ('kadmin: Communication failure with server while initializing kadmin interface',
     'KADM5_RPC_ERROR'),
    ('something new', 'KADM5_FAILURE')])
def test_kadmin_error_names(message, name):
    assert kadmin.error_name(message) == name


def test_a_failed_login_is_an_auth_error_without_the_password():
    client = kadmin.Kadmin('admin', password='s3cret-pw')
    error = client._problem('kadmin: Incorrect password s3cret-pw while initializing kadmin '
                            'interface\n', 1)
    assert isinstance(error, kadmin.KadminAuthError)
    assert 's3cret-pw' not in str(error) and 's3cret-pw' not in repr(error.to_dict())
    assert client._problem('', 0) is None
    assert isinstance(client._problem('get_principal: Principal does not exist', 0),
                      kadmin.KadminError)


@pytest.mark.parametrize('value', ['', '-norandkey', 'a b', 'x"; delprinc y', "it's", 'a\\b'])
def test_nothing_but_a_name_reaches_a_kadmin_query(value):
    with pytest.raises(InvalidInputError):
        kadmin._query_arg(value, 'principal')
