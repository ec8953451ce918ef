# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WBEMConnection: the CIM operations of DSP0200 over CIM-XML, shaped like pywbem's.

Method and parameter names are pywbem's (``conn.EnumerateInstances('CIM_Foo',
namespace='root/cimv2', PropertyList=['Name'])``), results are the objects of
:mod:`.cim_obj`. ``Iter*`` methods are generators that yield objects while the response is
still arriving; they use the pull operations and fall back to the traditional operation when
the server answers the Open request with CIM_ERR_NOT_SUPPORTED or CIM_ERR_FAILED (unless
``use_pull_operations`` is set to True or False).

Differences to pywbem, on purpose: certificates are verified by default (``validate_certs``),
a password is not sent over plain ``http://`` unless ``allow_plain_http_auth=True``, the
default timeout is 30 s, proxies are never used, an empty IRETURNVALUE in the response of a
void operation (ModifyInstance, DeleteInstance, ...) is accepted, and errors are the classes
of :mod:`.exceptions` (subclasses of HostsecError).
"""

import base64
import collections
import functools
import gc
import os
import sys
import time

from .cim_obj import (CIMClass, CIMClassName, CIMInstance, CIMInstanceName,
                      CIMQualifierDeclaration, cimvalue)
from .exceptions import (CIM_ERR_FAILED, CIM_ERR_NOT_SUPPORTED, CIMError, CIMXMLParseError,
                         HeaderParseError, HTTPError, AuthError, ParseError, WBEMError,
                         WBEMTypeError, WBEMValueError, XMLParseError)
from .http import HTTPTransport, make_ssl_context, parse_url
from .nocasedict import NocaseDict
from . import xml_encode
from .xml_parse import Limits, ResponseParser

try:
    from urllib.parse import quote, unquote
except ImportError:  # pragma: no cover
    quote = unquote = None

try:
    import resource
except ImportError:  # pragma: no cover - not a Unix system: no memory check
    resource = None

DEFAULT_NAMESPACE = 'root/cimv2'
DEFAULT_TIMEOUT = 30
DEFAULT_ITER_MAXOBJECTCOUNT = 1000
CIMOM_PATH = '/cimom'

# The IRETURNVALUE children each operation returns (DSP0200); they are converted and released
# one by one while the response arrives. Others are converted at the end of IRETURNVALUE, so
# that the operation can report them.
_WITH_PATH = ('VALUE.OBJECTWITHPATH', 'VALUE.OBJECTWITHLOCALPATH', 'VALUE.OBJECT')
ITEM_TAGS = {
    'EnumerateInstances': ('VALUE.NAMEDINSTANCE', 'VALUE.INSTANCEWITHPATH'),
    'EnumerateInstanceNames': ('INSTANCENAME',),
    'GetInstance': ('INSTANCE',),
    'CreateInstance': ('INSTANCENAME',),
    'Associators': _WITH_PATH, 'References': _WITH_PATH, 'ExecQuery': _WITH_PATH,
    'AssociatorNames': ('OBJECTPATH',), 'ReferenceNames': ('OBJECTPATH',),
    'EnumerateClasses': ('CLASS',), 'GetClass': ('CLASS',),
    'EnumerateClassNames': ('CLASSNAME',),
    'EnumerateQualifiers': ('QUALIFIER.DECLARATION',), 'GetQualifier': ('QUALIFIER.DECLARATION',),
    'OpenEnumerateInstances': ('VALUE.INSTANCEWITHPATH',),
    'OpenAssociatorInstances': ('VALUE.INSTANCEWITHPATH',),
    'OpenReferenceInstances': ('VALUE.INSTANCEWITHPATH',),
    'PullInstancesWithPath': ('VALUE.INSTANCEWITHPATH',),
    'OpenEnumerateInstancePaths': ('INSTANCEPATH',),
    'OpenAssociatorInstancePaths': ('INSTANCEPATH',),
    'OpenReferenceInstancePaths': ('INSTANCEPATH',), 'PullInstancePaths': ('INSTANCEPATH',),
    'OpenQueryInstances': ('INSTANCE',), 'PullInstances': ('INSTANCE',),
}


def peak_rss():
    """The peak RSS of this process in bytes (``getrusage``), or ``None`` where unknown."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024


