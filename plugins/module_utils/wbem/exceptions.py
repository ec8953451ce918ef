# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the WBEM client.

Every error is a :class:`~ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors.HostsecError`
with ``error_name`` set, so ``fail_on_error`` reports it as ``Class: NAME: message``. The
hierarchy follows pywbem's, so code written for pywbem catches the same kinds of failure::

    WBEMError
    +-- WBEMConnectionError        cannot connect, connection reset, TLS failure (name: errno/SSL)
    |   +-- WBEMTimeoutError       no answer within the timeout (name: TIMEOUT)
    +-- AuthError                  HTTP 401 (name: HTTP_401)
    +-- HTTPError                  any other HTTP status but 200 (name: HTTP_<status>)
    +-- ParseError
    |   +-- XMLParseError          not well-formed XML, DOCTYPE, limits exceeded, bad encoding
    |   +-- CIMXMLParseError       well-formed XML that is not valid CIM-XML
    |   +-- HeaderParseError       wrong Content-Type (an HTML error page, ...)
    +-- VersionError               CIMVERSION/DTDVERSION/PROTOCOLVERSION not supported
    +-- CIMError                   the server answered with an ERROR element (name: CIM_ERR_*)
    WBEMValueError / WBEMTypeError invalid arguments (also ValueError / TypeError)

