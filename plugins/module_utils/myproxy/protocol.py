# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MyProxy protocol messages (MYPROXYv2): requests out, responses in. No I/O here.

A request is a NUL-terminated block of ``KEY=value`` lines::

    VERSION=MYPROXYv2
    COMMAND=0
    USERNAME=alice
    PASSPHRASE=...
    LIFETIME=43200

A response carries ``VERSION``, ``RESPONSE`` (0 OK, 1 error, 2 authorization challenge),
``ERROR`` lines, and for INFO the credential fields (``CRED_START_TIME``, ``CRED_END_TIME``,
``CRED_OWNER``, ... for the first credential, ``CRED_<name>_<FIELD>`` for those listed in
``ADDL_CREDS``), for trust roots ``TRUSTED_CERTS=<file>,...`` and ``FILEDATA_<file>=<base64>``.
"""

import base64
import binascii
import re

from .errors import MyProxyInputError, MyProxyProtocolError

VERSION = 'MYPROXYv2'

# Protocol command numbers (myproxy_protocol.h).
GET = 0
PUT = 1
INFO = 2
DESTROY = 3
CHANGE_PASSWORD = 4
STORE = 5
RETRIEVE = 6
GET_TRUSTROOTS = 7

COMMAND_NAMES = {GET: 'GET', PUT: 'PUT', INFO: 'INFO', DESTROY: 'DESTROY',
                 CHANGE_PASSWORD: 'CHANGE_PASSWORD', STORE: 'STORE', RETRIEVE: 'RETRIEVE',
                 GET_TRUSTROOTS: 'GET_TRUSTROOTS'}

RESPONSE_OK = 0
RESPONSE_ERROR = 1
RESPONSE_AUTHORIZATION = 2

# The C tools refuse passphrases shorter than this (MIN_PASS_PHRASE_LEN); the server stores
# at most MAX_PASS_LEN characters.
MIN_PASSPHRASE_LENGTH = 6
MAX_PASSPHRASE_LENGTH = 1024

# Authorization methods a server may offer in AUTHORIZATION_DATA=<method>:<data>.
AUTHORIZATION_METHODS = {'0': 'NULL', '1': 'PASSWORD', '2': 'X509_CERTIFICATE', '3': 'SASL'}

_BAD_CHARS = re.compile(r'[\x00\n\r]')
_FILE_NAME = re.compile(r'^[A-Za-z0-9._-]+$')

# INFO fields of a credential: response key suffix -> result key.
CRED_FIELDS = (
    ('START_TIME', 'start_time'),
    ('END_TIME', 'end_time'),
    ('OWNER', 'owner'),
    ('DESC', 'description'),
    ('RETRIEVER', 'retrievers'),
    ('KEYRETRIEVERS', 'key_retrievers'),
    ('RETRIEVER_TRUSTED', 'trusted_retrievers'),
    ('RENEWER', 'renewers'),
    ('LOCKMSG', 'lock_message'),
)


def check_value(what, value, allow_empty=False):
    """Reject values that would break the line format (newline, CR, NUL)."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if not value and not allow_empty:
        raise MyProxyInputError('%s must not be empty' % what)
    if _BAD_CHARS.search(value):
        raise MyProxyInputError('%s must not contain a newline, carriage return or NUL character'
                                % what)
    return value


def check_passphrase(what, value, minimum=MIN_PASSPHRASE_LENGTH):
    """Validate a passphrase without ever putting it into a message."""
    check_value(what, value)
    if len(value) < minimum:
        raise MyProxyInputError('%s must be at least %d characters long' % (what, minimum))
    if len(value) > MAX_PASSPHRASE_LENGTH:
        raise MyProxyInputError('%s must be at most %d characters long'
                                % (what, MAX_PASSPHRASE_LENGTH))
    return value


def build_request(command, username='', passphrase='', lifetime=0, new_passphrase=None,
                  retrievers=None, renewers=None, credname=None, description=None,
                  key_retrievers=None, trusted_retrievers=None, want_trustroots=False):
    """Serialize a request; the result ends with the NUL byte the server expects."""
    if command not in COMMAND_NAMES:
        raise MyProxyInputError('unknown MyProxy command %r' % (command,))
    if not isinstance(lifetime, int) or lifetime < 0 or lifetime > 2 ** 31 - 1:
        raise MyProxyInputError('lifetime must be a number of seconds between 0 and 2^31-1')
    lines = [
        ('VERSION', VERSION),
        ('COMMAND', str(command)),
        ('USERNAME', check_value('username', username, allow_empty=command == GET_TRUSTROOTS)),
        ('PASSPHRASE', check_value('passphrase', passphrase or '', allow_empty=True)),
    ]
    if new_passphrase:
        lines.append(('NEW_PHRASE', check_value('new passphrase', new_passphrase)))
    lines.append(('LIFETIME', str(lifetime)))
    optional = (('RETRIEVER', retrievers, 'retrievers'), ('RENEWER', renewers, 'renewers'),
                ('CRED_NAME', credname, 'credential name'),
                ('CRED_DESC', description, 'description'),
                ('KEYRETRIEVERS', key_retrievers, 'key retrievers'),
                ('RETRIEVER_TRUSTED', trusted_retrievers, 'trusted retrievers'))
    for key, value, what in optional:
        if value is not None:
            lines.append((key, check_value(what, value)))
    if want_trustroots:
        lines.append(('TRUSTED_CERTS', '1'))
    text = ''.join('%s=%s\n' % pair for pair in lines)
    return text.encode('utf-8') + b'\0'