def current_rss():
    """The resident memory of this process now, in bytes: /proc/self/statm where there is one
    (Linux), else the peak RSS (``getrusage``), else ``None``."""
    try:
        with open('/proc/self/statm', 'rb') as handle:
            return int(handle.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (IOError, OSError, ValueError, IndexError):
        return peak_rss()


pull_inst_result_tuple = collections.namedtuple('pull_inst_result_tuple',
                                                ['instances', 'eos', 'context'])
pull_path_result_tuple = collections.namedtuple('pull_path_result_tuple',
                                                ['paths', 'eos', 'context'])
pull_query_result_tuple = collections.namedtuple(
    'pull_query_result_tuple', ['instances', 'eos', 'context', 'query_result_class'])


class IterQueryInstancesReturn(object):
    """Result of :meth:`WBEMConnection.IterQueryInstances`: ``instances`` (a generator) and
    ``query_result_class``."""

    def __init__(self, instances, query_result_class=None):
        self.instances = instances
        self.query_result_class = query_result_class


# Characters DSP0200 lets through unescaped in the CIMObject header (the rest is %-encoded).
_CIMOBJECT_SAFE = "/:.,=\"'-_~!$&()*+;@[]"


def cimobject_header(value):
    """The CIMObject header value: the UTF-8 text, %-encoded where URIs require (DSP0200)."""
    return quote(value, safe=_CIMOBJECT_SAFE)


def cimmethod_header(name):
    """The CIMMethod header value: the method name UTF-8 encoded, then %-encoded (DSP0200
    "Encoding of CIM element names within HTTP headers"): ``Stöp`` is sent as ``St%C3%B6p``.
    Letters, digits and ``_`` (all a CIM identifier needs in ASCII) stay as they are."""
    return quote(name, safe='_')


# ---------------------------------------------------------------- argument checks

def _namespace_arg(namespace):
    if namespace is None:
        return None
    if not isinstance(namespace, str):
        raise WBEMTypeError("The 'namespace' parameter must be None or a string, not %s"
                            % type(namespace).__name__)
    return namespace.strip('/')


def _classname_arg(value, name, required=False):
    if isinstance(value, CIMClassName):
        return CIMClassName(value.classname)
    if isinstance(value, str):
        return CIMClassName(value)
    if value is None and not required:
        return None
    raise WBEMTypeError('The %r parameter must be %sa string or a CIMClassName, not %s'
                        % (name, '' if required else 'None, ', type(value).__name__))


def _instancename_arg(value, name, required=False):
    if isinstance(value, CIMInstanceName):
        path = value.copy()
        path.host = None
        path.namespace = None
        return path
    if value is None and not required:
        return None
    raise WBEMTypeError('The %r parameter must be %sa CIMInstanceName, not %s'
                        % (name, '' if required else 'None or ', type(value).__name__))


def _objectname_arg(value, name):
    if isinstance(value, CIMInstanceName):
        return _instancename_arg(value, name)
    return _classname_arg(value, name, required=True)


def _string_arg(value, name, required=False):
    if isinstance(value, str):
        return value
    if value is None and not required:
        return None
    raise WBEMTypeError('The %r parameter must be %sa string, not %s'
                        % (name, '' if required else 'None or ', type(value).__name__))


def _bool_arg(value, name):
    if value is None or isinstance(value, bool):
        return value
    raise WBEMTypeError('The %r parameter must be None or a bool, not %s'
                        % (name, type(value).__name__))


def _uint_arg(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WBEMTypeError('The %r parameter must be None or an integer, not %s'
                            % (name, type(value).__name__))
    if value < 0:
        raise WBEMValueError('The %r parameter must be >= 0, not %d' % (name, value))
    return value


def _propertylist_arg(value):
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, str):
                raise WBEMTypeError('PropertyList items must be strings, not %s'
                                    % type(item).__name__)
        return list(value)
    raise WBEMTypeError('The PropertyList parameter must be a string or a list of strings, '
                        'not %s' % type(value).__name__)


def _context_arg(context):
    if context is None:
        raise WBEMValueError("The 'context' parameter is None (the enumeration may be "
                             "exhausted)")
    if not isinstance(context, (tuple, list)):
        raise WBEMTypeError("The 'context' parameter must be a tuple (context, namespace), "
                            "not %s" % type(context).__name__)
    if len(context) != 2:
        raise WBEMValueError("The 'context' parameter must have two items, got %d"
                             % len(context))
    return context


def _maxobjectcount_pull(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WBEMTypeError('MaxObjectCount must be None or an integer, not %s'
                            % type(value).__name__)
    if value < 0:
        raise WBEMValueError('MaxObjectCount must be >= 0, not %d' % value)
    return value


def _maxobjectcount_iter(value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise WBEMTypeError('MaxObjectCount must be an integer, not %s' % type(value).__name__)
    if value is None or value <= 0:
        raise WBEMValueError('MaxObjectCount must be > 0, not %r' % (value,))
    return value


def _gc_paused(method):
    """Run a list-returning operation with the cyclic garbage collector paused.

    The parsed objects hold no reference cycles, but a result of many thousands of objects
    makes every full collection that happens while the list grows re-scan all of them; the
    collector is switched back on (if it was on) when the operation returns or fails.
    Generators (Iter*) are not wrapped: they must not change the state for their caller.
    """
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
    return wrapper


def _target_text(namespace, params):
    """The object of an intrinsic operation, for error messages: the instance path, class or
    qualifier declaration its parameters name (with the namespace), else the namespace."""
    for name, value in params:
        if value is None:
            continue
        if isinstance(value, (CIMInstanceName, CIMClassName)):
            path = value.copy()
            path.host = None
            path.namespace = namespace
            return path.to_wbem_uri(format='cimobject')
        if isinstance(value, CIMInstance):  # NewInstance, ModifiedInstance
            if value.path is not None:
                return _target_text(namespace, [(name, value.path)])
            return '%s:%s' % (namespace, value.classname)
        if isinstance(value, CIMClass):  # NewClass, ModifiedClass
            return '%s:%s' % (namespace, value.classname)
        if isinstance(value, CIMQualifierDeclaration):
            return '%s:%s' % (namespace, value.name)
        if name == 'QualifierName':
            return '%s:%s' % (namespace, value)
    return 'namespace %s' % namespace


def _expect(objects, types, what):
    for obj in objects:
        if not isinstance(obj, types):
            raise CIMXMLParseError('Expecting %s object in result, got %s object'
                                   % (what, type(obj).__name__))
    return objects


class WBEMConnection(object):
    """A client connection to one WBEM server (CIM-XML over HTTP/HTTPS).

    :param url: ``https://host[:port]`` or ``http://host[:port]`` (default ports 5989/5988;
        without scheme https is used).
    :param creds: ``(username, password)`` for HTTP Basic authentication, or ``None``.
    :param default_namespace: namespace for operations that are given none.
    :param x509: ``{'cert_file': ..., 'key_file': ...}`` for a TLS client certificate, with
        ``'key_passphrase'`` for an encrypted key (never asked for on the terminal).
    :param ca_certs: CA bundle file or hashed CA directory to verify the server with.
    :param validate_certs: verify the server certificate and host name (default True).
    :param no_verification: pywbem's inverse spelling of ``validate_certs``.
    :param timeout: the deadline of each operation in seconds (default 30): connecting,
        sending the request and receiving the whole response must be done within it. Each
        request of an Iter* method (Open, every Pull) has its own deadline, and the time the
        caller spends between two objects of an iterator does not count.
    :param use_pull_operations: for Iter*: None (default) tries pull and falls back,
        True uses pull only, False the traditional operations only.
    :param allow_plain_http_auth: allow sending ``creds`` over ``http://`` (default False).
    :param limits: :class:`~.xml_parse.Limits` for the response size (64 MiB by default),
        element count, depth and text size.
    :param socket_factory: ``f(address, timeout)`` returning a connected socket.

    ``stats_enabled`` is accepted for compatibility with pywbem and ignored; ``proxies`` must
    be empty (no proxy is ever used).
    """

    def __init__(self, url, creds=None, default_namespace=DEFAULT_NAMESPACE, x509=None,
                 ca_certs=None, no_verification=None, timeout=DEFAULT_TIMEOUT,
                 use_pull_operations=None, stats_enabled=False, proxies=None,
                 validate_certs=True, allow_plain_http_auth=False, limits=None,
                 socket_factory=None):
        self.scheme, self._hostname, self._port = parse_url(url)
        self.url = '%s://%s' % (self.scheme, self._netloc())
        if creds is not None:
            if not isinstance(creds, (tuple, list)) or len(creds) != 2:
                raise WBEMTypeError('creds must be a (username, password) tuple')
            creds = (str(creds[0]), str(creds[1]))
            if self.scheme == 'http' and not allow_plain_http_auth:
                raise WBEMValueError(
                    'Refusing to send a password over unencrypted http://; use https:// or '
                    'set allow_plain_http_auth', error_name='INSECURE_AUTH')
        self.creds = creds
        self.default_namespace = default_namespace
        self.x509 = x509
        self.ca_certs = ca_certs
        if no_verification is not None:
            validate_certs = not no_verification
        self.validate_certs = bool(validate_certs)
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise WBEMValueError('timeout must be a positive number of seconds')
        self.timeout = timeout
        self.use_pull_operations = use_pull_operations
        self._pull_state = {}
        if proxies:
            raise WBEMValueError('Proxies are not supported by this client')
        self.stats_enabled = stats_enabled
        self.limits = limits or Limits()
        self.debug = False
        self.last_raw_request = None
        self.last_raw_reply = None
        self.last_request_len = 0
        self.last_reply_len = 0
        self.last_http_request = None
        context = None
        if self.scheme == 'https':
            cert_file = key_file = key_passphrase = None
            if x509:
                cert_file = x509.get('cert_file')
                key_file = x509.get('key_file')
                key_passphrase = x509.get('key_passphrase')
            context = make_ssl_context(self.validate_certs, ca_certs, cert_file, key_file,
                                       key_passphrase=key_passphrase)
        self._ssl_context = context
        self._socket_factory = socket_factory
        self._transport = self._new_transport()
        # Every connection of this object; those in _busy are in the middle of a response
        # (a generator of an Iter* method, suspended between two objects). An operation
        # started meanwhile uses another connection, so the enumeration can go on.
        self._transports = [self._transport]
        self._busy = []

    def _new_transport(self):
        return HTTPTransport(self.scheme, self._hostname, self._port, self.timeout,
                             self._ssl_context, self._socket_factory)

    def _acquire_transport(self):
        for transport in self._transports:
            if not any(transport is busy for busy in self._busy):
                break
        else:
            transport = self._new_transport()
            self._transports.append(transport)
        self._busy.append(transport)
        return transport

    def _release_transport(self, transport):
        self._busy = [busy for busy in self._busy if busy is not transport]

    def _netloc(self):
        host = '[%s]' % self._hostname if ':' in self._hostname else self._hostname
        return '%s:%d' % (host, self._port)

    @property
    def host(self):
        """``host:port`` of the server (pywbem's meaning of ``host``)."""
        return self._netloc()

    @property
    def default_namespace(self):
        return self._default_namespace

    @default_namespace.setter
    def default_namespace(self, value):
        if value is None:
            value = DEFAULT_NAMESPACE
        if not isinstance(value, str):
            raise WBEMTypeError('default_namespace must be a string')
        self._default_namespace = value.strip('/')

    def close(self):
        """Close the HTTP connections (one is reopened by the next operation)."""
        for transport in self._transports:
            transport.close()
        # a connection an unfinished iterator still reads from stays reserved for it (it
        # reports CONNECTION_CLOSED when it goes on); idle extra connections are dropped
        self._transports = [transport for transport in self._transports
                            if transport is self._transport
                            or any(transport is busy for busy in self._busy)]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return 'WBEMConnection(url=%r, default_namespace=%r)' % (self.url,
                                                                 self._default_namespace)

    # ------------------------------------------------------------ the wire

    def _headers(self, cimxml_headers):
        headers = [('Content-Type', 'application/xml; charset="utf-8"'),
                   ('Accept', 'application/xml, text/xml'), ('TE', 'trailers')]
        headers.extend(cimxml_headers)
        if self.creds is not None:
            token = base64.b64encode(('%s:%s' % self.creds).encode('utf-8')).decode('ascii')
            headers.append(('Authorization', 'Basic %s' % token))
        return headers

    def _exchange(self, body, cimxml_headers, kind, methodname, item_tags=None):
        """Send a request; yield the parser events of the response as they arrive."""
        transport = self._acquire_transport()
        self.last_raw_request = body
        self.last_request_len = len(body)
        self.last_raw_reply = None
        self.last_reply_len = 0
        try:
            response = transport.request(CIMOM_PATH, self._headers(cimxml_headers), body)
            self.last_http_request = transport.last_request
            self._check_response(response, body)
            self._check_length(response)
            parser = ResponseParser(kind, methodname, self.limits, item_tags=item_tags)
            keep = [] if self.debug else None
            # the objects of the response, wherever the caller keeps them, may make the peak RSS
            # grow by max_memory bytes (paths cost about 5 bytes per byte of CIM-XML)
            max_memory = self.limits.max_memory
            # measured from the memory in use now, not from an earlier peak of the process
            # (which would let the response grow by the difference as well)
            baseline = current_rss() if max_memory else None
            for chunk in response.iter_body():
                self.last_reply_len += len(chunk)
                if keep is not None:
                    keep.append(chunk)
                if baseline is not None and current_rss() - baseline > max_memory:
                    raise XMLParseError(
                        'The objects of the response take more than %d MiB of memory (raise '
                        'max_response_size for larger results)' % (max_memory // 1048576),
                        error_name='TOO_MUCH_MEMORY')
                events = parser.feed(chunk)
                if events:
                    # the caller's time between two objects does not count for the deadline
                    paused = time.monotonic()
                    yield from events
                    transport.pause_deadline(time.monotonic() - paused)
            if keep is not None:
                self.last_raw_reply = b''.join(keep)
            yield from parser.close()
        except ParseError as exc:
            if exc.request_data is None:
                exc.request_data = body
            transport.close()
            raise
        except WBEMError:
            transport.close()
            raise
        finally:
            self._release_transport(transport)
        # the response is complete: an error in its trailers leaves the connection usable
        self._check_trailers(response, body)

    def _check_response(self, response, body):
        status = response.status
        if status != 200:
            response.transport.close()
            if status == 401:
                offered = response.header('www-authenticate', '')
                schemes = [item.strip().split(' ')[0] for item in offered.split(',')
                           if item.strip()]
                message = 'WBEM server returned HTTP status 401 (%s).' % response.reason
                if schemes and 'basic' not in [s.lower() for s in schemes]:
                    message += (' The server does not offer HTTP Basic authentication, only %s.'
                                % ', '.join(schemes))
                else:
                    message += ' The user name or password is wrong, or the user lacks access.'
                raise AuthError(message, details={'http_status': 401})
            details = {}
            pg_detail = response.header('pgerrordetail')
            if pg_detail is not None:
                details['PGErrorDetail'] = unquote(pg_detail)
            raise HTTPError(status, response.reason, response.header('cimerror'), details,
                            request_data=body)
        content_type = response.header('content-type')
        if content_type is not None:
            low = content_type.strip().lower()
            if not (low.startswith('application/xml') or low.startswith('text/xml')):
                response.transport.close()
                raise HeaderParseError('WBEM server returned an invalid Content-Type header: '
                                       '%r (an HTML error page or a proxy?)' % content_type,
                                       request_data=body)

    def _check_length(self, response):
        length = response.header('content-length')
        if length is not None and length.strip().isdigit() and int(length) > self.limits.max_size:
            response.transport.close()
            raise XMLParseError('The response of %s bytes (Content-Length) exceeds the size limit '
                                'of %d bytes (raise max_response_size for larger results)'
                                % (length.strip(), self.limits.max_size),
                                error_name='RESPONSE_TOO_LARGE')

    @staticmethod
    def _check_trailers(response, body):
        code = response.trailers.get('cimstatuscode')
        if code is not None and code.strip() not in ('', '0'):
            try:
                code = int(code)
            except ValueError:
                raise HeaderParseError('Invalid CIMStatusCode trailer: %r' % code)
            description = response.trailers.get('cimstatuscodedescription')
            raise CIMError(code, unquote(description) if description else None,
                           request_data=body)
        cimerror = response.trailers.get('cimerror')
        if cimerror:
            raise HTTPError(200, 'OK', cimerror, None, request_data=body)

    def _imethod_events(self, methodname, namespace, params, has_return_value=True,
                        has_out_params=False):
        """Run an intrinsic operation; yield ``('item', obj)`` and ``('param', ...)``."""
        namespace = namespace or self._default_namespace
        body = xml_encode.imethodcall(methodname, namespace, params)
        headers = [('CIMOperation', 'MethodCall'), ('CIMMethod', cimmethod_header(methodname)),
                   ('CIMObject', cimobject_header(namespace))]
        error = None
        try:
            for event in self._exchange(body, headers, 'imethod', methodname,
                                        ITEM_TAGS.get(methodname)):
                kind = event[0]
                if kind == 'error':
                    error = event[1]
                    error.request_data = body
                elif error is not None:
                    continue
                elif kind == 'item':
                    if not has_return_value:
                        raise CIMXMLParseError('Unexpected IRETURNVALUE content in the '
                                               'response of %s, which returns nothing'
                                               % methodname)
                    yield event
                elif kind == 'param':
                    if not has_out_params:
                        raise CIMXMLParseError('Unexpected PARAMVALUE %r in the response of %s, '
                                               'which has no output parameters'
                                               % (event[1], methodname))
                    yield event
                else:
                    yield event
        except CIMError as exc:  # a CIMStatusCode trailer
            raise exc.set_context(methodname, _target_text(namespace, params))
        if error is not None:
            raise error.set_context(methodname, _target_text(namespace, params))

    def _imethod_items(self, methodname, namespace, params, **kwargs):
        return [event[1] for event in self._imethod_events(methodname, namespace, params,
                                                           **kwargs) if event[0] == 'item']

    def _imethod_single(self, methodname, namespace, params):
        events = list(self._imethod_events(methodname, namespace, params))
        if not events:
            raise CIMXMLParseError('Expecting a child element below IMETHODRESPONSE, got no '
                                   'child elements')
        items = [event[1] for event in events if event[0] == 'item']
        if not items:
            raise CIMXMLParseError('Expecting a child element below IRETURNVALUE, got no '
                                   'child elements')
        return items[0]

    def _imethod_void(self, methodname, namespace, params):
        for _event in self._imethod_events(methodname, namespace, params,
                                           has_return_value=False):
            pass

    # ------------------------------------------------------------ instances

    @_gc_paused
    def EnumerateInstances(self, ClassName, namespace=None, LocalOnly=None,
                           DeepInheritance=None, IncludeQualifiers=None,
                           IncludeClassOrigin=None, PropertyList=None):
        """List of :class:`CIMInstance` of a class and its subclasses (paths with namespace)."""
        return list(self._enum_instances(ClassName, namespace, LocalOnly, DeepInheritance,
                                         IncludeQualifiers, IncludeClassOrigin, PropertyList))

    def _enum_instances(self, ClassName, namespace, LocalOnly, DeepInheritance,
                        IncludeQualifiers, IncludeClassOrigin, PropertyList, host=None):
        if namespace is None and isinstance(ClassName, CIMClassName):
            namespace = ClassName.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        params = [('ClassName', _classname_arg(ClassName, 'ClassName', required=True)),
                  ('LocalOnly', _bool_arg(LocalOnly, 'LocalOnly')),
                  ('DeepInheritance', _bool_arg(DeepInheritance, 'DeepInheritance')),
                  ('IncludeQualifiers', _bool_arg(IncludeQualifiers, 'IncludeQualifiers')),
                  ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin')),
                  ('PropertyList', _propertylist_arg(PropertyList))]
        for event in self._imethod_events('EnumerateInstances', namespace, params):
            if event[0] != 'item':
                continue
            inst = event[1]
            if not isinstance(inst, CIMInstance):
                raise CIMXMLParseError('Expecting CIMInstance object in result list, got %s '
                                       'object' % type(inst).__name__)
            if inst.path is None:
                raise CIMXMLParseError('An instance in the EnumerateInstances result has no '
                                       'path')
            inst.path.namespace = namespace
            if host is not None and inst.path.host is None:
                inst.path.host = host
            yield inst

    @_gc_paused
    def EnumerateInstanceNames(self, ClassName, namespace=None):
        """List of :class:`CIMInstanceName` of a class and its subclasses."""
        return list(self._enum_instance_names(ClassName, namespace))

    def _enum_instance_names(self, ClassName, namespace, host=None):
        if namespace is None and isinstance(ClassName, CIMClassName):
            namespace = ClassName.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        params = [('ClassName', _classname_arg(ClassName, 'ClassName', required=True))]
        for event in self._imethod_events('EnumerateInstanceNames', namespace, params):
            if event[0] != 'item':
                continue
            path = event[1]
            if not isinstance(path, CIMInstanceName):
                raise CIMXMLParseError('Expecting CIMInstanceName object in result list, got '
                                       '%s object' % type(path).__name__)
            path.namespace = namespace
            if host is not None and path.host is None:
                path.host = host
            yield path

    def GetInstance(self, InstanceName, LocalOnly=None, IncludeQualifiers=None,
                    IncludeClassOrigin=None, PropertyList=None):
        """The :class:`CIMInstance` at ``InstanceName`` (its path set, with namespace)."""
        namespace = self._namespace_of(InstanceName, 'InstanceName')
        path = _instancename_arg(InstanceName, 'InstanceName', required=True)
        inst = self._imethod_single('GetInstance', namespace, [
            ('InstanceName', path), ('LocalOnly', _bool_arg(LocalOnly, 'LocalOnly')),
            ('IncludeQualifiers', _bool_arg(IncludeQualifiers, 'IncludeQualifiers')),
            ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin')),
            ('PropertyList', _propertylist_arg(PropertyList))])
        if not isinstance(inst, CIMInstance):
            raise CIMXMLParseError('Expecting CIMInstance object in result, got %s object'
                                   % type(inst).__name__)
        inst.path = path.copy()
        inst.path.namespace = namespace
        return inst

    def _namespace_of(self, objectname, name):
        if isinstance(objectname, (CIMClassName, CIMInstanceName)):
            return objectname.namespace or self._default_namespace
        if isinstance(objectname, str) or objectname is None:
            return self._default_namespace
        raise WBEMTypeError('The %r parameter must be a string, a CIMClassName or a '
                            'CIMInstanceName, not %s' % (name, type(objectname).__name__))

    def ModifyInstance(self, ModifiedInstance, IncludeQualifiers=None, PropertyList=None):
        """Modify an instance (``ModifiedInstance.path`` says which)."""
        if not isinstance(ModifiedInstance, CIMInstance):
            raise WBEMTypeError('ModifiedInstance must be a CIMInstance, not %s'
                                % type(ModifiedInstance).__name__)
        if ModifiedInstance.path is None:
            raise WBEMValueError('ModifiedInstance must have its path set')
        namespace = ModifiedInstance.path.namespace or self._default_namespace
        inst = ModifiedInstance.copy()
        inst.path.namespace = None
        inst.path.host = None
        self._imethod_void('ModifyInstance', namespace, [
            ('ModifiedInstance', inst),
            ('IncludeQualifiers', _bool_arg(IncludeQualifiers, 'IncludeQualifiers')),
            ('PropertyList', _propertylist_arg(PropertyList))])

    def CreateInstance(self, NewInstance, namespace=None):
        """Create an instance; returns the :class:`CIMInstanceName` the server assigned."""
        if not isinstance(NewInstance, CIMInstance):
            raise WBEMTypeError('NewInstance must be a CIMInstance, not %s'
                                % type(NewInstance).__name__)
        if namespace is None and NewInstance.path is not None:
            namespace = NewInstance.path.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        inst = NewInstance.copy()
        inst.path = None
        path = self._imethod_single('CreateInstance', namespace, [('NewInstance', inst)])
        if not isinstance(path, CIMInstanceName):
            raise CIMXMLParseError('Expecting CIMInstanceName object in result, got %s object'
                                   % type(path).__name__)
        path.namespace = namespace
        return path

    def DeleteInstance(self, InstanceName):
        """Delete the instance at ``InstanceName``."""
        namespace = self._namespace_of(InstanceName, 'InstanceName')
        path = _instancename_arg(InstanceName, 'InstanceName', required=True)
        self._imethod_void('DeleteInstance', namespace, [('InstanceName', path)])

    def GetProperty(self, InstanceName, PropertyName):
        """The value of one property (DSP0200 GetProperty, deprecated but still served).

        CIM-XML carries this value without its type: a string, a list of strings (``None``
        for NULL items) or a :class:`CIMInstanceName` for a reference; ``None`` for NULL.
        pywbem has no such method; use GetInstance with a PropertyList where you can.
        """
        namespace = self._namespace_of(InstanceName, 'InstanceName')
        path = _instancename_arg(InstanceName, 'InstanceName', required=True)
        items = self._imethod_items('GetProperty', namespace, [
            ('InstanceName', path),
            ('PropertyName', _string_arg(PropertyName, 'PropertyName', required=True))])
        if len(items) > 1:
            raise CIMXMLParseError('GetProperty returned %d values' % len(items))
        value = items[0] if items else None
        if value is not None and not isinstance(value, (str, list, CIMInstanceName)):
            raise CIMXMLParseError('Expecting a property value, got %s object'
                                   % type(value).__name__)
        return value

    def SetProperty(self, InstanceName, PropertyName, NewValue=None):
        """Set one property (DSP0200 SetProperty); ``NewValue`` as for InvokeMethod
        parameters (typed values, a path for a reference, a list for an array, None for
        NULL)."""
        namespace = self._namespace_of(InstanceName, 'InstanceName')
        path = _instancename_arg(InstanceName, 'InstanceName', required=True)
        if isinstance(NewValue, (CIMClassName, CIMInstanceName)):
            NewValue = xml_encode.ReferenceValue(NewValue)
        self._imethod_void('SetProperty', namespace, [
            ('InstanceName', path),
            ('PropertyName', _string_arg(PropertyName, 'PropertyName', required=True)),
            ('NewValue', NewValue)])

    # ------------------------------------------------------------ associations

    def _assoc_result(self, events, ObjectName):
        objects = [event[1] for event in events if event[0] == 'item']
        if isinstance(ObjectName, CIMInstanceName):
            return _expect(objects, CIMInstance, 'CIMInstance')
        for obj in objects:
            if not (isinstance(obj, tuple) and isinstance(obj[0], CIMClassName)
                    and isinstance(obj[1], CIMClass)):
                raise CIMXMLParseError('Expecting tuple (CIMClassName, CIMClass) in result '
                                       'list, got %s' % type(obj).__name__)
        return objects

    def _assoc_names_result(self, events, ObjectName):
        objects = [event[1] for event in events if event[0] == 'item']
        if isinstance(ObjectName, CIMInstanceName):
            return _expect(objects, CIMInstanceName, 'CIMInstanceName')
        return _expect(objects, CIMClassName, 'CIMClassName')

    @_gc_paused
    def Associators(self, ObjectName, AssocClass=None, ResultClass=None, Role=None,
                    ResultRole=None, IncludeQualifiers=None, IncludeClassOrigin=None,
                    PropertyList=None):
        """Associated instances (for an instance path) or ``(CIMClassName, CIMClass)`` tuples
        (for a class name)."""
        namespace = self._namespace_of(ObjectName, 'ObjectName')
        target = _objectname_arg(ObjectName, 'ObjectName')
        events = self._imethod_events('Associators', namespace, [
            ('ObjectName', target), ('AssocClass', _classname_arg(AssocClass, 'AssocClass')),
            ('ResultClass', _classname_arg(ResultClass, 'ResultClass')),
            ('Role', _string_arg(Role, 'Role')),
            ('ResultRole', _string_arg(ResultRole, 'ResultRole')),
            ('IncludeQualifiers', _bool_arg(IncludeQualifiers, 'IncludeQualifiers')),
            ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin')),
            ('PropertyList', _propertylist_arg(PropertyList))])
        return self._assoc_result(events, target)

    @_gc_paused
    def AssociatorNames(self, ObjectName, AssocClass=None, ResultClass=None, Role=None,
                        ResultRole=None):
        """Paths of the associated instances or classes."""
        namespace = self._namespace_of(ObjectName, 'ObjectName')
        target = _objectname_arg(ObjectName, 'ObjectName')
        events = self._imethod_events('AssociatorNames', namespace, [
            ('ObjectName', target), ('AssocClass', _classname_arg(AssocClass, 'AssocClass')),
            ('ResultClass', _classname_arg(ResultClass, 'ResultClass')),
            ('Role', _string_arg(Role, 'Role')),
            ('ResultRole', _string_arg(ResultRole, 'ResultRole'))])
        return self._assoc_names_result(events, target)

    @_gc_paused
    def References(self, ObjectName, ResultClass=None, Role=None, IncludeQualifiers=None,
                   IncludeClassOrigin=None, PropertyList=None):
        """Association instances (or classes) that refer to ``ObjectName``."""
        namespace = self._namespace_of(ObjectName, 'ObjectName')
        target = _objectname_arg(ObjectName, 'ObjectName')
        events = self._imethod_events('References', namespace, [
            ('ObjectName', target), ('ResultClass', _classname_arg(ResultClass, 'ResultClass')),
            ('Role', _string_arg(Role, 'Role')),
            ('IncludeQualifiers', _bool_arg(IncludeQualifiers, 'IncludeQualifiers')),
            ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin')),
            ('PropertyList', _propertylist_arg(PropertyList))])
        return self._assoc_result(events, target)

    @_gc_paused
    def ReferenceNames(self, ObjectName, ResultClass=None, Role=None):
        """Paths of the association instances (or classes) that refer to ``ObjectName``."""
        namespace = self._namespace_of(ObjectName, 'ObjectName')
        target = _objectname_arg(ObjectName, 'ObjectName')
        events = self._imethod_events('ReferenceNames', namespace, [
            ('ObjectName', target), ('ResultClass', _classname_arg(ResultClass, 'ResultClass')),
            ('Role', _string_arg(Role, 'Role'))])
        return self._assoc_names_result(events, target)

    # ------------------------------------------------------------ methods and queries

    def InvokeMethod(self, MethodName, ObjectName, Params=None, **params):
        """Invoke an extrinsic method; returns ``(return_value, NocaseDict of out params)``.

        ``ObjectName``: class name string, CIMClassName or CIMInstanceName. Input parameters
        as ``Params`` (list of CIMParameter or ``(name, value)``) and/or keyword arguments;
        untyped integers must use the CIM integer classes (Uint32(5)).
        """
        if isinstance(ObjectName, (CIMInstanceName, CIMClassName)):
            target = ObjectName.copy()
            if target.namespace is None:
                target.namespace = self._default_namespace
            target.host = None
        elif isinstance(ObjectName, str):
            target = CIMClassName(ObjectName, namespace=self._default_namespace)
        else:
            raise WBEMTypeError('ObjectName must be a string, a CIMClassName or a '
                                'CIMInstanceName, not %s' % type(ObjectName).__name__)
        _string_arg(MethodName, 'MethodName', required=True)
        body = xml_encode.methodcall(MethodName, target,
                                     xml_encode.method_params(Params, params))
        headers = [('CIMOperation', 'MethodCall'), ('CIMMethod', cimmethod_header(MethodName)),
                   ('CIMObject', cimobject_header(target.to_wbem_uri(format='cimobject')))]
        if MethodName == 'UpdateExpiredPassword' and target.classname == 'SFCB_Account':
            # SFCB's password-expiration update mechanism needs this header (as pywbem).
            headers.append(('Pragma', 'UpdateExpiredPassword'))
        error = None
        return_value = None
        out = NocaseDict()
        operation = 'InvokeMethod %s' % MethodName
        try:
            for event in self._exchange(body, headers, 'method', MethodName):
                if event[0] == 'error':
                    error = event[1]
                    error.request_data = body
                elif event[0] == 'return':
                    return_value = _typed(event[2], event[1])
                elif event[0] == 'param':
                    out[event[1]] = _typed(event[3], event[2])
        except CIMError as exc:  # a CIMStatusCode trailer
            raise exc.set_context(operation, target.to_wbem_uri(format='cimobject'))
        if error is not None:
            raise error.set_context(operation, target.to_wbem_uri(format='cimobject'))
        return return_value, out

    @_gc_paused
    def ExecQuery(self, QueryLanguage, Query, namespace=None):
        """Instances that match ``Query`` in ``QueryLanguage`` (e.g. ``DMTF:CQL``, ``WQL``)."""
        namespace = _namespace_arg(namespace) or self._default_namespace
        items = self._imethod_items('ExecQuery', namespace, [
            ('QueryLanguage', _string_arg(QueryLanguage, 'QueryLanguage', required=True)),
            ('Query', _string_arg(Query, 'Query', required=True))])
        for inst in _expect(items, CIMInstance, 'CIMInstance'):
            if inst.path is None:
                inst.path = CIMInstanceName(inst.classname, namespace=namespace)
            else:
                inst.path.namespace = namespace
        return items

    # ------------------------------------------------------------ classes

    @_gc_paused
    def EnumerateClasses(self, namespace=None, ClassName=None, DeepInheritance=None,
                         LocalOnly=None, IncludeQualifiers=None, IncludeClassOrigin=None):
        """Subclasses of ``ClassName`` (top-level classes without it) as :class:`CIMClass`."""
        if namespace is None and isinstance(ClassName, CIMClassName):
            namespace = ClassName.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        classes = _expect(self._imethod_items('EnumerateClasses', namespace, [
            ('ClassName', _classname_arg(ClassName, 'ClassName')),
            ('DeepInheritance', _bool_arg(DeepInheritance, 'DeepInheritance')),
            ('LocalOnly', _bool_arg(LocalOnly, 'LocalOnly')),
            ('IncludeQualifiers', _bool_arg(IncludeQualifiers, 'IncludeQualifiers')),
            ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin'))]),
            CIMClass, 'CIMClass')
        for klass in classes:
            klass.path = CIMClassName(klass.classname, host=self.host, namespace=namespace)
        return classes

    @_gc_paused
    def EnumerateClassNames(self, namespace=None, ClassName=None, DeepInheritance=None):
        """Names (strings) of the subclasses of ``ClassName`` (or of the top-level classes)."""
        if namespace is None and isinstance(ClassName, CIMClassName):
            namespace = ClassName.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        names = _expect(self._imethod_items('EnumerateClassNames', namespace, [
            ('ClassName', _classname_arg(ClassName, 'ClassName')),
            ('DeepInheritance', _bool_arg(DeepInheritance, 'DeepInheritance'))]),
            CIMClassName, 'CIMClassName')
        return [name.classname for name in names]

    def GetClass(self, ClassName, namespace=None, LocalOnly=None, IncludeQualifiers=None,
                 IncludeClassOrigin=None, PropertyList=None):
        """The :class:`CIMClass` ``ClassName`` (its path set)."""
        if namespace is None and isinstance(ClassName, CIMClassName):
            namespace = ClassName.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        klass = self._imethod_single('GetClass', namespace, [
            ('ClassName', _classname_arg(ClassName, 'ClassName', required=True)),
            ('LocalOnly', _bool_arg(LocalOnly, 'LocalOnly')),
            ('IncludeQualifiers', _bool_arg(IncludeQualifiers, 'IncludeQualifiers')),
            ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin')),
            ('PropertyList', _propertylist_arg(PropertyList))])
        if not isinstance(klass, CIMClass):
            raise CIMXMLParseError('Expecting CIMClass object, got %s object'
                                   % type(klass).__name__)
        klass.path = CIMClassName(klass.classname, host=self.host, namespace=namespace)
        return klass

    def _class_arg(self, klass, name):
        if not isinstance(klass, CIMClass):
            raise WBEMTypeError('%s must be a CIMClass, not %s' % (name, type(klass).__name__))
        klass = klass.copy()
        klass.path = None
        return klass

    def ModifyClass(self, ModifiedClass, namespace=None):
        """Modify a class."""
        namespace = _namespace_arg(namespace) or self._default_namespace
        self._imethod_void('ModifyClass', namespace,
                           [('ModifiedClass', self._class_arg(ModifiedClass, 'ModifiedClass'))])

    def CreateClass(self, NewClass, namespace=None):
        """Create a class."""
        namespace = _namespace_arg(namespace) or self._default_namespace
        self._imethod_void('CreateClass', namespace,
                           [('NewClass', self._class_arg(NewClass, 'NewClass'))])

    def DeleteClass(self, ClassName, namespace=None):
        """Delete a class."""
        if namespace is None and isinstance(ClassName, CIMClassName):
            namespace = ClassName.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        self._imethod_void('DeleteClass', namespace,
                           [('ClassName', _classname_arg(ClassName, 'ClassName', required=True))])

    # ------------------------------------------------------------ qualifier declarations

    @_gc_paused
    def EnumerateQualifiers(self, namespace=None):
        """All :class:`CIMQualifierDeclaration` of a namespace."""
        namespace = _namespace_arg(namespace) or self._default_namespace
        return _expect(self._imethod_items('EnumerateQualifiers', namespace, []),
                       CIMQualifierDeclaration, 'CIMQualifierDeclaration')

    def GetQualifier(self, QualifierName, namespace=None):
        """The :class:`CIMQualifierDeclaration` ``QualifierName``."""
        namespace = _namespace_arg(namespace) or self._default_namespace
        decl = self._imethod_single('GetQualifier', namespace, [
            ('QualifierName', _string_arg(QualifierName, 'QualifierName', required=True))])
        if not isinstance(decl, CIMQualifierDeclaration):
            raise CIMXMLParseError('Expecting CIMQualifierDeclaration object, got %s object'
                                   % type(decl).__name__)
        return decl

    def SetQualifier(self, QualifierDeclaration, namespace=None):
        """Create or change a qualifier declaration."""
        namespace = _namespace_arg(namespace) or self._default_namespace
        if not isinstance(QualifierDeclaration, CIMQualifierDeclaration):
            raise WBEMTypeError('QualifierDeclaration must be a CIMQualifierDeclaration, not %s'
                                % type(QualifierDeclaration).__name__)
        self._imethod_void('SetQualifier', namespace,
                           [('QualifierDeclaration', QualifierDeclaration)])

    def DeleteQualifier(self, QualifierName, namespace=None):
        """Delete a qualifier declaration."""
        namespace = _namespace_arg(namespace) or self._default_namespace
        self._imethod_void('DeleteQualifier', namespace, [
            ('QualifierName', _string_arg(QualifierName, 'QualifierName', required=True))])

    # ------------------------------------------------------------ pull operations

    def _pull_events(self, methodname, namespace, params):
        return self._imethod_events(methodname, namespace, params, has_out_params=True)

    @staticmethod
    def _pull_params(events):
        """``(objects, eos, context_string)`` of an open/pull response, checked."""
        objects = []
        eos = False
        eos_found = ctx_found = False
        context = None
        for event in events:
            if event[0] == 'item':
                objects.append(event[1])
            elif event[0] == 'param':
                name, value = event[1], event[3]
                if name == 'EndOfSequence':
                    text = value.strip().lower() if isinstance(value, str) else value
                    if text in ('true', True):
                        eos = True
                    elif text in ('false', False):
                        eos = False
                    else:
                        raise CIMXMLParseError('EndOfSequence output parameter has an invalid '
                                               'value: %r' % (value,))
                    eos_found = True
                elif name == 'EnumerationContext':
                    ctx_found = True
                    if isinstance(value, str):
                        context = value
        if not eos_found and not ctx_found:
            raise CIMXMLParseError('Expected EndOfSequence or EnumerationContext output '
                                   'parameter in open/pull response, but none received')
        if not eos and context is None:
            raise CIMXMLParseError('Expected EnumerationContext output parameter because '
                                   'EndOfSequence=False, but did not receive it')
        return objects, eos, context

    def _pull_result(self, events, namespace, paths=False):
        objects, eos, context = self._pull_params(events)
        ctx = None if eos else (context, namespace)
        if paths:
            return pull_path_result_tuple(_expect(objects, CIMInstanceName, 'CIMInstanceName'),
                                          eos, ctx)
        return pull_inst_result_tuple(_expect(objects, CIMInstance, 'CIMInstance'), eos, ctx)

    @staticmethod
    def _filter_params(FilterQueryLanguage, FilterQuery, OperationTimeout, ContinueOnError,
                       MaxObjectCount):
        return [('FilterQueryLanguage', _string_arg(FilterQueryLanguage,
                                                    'FilterQueryLanguage')),
                ('FilterQuery', _string_arg(FilterQuery, 'FilterQuery')),
                ('OperationTimeout', _uint_arg(OperationTimeout, 'OperationTimeout')),
                ('ContinueOnError', _bool_arg(ContinueOnError, 'ContinueOnError')),
                ('MaxObjectCount', _maxobjectcount_pull(MaxObjectCount))]

    @_gc_paused
    def OpenEnumerateInstances(self, ClassName, namespace=None, DeepInheritance=None,
                               IncludeClassOrigin=None, PropertyList=None,
                               FilterQueryLanguage=None, FilterQuery=None,
                               OperationTimeout=None, ContinueOnError=None,
                               MaxObjectCount=None):
        """Open an enumeration of instances; returns ``(instances, eos, context)``."""
        if namespace is None and isinstance(ClassName, CIMClassName):
            namespace = ClassName.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        params = [('ClassName', _classname_arg(ClassName, 'ClassName', required=True)),
                  ('DeepInheritance', _bool_arg(DeepInheritance, 'DeepInheritance')),
                  ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin')),
                  ('PropertyList', _propertylist_arg(PropertyList))]
        params += self._filter_params(FilterQueryLanguage, FilterQuery, OperationTimeout,
                                      ContinueOnError, MaxObjectCount)
        return self._pull_result(self._pull_events('OpenEnumerateInstances', namespace,
                                                   params), namespace)

    @_gc_paused
    def OpenEnumerateInstancePaths(self, ClassName, namespace=None, FilterQueryLanguage=None,
                                   FilterQuery=None, OperationTimeout=None,
                                   ContinueOnError=None, MaxObjectCount=None):
        """Open an enumeration of instance paths; returns ``(paths, eos, context)``."""
        if namespace is None and isinstance(ClassName, CIMClassName):
            namespace = ClassName.namespace
        namespace = _namespace_arg(namespace) or self._default_namespace
        params = [('ClassName', _classname_arg(ClassName, 'ClassName', required=True))]
        params += self._filter_params(FilterQueryLanguage, FilterQuery, OperationTimeout,
                                      ContinueOnError, MaxObjectCount)
        return self._pull_result(self._pull_events('OpenEnumerateInstancePaths', namespace,
                                                   params), namespace, paths=True)

    def _open_assoc(self, methodname, InstanceName, params_head, paths, FilterQueryLanguage,
                    FilterQuery, OperationTimeout, ContinueOnError, MaxObjectCount):
        namespace = self._namespace_of(InstanceName, 'InstanceName')
        params = [('InstanceName', _instancename_arg(InstanceName, 'InstanceName',
                                                     required=True))] + params_head
        params += self._filter_params(FilterQueryLanguage, FilterQuery, OperationTimeout,
                                      ContinueOnError, MaxObjectCount)
        return self._pull_result(self._pull_events(methodname, namespace, params), namespace,
                                 paths=paths)

    @_gc_paused
    def OpenAssociatorInstances(self, InstanceName, AssocClass=None, ResultClass=None,
                                Role=None, ResultRole=None, IncludeClassOrigin=None,
                                PropertyList=None, FilterQueryLanguage=None, FilterQuery=None,
                                OperationTimeout=None, ContinueOnError=None,
                                MaxObjectCount=None):
        """Open an enumeration of associated instances."""
        return self._open_assoc('OpenAssociatorInstances', InstanceName, [
            ('AssocClass', _classname_arg(AssocClass, 'AssocClass')),
            ('ResultClass', _classname_arg(ResultClass, 'ResultClass')),
            ('Role', _string_arg(Role, 'Role')),
            ('ResultRole', _string_arg(ResultRole, 'ResultRole')),
            ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin')),
            ('PropertyList', _propertylist_arg(PropertyList))], False, FilterQueryLanguage,
            FilterQuery, OperationTimeout, ContinueOnError, MaxObjectCount)

    @_gc_paused
    def OpenAssociatorInstancePaths(self, InstanceName, AssocClass=None, ResultClass=None,
                                    Role=None, ResultRole=None, FilterQueryLanguage=None,
                                    FilterQuery=None, OperationTimeout=None,
                                    ContinueOnError=None, MaxObjectCount=None):
        """Open an enumeration of the paths of associated instances."""
        return self._open_assoc('OpenAssociatorInstancePaths', InstanceName, [
            ('AssocClass', _classname_arg(AssocClass, 'AssocClass')),
            ('ResultClass', _classname_arg(ResultClass, 'ResultClass')),
            ('Role', _string_arg(Role, 'Role')),
            ('ResultRole', _string_arg(ResultRole, 'ResultRole'))], True, FilterQueryLanguage,
            FilterQuery, OperationTimeout, ContinueOnError, MaxObjectCount)

    @_gc_paused
    def OpenReferenceInstances(self, InstanceName, ResultClass=None, Role=None,
                               IncludeClassOrigin=None, PropertyList=None,
                               FilterQueryLanguage=None, FilterQuery=None,
                               OperationTimeout=None, ContinueOnError=None,
                               MaxObjectCount=None):
        """Open an enumeration of referencing association instances."""
        return self._open_assoc('OpenReferenceInstances', InstanceName, [
            ('ResultClass', _classname_arg(ResultClass, 'ResultClass')),
            ('Role', _string_arg(Role, 'Role')),
            ('IncludeClassOrigin', _bool_arg(IncludeClassOrigin, 'IncludeClassOrigin')),
            ('PropertyList', _propertylist_arg(PropertyList))], False, FilterQueryLanguage,
            FilterQuery, OperationTimeout, ContinueOnError, MaxObjectCount)

    @_gc_paused
    def OpenReferenceInstancePaths(self, InstanceName, ResultClass=None, Role=None,
                                   FilterQueryLanguage=None, FilterQuery=None,
                                   OperationTimeout=None, ContinueOnError=None,
                                   MaxObjectCount=None):
        """Open an enumeration of the paths of referencing association instances."""
        return self._open_assoc('OpenReferenceInstancePaths', InstanceName, [
            ('ResultClass', _classname_arg(ResultClass, 'ResultClass')),
            ('Role', _string_arg(Role, 'Role'))], True, FilterQueryLanguage, FilterQuery,
            OperationTimeout, ContinueOnError, MaxObjectCount)

    @_gc_paused
    def OpenQueryInstances(self, FilterQueryLanguage, FilterQuery, namespace=None,
                           ReturnQueryResultClass=None, OperationTimeout=None,
                           ContinueOnError=None, MaxObjectCount=None):
        """Open a query; returns ``(instances, eos, context, query_result_class)``."""
        namespace = _namespace_arg(namespace) or self._default_namespace
        params = [('FilterQueryLanguage', _string_arg(FilterQueryLanguage,
                                                      'FilterQueryLanguage')),
                  ('FilterQuery', _string_arg(FilterQuery, 'FilterQuery')),
                  ('ReturnQueryResultClass', _bool_arg(ReturnQueryResultClass,
                                                       'ReturnQueryResultClass')),
                  ('OperationTimeout', _uint_arg(OperationTimeout, 'OperationTimeout')),
                  ('ContinueOnError', _bool_arg(ContinueOnError, 'ContinueOnError')),
                  ('MaxObjectCount', _maxobjectcount_pull(MaxObjectCount))]
        events = list(self._pull_events('OpenQueryInstances', namespace, params))
        objects, eos, context = self._pull_params(events)
        query_class = None
        if ReturnQueryResultClass:
            for event in events:
                if event[0] == 'param' and event[1] == 'QueryResultClass':
                    query_class = event[3]
                    if not isinstance(query_class, CIMClass):
                        raise CIMXMLParseError('Expecting CIMClass object in QueryResultClass '
                                               'output parameter, got %s object'
                                               % type(query_class).__name__)
                    break
            else:
                raise CIMXMLParseError('QueryResultClass output parameter is missing')
        return pull_query_result_tuple(_expect(objects, CIMInstance, 'CIMInstance'), eos,
                                       None if eos else (context, namespace), query_class)

    def _pull(self, methodname, context, MaxObjectCount, paths=False):
        _maxobjectcount_pull(MaxObjectCount)
        context = _context_arg(context)
        namespace = context[1]
        events = self._pull_events(methodname, namespace, [
            ('EnumerationContext', context[0]), ('MaxObjectCount', MaxObjectCount)])
        return self._pull_result(events, namespace, paths=paths)

    @_gc_paused
    def PullInstancesWithPath(self, context, MaxObjectCount):
        """Next instances (with paths) of an open enumeration."""
        return self._pull('PullInstancesWithPath', context, MaxObjectCount)

    @_gc_paused
    def PullInstancePaths(self, context, MaxObjectCount):
        """Next instance paths of an open enumeration."""
        return self._pull('PullInstancePaths', context, MaxObjectCount, paths=True)

    @_gc_paused
    def PullInstances(self, context, MaxObjectCount):
        """Next instances (without paths) of an open query enumeration."""
        return self._pull('PullInstances', context, MaxObjectCount)

    def CloseEnumeration(self, context):
        """Close an open enumeration before its end."""
        context = _context_arg(context)
        self._imethod_void('CloseEnumeration', context[1],
                           [('EnumerationContext', context[0])])

    # ------------------------------------------------------------ iterators

    def _iterate(self, key, open_call, pull_call, fallback, MaxObjectCount, OperationTimeout):
        """Generic Iter*: pull with fallback; yields objects as they are parsed."""
        _uint_arg(OperationTimeout, 'OperationTimeout')
        _maxobjectcount_iter(MaxObjectCount)
        use_pull = self.use_pull_operations
        state = self._pull_state.get(key) if use_pull is None else use_pull
        if state is None or state:
            result = None
            try:
                try:
                    result = open_call()
                except CIMError as exc:
                    if state is None and exc.status_code in (CIM_ERR_NOT_SUPPORTED,
                                                             CIM_ERR_FAILED):
                        self._pull_state[key] = False
                    else:
                        raise
                else:
                    if use_pull is None:
                        self._pull_state[key] = True
                    yield from result[0]
                    while not result.eos:
                        result = pull_call(result.context, MaxObjectCount)
                        yield from result[0]
                    result = None
                    return
            finally:
                if result is not None and not result.eos:
                    try:
                        self.CloseEnumeration(result.context)
                    except WBEMError:
                        pass
        yield from fallback()

    @staticmethod
    def _no_filter(operation, FilterQueryLanguage, FilterQuery, ContinueOnError):
        if FilterQuery is not None or FilterQueryLanguage is not None:
            raise WBEMValueError('%s does not support FilterQuery' % operation)
        if ContinueOnError is not None:
            raise WBEMValueError('%s does not support ContinueOnError' % operation)

    def IterEnumerateInstances(self, ClassName, namespace=None, LocalOnly=None,
                               DeepInheritance=None, IncludeQualifiers=None,
                               IncludeClassOrigin=None, PropertyList=None,
                               FilterQueryLanguage=None, FilterQuery=None,
                               OperationTimeout=None, ContinueOnError=None,
                               MaxObjectCount=DEFAULT_ITER_MAXOBJECTCOUNT):
        """Generator of the instances of a class (paths with host and namespace)."""
        def open_call():
            return self.OpenEnumerateInstances(
                ClassName, namespace=namespace, DeepInheritance=DeepInheritance,
                IncludeClassOrigin=IncludeClassOrigin, PropertyList=PropertyList,
                FilterQueryLanguage=FilterQueryLanguage, FilterQuery=FilterQuery,
                OperationTimeout=OperationTimeout, ContinueOnError=ContinueOnError,
                MaxObjectCount=MaxObjectCount)

        def fallback():
            self._no_filter('EnumerateInstances', FilterQueryLanguage, FilterQuery,
                            ContinueOnError)
            return self._enum_instances(ClassName, namespace, LocalOnly, DeepInheritance,
                                        IncludeQualifiers, IncludeClassOrigin, PropertyList,
                                        host=self.host)
        return self._iterate('enum', open_call, self.PullInstancesWithPath, fallback,
                             MaxObjectCount, OperationTimeout)

    def IterEnumerateInstancePaths(self, ClassName, namespace=None, FilterQueryLanguage=None,
                                   FilterQuery=None, OperationTimeout=None,
                                   ContinueOnError=None,
                                   MaxObjectCount=DEFAULT_ITER_MAXOBJECTCOUNT):
        """Generator of the instance paths of a class."""
        def open_call():
            return self.OpenEnumerateInstancePaths(
                ClassName, namespace=namespace, FilterQueryLanguage=FilterQueryLanguage,
                FilterQuery=FilterQuery, OperationTimeout=OperationTimeout,
                ContinueOnError=ContinueOnError, MaxObjectCount=MaxObjectCount)

        def fallback():
            self._no_filter('EnumerateInstanceNames', FilterQueryLanguage, FilterQuery,
                            ContinueOnError)
            return self._enum_instance_names(ClassName, namespace, host=self.host)
        return self._iterate('enum_paths', open_call, self.PullInstancePaths, fallback,
                             MaxObjectCount, OperationTimeout)

    def IterAssociatorInstances(self, InstanceName, AssocClass=None, ResultClass=None,
                                Role=None, ResultRole=None, IncludeQualifiers=None,
                                IncludeClassOrigin=None, PropertyList=None,
                                FilterQueryLanguage=None, FilterQuery=None,
                                OperationTimeout=None, ContinueOnError=None,
                                MaxObjectCount=DEFAULT_ITER_MAXOBJECTCOUNT):
        """Generator of the instances associated with ``InstanceName``."""
        def open_call():
            return self.OpenAssociatorInstances(
                InstanceName, AssocClass=AssocClass, ResultClass=ResultClass, Role=Role,
                ResultRole=ResultRole, IncludeClassOrigin=IncludeClassOrigin,
                PropertyList=PropertyList, FilterQueryLanguage=FilterQueryLanguage,
                FilterQuery=FilterQuery, OperationTimeout=OperationTimeout,
                ContinueOnError=ContinueOnError, MaxObjectCount=MaxObjectCount)

        def fallback():
            self._no_filter('Associators', FilterQueryLanguage, FilterQuery, ContinueOnError)
            return self.Associators(InstanceName, AssocClass=AssocClass,
                                    ResultClass=ResultClass, Role=Role, ResultRole=ResultRole,
                                    IncludeQualifiers=IncludeQualifiers,
                                    IncludeClassOrigin=IncludeClassOrigin,
                                    PropertyList=PropertyList)
        return self._iterate('assoc', open_call, self.PullInstancesWithPath, fallback,
                             MaxObjectCount, OperationTimeout)

    def IterAssociatorInstancePaths(self, InstanceName, AssocClass=None, ResultClass=None,
                                    Role=None, ResultRole=None, FilterQueryLanguage=None,
                                    FilterQuery=None, OperationTimeout=None,
                                    ContinueOnError=None,
                                    MaxObjectCount=DEFAULT_ITER_MAXOBJECTCOUNT):
        """Generator of the paths of the instances associated with ``InstanceName``."""
        def open_call():
            return self.OpenAssociatorInstancePaths(
                InstanceName, AssocClass=AssocClass, ResultClass=ResultClass, Role=Role,
                ResultRole=ResultRole, FilterQueryLanguage=FilterQueryLanguage,
                FilterQuery=FilterQuery, OperationTimeout=OperationTimeout,
                ContinueOnError=ContinueOnError, MaxObjectCount=MaxObjectCount)

        def fallback():
            self._no_filter('AssociatorNames', FilterQueryLanguage, FilterQuery,
                            ContinueOnError)
            return self.AssociatorNames(InstanceName, AssocClass=AssocClass,
                                        ResultClass=ResultClass, Role=Role,
                                        ResultRole=ResultRole)
        return self._iterate('assoc_paths', open_call, self.PullInstancePaths, fallback,
                             MaxObjectCount, OperationTimeout)

    def IterReferenceInstances(self, InstanceName, ResultClass=None, Role=None,
                               IncludeQualifiers=None, IncludeClassOrigin=None,
                               PropertyList=None, FilterQueryLanguage=None, FilterQuery=None,
                               OperationTimeout=None, ContinueOnError=None,
                               MaxObjectCount=DEFAULT_ITER_MAXOBJECTCOUNT):
        """Generator of the association instances that refer to ``InstanceName``."""
        def open_call():
            return self.OpenReferenceInstances(
                InstanceName, ResultClass=ResultClass, Role=Role,
                IncludeClassOrigin=IncludeClassOrigin, PropertyList=PropertyList,
                FilterQueryLanguage=FilterQueryLanguage, FilterQuery=FilterQuery,
                OperationTimeout=OperationTimeout, ContinueOnError=ContinueOnError,
                MaxObjectCount=MaxObjectCount)

        def fallback():
            self._no_filter('References', FilterQueryLanguage, FilterQuery, ContinueOnError)
            return self.References(InstanceName, ResultClass=ResultClass, Role=Role,
                                   IncludeQualifiers=IncludeQualifiers,
                                   IncludeClassOrigin=IncludeClassOrigin,
                                   PropertyList=PropertyList)
        return self._iterate('ref', open_call, self.PullInstancesWithPath, fallback,
                             MaxObjectCount, OperationTimeout)

    def IterReferenceInstancePaths(self, InstanceName, ResultClass=None, Role=None,
                                   FilterQueryLanguage=None, FilterQuery=None,
                                   OperationTimeout=None, ContinueOnError=None,
                                   MaxObjectCount=DEFAULT_ITER_MAXOBJECTCOUNT):
        """Generator of the paths of the association instances referring to InstanceName."""
        def open_call():
            return self.OpenReferenceInstancePaths(
                InstanceName, ResultClass=ResultClass, Role=Role,
                FilterQueryLanguage=FilterQueryLanguage, FilterQuery=FilterQuery,
                OperationTimeout=OperationTimeout, ContinueOnError=ContinueOnError,
                MaxObjectCount=MaxObjectCount)

        def fallback():
            self._no_filter('ReferenceNames', FilterQueryLanguage, FilterQuery, ContinueOnError)
            return self.ReferenceNames(InstanceName, ResultClass=ResultClass, Role=Role)
        return self._iterate('ref_paths', open_call, self.PullInstancePaths, fallback,
                             MaxObjectCount, OperationTimeout)

    def IterQueryInstances(self, FilterQueryLanguage, FilterQuery, namespace=None,
                           ReturnQueryResultClass=None, OperationTimeout=None,
                           ContinueOnError=None, MaxObjectCount=DEFAULT_ITER_MAXOBJECTCOUNT):
        """Run a query; returns :class:`IterQueryInstancesReturn` (``.instances`` generator)."""
        _uint_arg(OperationTimeout, 'OperationTimeout')
        _maxobjectcount_iter(MaxObjectCount)
        use_pull = self.use_pull_operations
        state = self._pull_state.get('query') if use_pull is None else use_pull
        if state is None or state:
            try:
                result = self.OpenQueryInstances(
                    FilterQueryLanguage, FilterQuery, namespace=namespace,
                    ReturnQueryResultClass=ReturnQueryResultClass,
                    OperationTimeout=OperationTimeout, ContinueOnError=ContinueOnError,
                    MaxObjectCount=MaxObjectCount)
            except CIMError as exc:
                if state is None and exc.status_code in (CIM_ERR_NOT_SUPPORTED, CIM_ERR_FAILED):
                    self._pull_state['query'] = False
                else:
                    raise
            else:
                if use_pull is None:
                    self._pull_state['query'] = True

                def generate(first):
                    current = first
                    try:
                        yield from current.instances
                        while not current.eos:
                            current = self.PullInstances(current.context, MaxObjectCount)
                            yield from current.instances
                    finally:
                        if not current.eos:
                            try:
                                self.CloseEnumeration(current.context)
                            except WBEMError:
                                pass
                return IterQueryInstancesReturn(generate(result), result.query_result_class)
        if ReturnQueryResultClass is not None:
            raise WBEMValueError('ExecQuery does not support ReturnQueryResultClass')
        if ContinueOnError is not None:
            raise WBEMValueError('ExecQuery does not support ContinueOnError')
        return IterQueryInstancesReturn(
            iter(self.ExecQuery(FilterQueryLanguage, FilterQuery, namespace=namespace)))

    # ------------------------------------------------------------ export

    def ExportIndication(self, NewIndication):
        """Send an indication to a WBEM listener (the URL of this connection)."""
        if not isinstance(NewIndication, CIMInstance):
            raise WBEMTypeError('NewIndication must be a CIMInstance, not %s'
                                % type(NewIndication).__name__)
        body = xml_encode.expmethodcall('ExportIndication', [('NewIndication', NewIndication)])
        headers = [('CIMExport', 'MethodRequest'), ('CIMExportMethod', 'ExportIndication')]
        error = None
        for event in self._exchange(body, headers, 'export', 'ExportIndication'):
            if event[0] == 'error':
                error = event[1]
            elif event[0] == 'item' or (event[0] == 'ireturnvalue' and error is None):
                raise CIMXMLParseError('Unexpected IRETURNVALUE child element of '
                                       'EXPMETHODRESPONSE for ExportIndication, which is void')
        if error is not None:
            raise error


def _typed(value, paramtype):
    """Output parameter / return value as pywbem returns them (typed by PARAMTYPE)."""
    if value is None or paramtype is None or paramtype == 'reference':
        return value
    objects = (CIMInstance, CIMClass)
    if isinstance(value, objects) or (isinstance(value, list) and value
                                      and isinstance(value[0], objects)):
        return value
    try:
        return cimvalue(value, paramtype)
    except (WBEMValueError, TypeError, ValueError) as exc:
        # the type and the value come from the server: a bad one is a bad response
        raise CIMXMLParseError('The response gives %s of PARAMTYPE %r that cannot be read: %s'
                               % ('an array' if isinstance(value, list) else 'a value',
                                  paramtype, exc))