Messages never contain credentials.
"""

from ..common.errors import HostsecError, InvalidInputError

# DSP0200 status codes (CIM_ERR_*) and their symbolic names.
CIM_ERR_FAILED = 1
CIM_ERR_ACCESS_DENIED = 2
CIM_ERR_INVALID_NAMESPACE = 3
CIM_ERR_INVALID_PARAMETER = 4
CIM_ERR_INVALID_CLASS = 5
CIM_ERR_NOT_FOUND = 6
CIM_ERR_NOT_SUPPORTED = 7
CIM_ERR_CLASS_HAS_CHILDREN = 8
CIM_ERR_CLASS_HAS_INSTANCES = 9
CIM_ERR_INVALID_SUPERCLASS = 10
CIM_ERR_ALREADY_EXISTS = 11
CIM_ERR_NO_SUCH_PROPERTY = 12
CIM_ERR_TYPE_MISMATCH = 13
CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED = 14
CIM_ERR_INVALID_QUERY = 15
CIM_ERR_METHOD_NOT_AVAILABLE = 16
CIM_ERR_METHOD_NOT_FOUND = 17
CIM_ERR_NAMESPACE_NOT_EMPTY = 20
CIM_ERR_INVALID_ENUMERATION_CONTEXT = 21
CIM_ERR_INVALID_OPERATION_TIMEOUT = 22
CIM_ERR_PULL_HAS_BEEN_ABANDONED = 23
CIM_ERR_PULL_CANNOT_BE_ABANDONED = 24
CIM_ERR_FILTERED_ENUMERATION_NOT_SUPPORTED = 25
CIM_ERR_CONTINUATION_ON_ERROR_NOT_SUPPORTED = 26
CIM_ERR_SERVER_LIMITS_EXCEEDED = 27
CIM_ERR_SERVER_IS_SHUTTING_DOWN = 28

STATUS_NAMES = dict((value, name) for name, value in list(globals().items())
                    if name.startswith('CIM_ERR_') and isinstance(value, int))

STATUS_DESCRIPTIONS = {
    1: 'A general error occurred that is not covered by a more specific error code',
    2: 'Access to a CIM resource is not available to the client',
    3: 'The target namespace does not exist',
    4: 'One or more parameter values passed to the method are not valid',
    5: 'The specified class does not exist',
    6: 'The requested object cannot be found',
    7: 'The requested operation is not supported',
    8: 'The operation cannot be invoked on this class because it has subclasses',
    9: 'The operation cannot be invoked on this class because one or more instances of this '
       'class exist',
    10: 'The operation cannot be invoked because the specified superclass does not exist',
    11: 'The operation cannot be invoked because an object already exists',
    12: 'The specified property does not exist',
    13: 'The value supplied is not compatible with the type',
    14: 'The query language is not recognized or supported',
    15: 'The query is not valid for the specified query language',
    16: 'The extrinsic method cannot be invoked',
    17: 'The specified extrinsic method does not exist',
    20: 'The specified namespace is not empty',
    21: 'The enumeration identified by the specified context cannot be found, is in a closed '
        'state, does not exist, or is otherwise invalid',
    22: 'The specified operation timeout is not supported by the WBEM server',
    23: 'The pull operation has been abandoned',
    24: 'The attempt to abandon a concurrent pull operation failed',
    25: 'Using a filter in the enumeration is not supported by the WBEM server',
    26: 'The WBEM server does not support continuation on error',
    27: 'The WBEM server has failed the operation based upon exceeding server limits',
    28: 'The WBEM server is shutting down and cannot process the operation',
}


def status_name(code):
    """``CIM_ERR_NOT_FOUND`` for 6; ``CIM_ERR_<code>`` for codes DSP0200 does not define."""
    return STATUS_NAMES.get(code, 'CIM_ERR_%s' % code)


class WBEMError(HostsecError):
    """Base class of every error of the WBEM client.

    ``request_data``/``response_data`` hold the CIM-XML exchanged (when known), for debugging;
    they are never part of the message.
    """

    default_name = 'WBEM_ERROR'

    def __init__(self, message, error_name=None, details=None, request_data=None,
                 response_data=None):
        super(WBEMError, self).__init__(message, error_name=error_name or self.default_name,
                                        details=details)
        self.request_data = request_data
        self.response_data = response_data


class WBEMConnectionError(WBEMError):
    """The server cannot be reached or the connection broke (refused, reset, TLS failure)."""

    default_name = 'CONNECTION_ERROR'


class WBEMTimeoutError(WBEMConnectionError):
    """The server did not connect or answer within the timeout."""

    default_name = 'TIMEOUT'


class AuthError(WBEMError):
    """The server refused the credentials (HTTP 401)."""

    default_name = 'HTTP_401'


class HTTPError(WBEMError):
    """The server answered with an HTTP status other than 200.

    :ivar status: the HTTP status code.
    :ivar reason: the HTTP reason phrase.
    :ivar cimerror: the value of the ``CIMError`` header (DSP0200), or ``None``.
    :ivar cimdetails: further details, e.g. ``{'PGErrorDetail': ...}`` from OpenPegasus.
    """

    def __init__(self, status, reason, cimerror=None, cimdetails=None, request_data=None):
        self.status = status
        self.reason = reason
        self.cimerror = cimerror
        self.cimdetails = dict(cimdetails or {})
        message = 'WBEM server returned HTTP status %s (%s)' % (status, reason)
        if cimerror:
            message += ', CIMError: %s' % cimerror
        for key, value in sorted(self.cimdetails.items()):
            message += ', %s: %s' % (key, value)
        details = {'http_status': status, 'http_reason': reason, 'cimerror': cimerror}
        details.update(self.cimdetails)
        super(HTTPError, self).__init__(message, error_name='HTTP_%s' % status, details=details,
                                        request_data=request_data)


class ParseError(WBEMError):
    """The response cannot be understood."""

    default_name = 'PARSE_ERROR'


class XMLParseError(ParseError):
    """The response is not well-formed, safe XML (syntax, encoding, DOCTYPE, size limits)."""

    default_name = 'XML_PARSE_ERROR'


class CIMXMLParseError(ParseError):
    """The response is XML but not valid CIM-XML (DSP0201) for the operation."""

    default_name = 'CIMXML_PARSE_ERROR'


class HeaderParseError(ParseError):
    """An HTTP header of the response is invalid (e.g. Content-Type of an HTML page)."""

    default_name = 'HEADER_PARSE_ERROR'


class VersionError(WBEMError):
    """The server uses a CIM, DTD or protocol version this client does not support."""

    default_name = 'VERSION_ERROR'


class CIMVersionError(VersionError):
    """Unsupported CIMVERSION attribute."""

    default_name = 'CIM_VERSION_ERROR'


class DTDVersionError(VersionError):
    """Unsupported DTDVERSION attribute."""

    default_name = 'DTD_VERSION_ERROR'


class ProtocolVersionError(VersionError):
    """Unsupported PROTOCOLVERSION attribute."""

    default_name = 'PROTOCOL_VERSION_ERROR'


class CIMError(WBEMError):
    """The WBEM server reported a CIM status (DSP0200 ERROR element).

    :ivar status_code: the numeric status, e.g. 6.
    :ivar status_code_name: its name, e.g. ``CIM_ERR_NOT_FOUND`` (also ``error_name``).
    :ivar status_description: the server's DESCRIPTION, or the standard text of the code.
    :ivar instances: the CIM_Error instances the server sent, or ``None``.
    :ivar operation: the operation that failed (``GetInstance``, ``InvokeMethod Stop``), once
        the client has named it (:meth:`set_context`), else ``None``.
    :ivar target: the object the operation was about, as text: an instance path
        (``root/cimv2:CIM_Foo.Name="x"``), a class (``root/cimv2:CIM_Foo``), a qualifier
        declaration (``root/cimv2:Key``) or ``namespace root/cimv2``; or ``None``.

    Servers often say only ``The requested object could not be found``: the client names the
    operation and its object in front of that, so the message reads
    ``GetInstance of root/cimv2:CIM_Foo.Name="x": The requested object could not be found``.
    """

    def __init__(self, status_code, status_description=None, instances=None,
                 request_data=None):
        self.status_code = int(status_code)
        self.status_code_name = status_name(self.status_code)
        self.status_description = status_description
        self.instances = instances
        self.operation = None
        self.target = None
        text = status_description or STATUS_DESCRIPTIONS.get(
            self.status_code, 'Error code %s' % self.status_code)
        self._text = text
        super(CIMError, self).__init__(
            text, error_name=self.status_code_name,
            details={'status_code': self.status_code}, request_data=request_data)

    def set_context(self, operation, target=None):
        """Name the failed operation and its object in the message (and in ``details`` as
        ``operation`` and ``target``); returns the error."""
        self.operation = operation
        self.target = target
        self.message = '%s: %s' % ('%s of %s' % (operation, target) if target else operation,
                                   self._text)
        self.details.update(operation=operation, target=target)
        return self


class WBEMValueError(InvalidInputError, ValueError):
    """An argument has a value the client cannot use (also a :class:`ValueError`)."""

    def __init__(self, message, error_name='INVALID_VALUE', details=None):
        super(WBEMValueError, self).__init__(message, error_name=error_name, details=details)


class WBEMTypeError(InvalidInputError, TypeError):
    """An argument has a type the client cannot use (also a :class:`TypeError`)."""

    def __init__(self, message, error_name='INVALID_TYPE', details=None):
        super(WBEMTypeError, self).__init__(message, error_name=error_name, details=details)