class Response(object):
    """A parsed server response."""

    def __init__(self, response_type, fields, errors, raw_keys):
        self.response_type = response_type
        self.fields = fields          # key -> last value
        self.errors = errors          # ERROR= lines, in order
        self.raw_keys = raw_keys      # keys in order of appearance

    @property
    def ok(self):
        return self.response_type == RESPONSE_OK

    def authorization_challenges(self):
        """``{method name: challenge}`` of an AUTHORIZATION response
        (``AUTHORIZATION_DATA=<method>:<data>`` lines)."""
        challenges = {}
        for value in self.fields.get('AUTHORIZATION_DATA', '').split('\n'):
            method, _sep, data = value.partition(':')
            method = method.strip()
            if method:
                challenges[AUTHORIZATION_METHODS.get(method, method)] = data
        return challenges

    def authorization_methods(self):
        """Names of the methods an AUTHORIZATION response offers."""
        methods = []
        for value in self.fields.get('AUTHORIZATION_DATA', '').split('\n'):
            method = value.split(':', 1)[0].strip()
            if method:
                methods.append(AUTHORIZATION_METHODS.get(method, method))
        return methods


def parse_response(data):
    """Parse one response message (bytes, NUL terminator optional)."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).rstrip(b'\0')
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            text = data.decode('latin-1')
    else:
        text = data
    text = text.lstrip('\0')
    fields, errors, keys = {}, [], []
    for line in text.split('\n'):
        if not line:
            continue
        if '=' not in line:
            raise MyProxyProtocolError('malformed line in the server reply (no "=")',
                                       error_name='MALFORMED_REPLY')
        key, value = line.split('=', 1)
        keys.append(key)
        if key == 'ERROR':
            errors.append(value)
        elif key == 'AUTHORIZATION_DATA' and key in fields:
            fields[key] += '\n' + value
        else:
            fields[key] = value
    if fields.get('VERSION') != VERSION:
        raise MyProxyProtocolError('the server reply is not a %s response (VERSION=%s)'
                                   % (VERSION, fields.get('VERSION', '<missing>')[:40]),
                                   error_name='MALFORMED_REPLY')
    try:
        response_type = int(fields['RESPONSE'])
    except (KeyError, ValueError):
        raise MyProxyProtocolError('the server reply has no valid RESPONSE= line',
                                   error_name='MALFORMED_REPLY')
    if response_type not in (RESPONSE_OK, RESPONSE_ERROR, RESPONSE_AUTHORIZATION):
        raise MyProxyProtocolError('unknown RESPONSE=%d from the server' % response_type,
                                   error_name='MALFORMED_REPLY')
    return Response(response_type, fields, errors, keys)


def _int_field(value, what):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MyProxyProtocolError('non-numeric %s in the INFO reply' % what,
                                   error_name='MALFORMED_REPLY')


def parse_info(response):
    """The credentials an INFO response describes, as a list of dicts.

    Each dict has ``name`` (``None`` for the default credential), ``owner``,
    ``start_time``/``end_time`` (seconds since the epoch), ``description``, ``retrievers``,
    ``key_retrievers``, ``trusted_retrievers``, ``renewers`` and ``lock_message`` (``None``
    when not set).
    """
    fields = response.fields
    if 'CRED_START_TIME' not in fields:
        return []
    first = {'name': fields.get('CRED_NAME')}
    for suffix, key in CRED_FIELDS:
        first[key] = fields.get('CRED_' + suffix)
    creds = [first]
    extra = fields.get('ADDL_CREDS')
    if extra:
        for name in extra.split(','):
            if not name:
                continue
            cred = {'name': name}
            for suffix, key in CRED_FIELDS:
                cred[key] = fields.get('CRED_%s_%s' % (name, suffix))
            creds.append(cred)
    for cred in creds:
        for key in ('start_time', 'end_time'):
            if cred[key] is not None:
                cred[key] = _int_field(cred[key], key)
    return creds


def parse_trustroots(response):
    """``{file name: bytes}`` from a response with ``TRUSTED_CERTS`` and ``FILEDATA_*``."""
    names = response.fields.get('TRUSTED_CERTS')
    if names is None:
        return None
    files = {}
    for name in names.split(','):
        if not name:
            continue
        if not _FILE_NAME.match(name) or name in ('.', '..'):
            raise MyProxyProtocolError('the server sent a trust root with an unsafe file name',
                                       error_name='MALFORMED_REPLY')
        encoded = response.fields.get('FILEDATA_%s' % name)
        if encoded is None:
            raise MyProxyProtocolError('the server listed trust root %s without its content'
                                       % name, error_name='MALFORMED_REPLY')
        try:
            files[name] = base64.b64decode(encoded.encode('ascii'), validate=False)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise MyProxyProtocolError('trust root %s is not valid base64' % name,
                                       error_name='MALFORMED_REPLY')
    return files
