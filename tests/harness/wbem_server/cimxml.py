# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM-XML (DSP0200/DSP0201) requests in, pywbem_mock calls, CIM-XML responses out.

:func:`parse_request` decodes a request body with pywbem's own SAX tuple-tree parser and
``TupleParser`` (SIMPLEREQ with IMETHODCALL or METHODCALL) into a :class:`Request` whose
parameters are pywbem objects, typed and checked against the operation's parameter table
(:data:`INTRINSIC`) or, for extrinsic methods, against the method declaration in the class.
:class:`Dispatcher` runs it on pywbem_mock's main provider and provider dispatcher (not on the
``FakedWBEMConnection._imeth_*`` wrappers) and :func:`encode_response` builds the response
with pywbem's ``_cim_xml`` elements and ``tocimxml()`` methods.

Errors: :class:`RequestError` for what DSP0200 answers at the HTTP level (400/501 with a
``CIMError`` header); :class:`pywbem.CIMError` for everything answered with an ERROR element.
"""

import re
import threading
from urllib.parse import unquote

import pywbem
from pywbem import (CIMError, CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMParameter,
                    CIMQualifierDeclaration, Uint32, cimvalue,
                    CIM_ERR_FAILED, CIM_ERR_INVALID_PARAMETER, CIM_ERR_NOT_SUPPORTED,
                    CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED, CIM_ERR_INVALID_QUERY)
from pywbem import _cim_xml  # pylint: disable=protected-access
from pywbem._cim_types import atomic_to_cim_xml  # pylint: disable=protected-access
from pywbem._tupleparse import TupleParser  # pylint: disable=protected-access
from pywbem._tupletree import xml_to_tupletree_sax  # pylint: disable=protected-access
from pywbem._nocasedict import NocaseDict  # pylint: disable=protected-access

from . import query as query_engine

STATUS_NAMES = {getattr(pywbem, name): name for name in dir(pywbem) if name.startswith('CIM_ERR_')}
STATUS_CODES = {name: code for code, name in STATUS_NAMES.items()}


def status_code(value):
    """A CIM status code from a number or a name such as ``CIM_ERR_ACCESS_DENIED``."""
    if isinstance(value, int):
        return value
    text = str(value).strip().upper()
    if text.isdigit():
        return int(text)
    if not text.startswith('CIM_ERR_'):
        text = 'CIM_ERR_' + text
    if text not in STATUS_CODES:
        raise ValueError('unknown CIM status %r' % value)
    return STATUS_CODES[text]


def status_name(code):
    return STATUS_NAMES.get(code, 'CIM_ERR_%d' % code) if code else None


class RequestError(Exception):
    """A request DSP0200 rejects at the HTTP level: ``status`` and the ``CIMError`` header."""

    def __init__(self, status, cimerror, message):
        super().__init__(message)
        self.status = status
        self.cimerror = cimerror


# Parameter kinds of the intrinsic operations.
_BOOL, _UINT32, _STRING, _CLASSNAME, _INSTNAME, _OBJNAME, _PROPLIST = (
    'boolean', 'uint32', 'string', 'classname', 'instancename', 'objectname', 'propertylist')
_INSTANCE, _NAMEDINSTANCE, _CLASS, _QUALDECL, _CONTEXT = (
    'instance', 'namedinstance', 'class', 'qualifierdeclaration', 'context')

_PULL_OPEN = {'FilterQueryLanguage': _STRING, 'FilterQuery': _STRING, 'OperationTimeout': _UINT32,
              'ContinueOnError': _BOOL, 'MaxObjectCount': _UINT32}


def _op(required=(), **optional):
    params = dict(optional)
    params.update(required)
    return {'params': params, 'required': tuple(name for name, _kind in required)}


#: The intrinsic operations: parameter kinds and the required ones (DSP0200 5.3.2, 5.3.3 and
#: the pull operations of 5.3.2.x). GetProperty, SetProperty and EnumerationCount are answered
#: with CIM_ERR_NOT_SUPPORTED like in most servers.
INTRINSIC = {
    'GetClass': _op([('ClassName', _CLASSNAME)], LocalOnly=_BOOL, IncludeQualifiers=_BOOL,
                    IncludeClassOrigin=_BOOL, PropertyList=_PROPLIST),
    'EnumerateClasses': _op(ClassName=_CLASSNAME, DeepInheritance=_BOOL, LocalOnly=_BOOL,
                            IncludeQualifiers=_BOOL, IncludeClassOrigin=_BOOL),
    'EnumerateClassNames': _op(ClassName=_CLASSNAME, DeepInheritance=_BOOL),
    'CreateClass': _op([('NewClass', _CLASS)]),
    'ModifyClass': _op([('ModifiedClass', _CLASS)]),
    'DeleteClass': _op([('ClassName', _CLASSNAME)]),
    'GetInstance': _op([('InstanceName', _INSTNAME)], LocalOnly=_BOOL, IncludeQualifiers=_BOOL,
                       IncludeClassOrigin=_BOOL, PropertyList=_PROPLIST),
    'EnumerateInstances': _op([('ClassName', _CLASSNAME)], LocalOnly=_BOOL, DeepInheritance=_BOOL,
                              IncludeQualifiers=_BOOL, IncludeClassOrigin=_BOOL, PropertyList=_PROPLIST),
    'EnumerateInstanceNames': _op([('ClassName', _CLASSNAME)]),
    'CreateInstance': _op([('NewInstance', _INSTANCE)]),
    'ModifyInstance': _op([('ModifiedInstance', _NAMEDINSTANCE)], IncludeQualifiers=_BOOL,
                          PropertyList=_PROPLIST),
    'DeleteInstance': _op([('InstanceName', _INSTNAME)]),
    'ExecQuery': _op([('QueryLanguage', _STRING), ('Query', _STRING)]),
    'Associators': _op([('ObjectName', _OBJNAME)], AssocClass=_CLASSNAME, ResultClass=_CLASSNAME,
                       Role=_STRING, ResultRole=_STRING, IncludeQualifiers=_BOOL,
                       IncludeClassOrigin=_BOOL, PropertyList=_PROPLIST),
    'AssociatorNames': _op([('ObjectName', _OBJNAME)], AssocClass=_CLASSNAME, ResultClass=_CLASSNAME,
                           Role=_STRING, ResultRole=_STRING),
    'References': _op([('ObjectName', _OBJNAME)], ResultClass=_CLASSNAME, Role=_STRING,
                      IncludeQualifiers=_BOOL, IncludeClassOrigin=_BOOL, PropertyList=_PROPLIST),
    'ReferenceNames': _op([('ObjectName', _OBJNAME)], ResultClass=_CLASSNAME, Role=_STRING),
    'GetQualifier': _op([('QualifierName', _STRING)]),
    'SetQualifier': _op([('QualifierDeclaration', _QUALDECL)]),
    'DeleteQualifier': _op([('QualifierName', _STRING)]),
    'EnumerateQualifiers': _op(),
    'OpenEnumerateInstances': _op([('ClassName', _CLASSNAME)], DeepInheritance=_BOOL,
                                  IncludeClassOrigin=_BOOL, PropertyList=_PROPLIST, **_PULL_OPEN),
    'OpenEnumerateInstancePaths': _op([('ClassName', _CLASSNAME)], **_PULL_OPEN),
    'OpenReferenceInstances': _op([('InstanceName', _INSTNAME)], ResultClass=_CLASSNAME, Role=_STRING,
                                  IncludeClassOrigin=_BOOL, PropertyList=_PROPLIST, **_PULL_OPEN),
    'OpenReferenceInstancePaths': _op([('InstanceName', _INSTNAME)], ResultClass=_CLASSNAME, Role=_STRING,
                                      **_PULL_OPEN),
    'OpenAssociatorInstances': _op([('InstanceName', _INSTNAME)], AssocClass=_CLASSNAME,
                                   ResultClass=_CLASSNAME, Role=_STRING, ResultRole=_STRING,
                                   IncludeClassOrigin=_BOOL, PropertyList=_PROPLIST, **_PULL_OPEN),
    'OpenAssociatorInstancePaths': _op([('InstanceName', _INSTNAME)], AssocClass=_CLASSNAME,
                                       ResultClass=_CLASSNAME, Role=_STRING, ResultRole=_STRING,
                                       **_PULL_OPEN),
    'OpenQueryInstances': _op([('FilterQueryLanguage', _STRING), ('FilterQuery', _STRING)],
                              ReturnQueryResultClass=_BOOL, OperationTimeout=_UINT32, ContinueOnError=_BOOL,
                              MaxObjectCount=_UINT32),
    'PullInstancesWithPath': _op([('EnumerationContext', _CONTEXT), ('MaxObjectCount', _UINT32)]),
    'PullInstancePaths': _op([('EnumerationContext', _CONTEXT), ('MaxObjectCount', _UINT32)]),
    'PullInstances': _op([('EnumerationContext', _CONTEXT), ('MaxObjectCount', _UINT32)]),
    'CloseEnumeration': _op([('EnumerationContext', _CONTEXT)]),
}
_CANONICAL = {name.lower(): name for name in INTRINSIC}
_UNSUPPORTED = ('getproperty', 'setproperty', 'enumerationcount')

#: Operations that change the repository (InvokeMethod counts: methods may change state).
WRITE_OPERATIONS = frozenset(['CreateClass', 'ModifyClass', 'DeleteClass', 'CreateInstance', 'ModifyInstance',
                              'DeleteInstance', 'SetQualifier', 'DeleteQualifier', 'InvokeMethod'])
#: Operations whose response has no IRETURNVALUE.
VOID_OPERATIONS = frozenset(['CreateClass', 'ModifyClass', 'DeleteClass', 'ModifyInstance', 'DeleteInstance',
                             'SetQualifier', 'DeleteQualifier', 'CloseEnumeration'])
PULL_OPERATIONS = frozenset(name for name in INTRINSIC if name.startswith(('Open', 'Pull'))) | {'CloseEnumeration'}


class Request(object):
    """A decoded CIM-XML request."""

    def __init__(self, kind, name, namespace, params, message_id, target=None):
        self.kind = kind  # 'intrinsic' or 'extrinsic'
        self.name = name  # the operation or method name as sent
        self.namespace = namespace
        self.params = params  # intrinsic: {canonical name: value}; extrinsic: [(name, type, value)]
        self.message_id = message_id
        self.target = target  # extrinsic: CIMInstanceName or CIMClassName
        self.classname = None

    @property
    def operation(self):
        return _CANONICAL.get(self.name.lower(), self.name) if self.kind == 'intrinsic' else 'InvokeMethod'

    @property
    def method(self):
        return self.name if self.kind == 'extrinsic' else None

    def summary(self):
        """What the request log records about the request's content."""
        info = {'operation': self.operation, 'method': self.method, 'namespace': self.namespace,
                'classname': self.classname}
        path = None
        if self.kind == 'extrinsic':
            path = self.target
        else:
            for name in ('InstanceName', 'ObjectName'):
                if isinstance(self.params.get(name), (CIMInstanceName, CIMClassName)):
                    path = self.params[name]
            modified = self.params.get('ModifiedInstance')
            if isinstance(modified, CIMInstance):
                path = modified.path
            for name in ('NewInstance', 'ModifiedInstance'):
                if isinstance(self.params.get(name), CIMInstance):
                    info['properties'] = sorted(self.params[name].properties.keys())
            if 'PropertyList' in self.params:
                info['property_list'] = self.params['PropertyList']
            for name in ('Query', 'FilterQuery'):
                if self.params.get(name) is not None:
                    info['query'] = self.params[name]
        if path is not None:
            path = path.copy()
            path.host = None
            info['path'] = str(path)
        return info


def _namespace_of(localnamespacepath):
    return localnamespacepath.strip('/')


def parse_request(body, headers=None):
    """Decode a CIM-XML request body (bytes); ``headers`` (dict, lower-case names) are checked
    against it as DSP0200 requires (CIMMethod and CIMObject)."""
    try:
        tree = xml_to_tupletree_sax(body, 'CIM-XML request')
    except pywbem.XMLParseError as exc:
        raise RequestError(400, 'request-not-well-formed', str(exc).split('\n', 1)[0])
    parser = TupleParser()
    try:
        if tree[0] != 'CIM':
            raise pywbem.CIMXMLParseError('root element is %s, not CIM' % tree[0])
        _cim, _attrs, message = parser.parse_cim(tree)
        _mname, mattrs, simple = message
        if simple[0] == 'MULTIREQ':
            raise RequestError(501, 'multiple-requests-unsupported', 'MULTIREQ is not supported')
        if simple[0] != 'SIMPLEREQ':
            raise pywbem.CIMXMLParseError('MESSAGE contains %s, not SIMPLEREQ' % simple[0])
        call = simple[2]
        if call[0] == 'IMETHODCALL':
            _name, attrs, namespace, params = call
            request = Request('intrinsic', attrs['NAME'], _namespace_of(namespace), params, mattrs['ID'])
        elif call[0] == 'METHODCALL':
            _name, attrs, target, params = call
            request = Request('extrinsic', attrs['NAME'], _namespace_of(target.namespace), params, mattrs['ID'],
                              target=target)
        else:
            raise pywbem.CIMXMLParseError('SIMPLEREQ contains %s' % call[0])
    except pywbem.CIMVersionError as exc:
        raise RequestError(501, 'unsupported-cim-version', str(exc))
    except pywbem.DTDVersionError as exc:
        raise RequestError(501, 'unsupported-dtd-version', str(exc))
    except pywbem.ProtocolVersionError as exc:
        raise RequestError(501, 'unsupported-protocol-version', str(exc))
    except (pywbem.ParseError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise RequestError(400, 'request-not-valid', 'invalid CIM-XML request: %s' % str(exc).split('\n', 1)[0])
    if headers is not None:
        _check_headers(request, headers)
    return request


def _check_headers(request, headers):
    method = headers.get('cimmethod')
    if method is None or unquote(method).lower() != request.name.lower():
        raise RequestError(400, 'header-mismatch', 'CIMMethod header %r does not match the request (%s)'
                           % (method, request.name))
    cimobject = headers.get('cimobject')
    if cimobject is None:
        raise RequestError(400, 'header-mismatch', 'CIMObject header missing')
    obj_namespace = unquote(cimobject).split(':', 1)[0].strip('/')
    if obj_namespace.lower() != request.namespace.lower():
        raise RequestError(400, 'header-mismatch', 'CIMObject header %r does not match the namespace %s'
                           % (cimobject, request.namespace))


def _normalize_path(path, namespace):
    """Paths sent by clients: no host; references inside keybindings get the namespace."""
    path.host = None
    if path.namespace is None:
        path.namespace = namespace
    else:
        path.namespace = path.namespace.strip('/')
    if isinstance(path, CIMInstanceName):
        for key, value in path.keybindings.items():
            if isinstance(value, CIMInstanceName):
                _normalize_path(value, namespace)
                path.keybindings[key] = value
    return path


def _normalize_instance(instance, namespace):
    for prop in instance.properties.values():
        if prop.type == 'reference' and prop.value is not None:
            values = prop.value if prop.is_array else [prop.value]
            for value in values:
                if isinstance(value, CIMInstanceName):
                    _normalize_path(value, namespace)
    return instance


def _bad(name, kind, value):
    return CIMError(CIM_ERR_INVALID_PARAMETER, 'parameter %s: expected %s, got %r' % (name, kind, value))


def _convert_intrinsic(name, kind, value, namespace):
    # pylint: disable=too-many-return-statements
    if value is None:
        return None
    if kind == _BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().upper() in ('TRUE', 'FALSE'):
            return value.strip().upper() == 'TRUE'
        raise _bad(name, 'a boolean', value)
    if kind == _UINT32:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise _bad(name, 'an integer', value)
        if not 0 <= number <= 0xFFFFFFFF:
            raise _bad(name, 'a uint32', value)
        return Uint32(number)
    if kind in (_STRING, _CONTEXT):
        if not isinstance(value, str):
            raise _bad(name, 'a string', value)
        return value
    if kind == _CLASSNAME:
        if isinstance(value, CIMClassName):
            return value.classname
        raise _bad(name, 'a CLASSNAME', value)
    if kind == _INSTNAME:
        if isinstance(value, CIMInstanceName):
            return _normalize_path(value, namespace)
        raise _bad(name, 'an INSTANCENAME', value)
    if kind == _OBJNAME:
        if isinstance(value, (CIMInstanceName, CIMClassName)):
            return _normalize_path(value, namespace)
        raise _bad(name, 'an INSTANCENAME or CLASSNAME', value)
    if kind == _PROPLIST:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise _bad(name, 'a VALUE.ARRAY of property names', value)
    if kind == _INSTANCE:
        if isinstance(value, CIMInstance) and value.path is None:
            return _normalize_instance(value, namespace)
        raise _bad(name, 'an INSTANCE', value)
    if kind == _NAMEDINSTANCE:
        if isinstance(value, CIMInstance) and value.path is not None:
            _normalize_path(value.path, namespace)
            return _normalize_instance(value, namespace)
        raise _bad(name, 'a VALUE.NAMEDINSTANCE', value)
    if kind == _CLASS:
        if isinstance(value, CIMClass):
            return value
        raise _bad(name, 'a CLASS', value)
    if kind == _QUALDECL:
        if isinstance(value, CIMQualifierDeclaration):
            return value
        raise _bad(name, 'a QUALIFIER.DECLARATION', value)
    raise AssertionError(kind)


def check_intrinsic(request):
    """Type the IPARAMVALUEs of an intrinsic request (raises CIMError for bad parameters)."""
    canonical = _CANONICAL.get(request.name.lower())
    if canonical is None:
        if request.name.lower() in _UNSUPPORTED:
            raise CIMError(CIM_ERR_NOT_SUPPORTED, '%s is not supported' % request.name)
        raise CIMError(CIM_ERR_NOT_SUPPORTED, 'unknown intrinsic method %s' % request.name)
    spec = INTRINSIC[canonical]
    known = {name.lower(): name for name in spec['params']}
    params = {}
    for name, value in request.params:
        pname = known.get(name.lower())
        if pname is None:
            raise CIMError(CIM_ERR_INVALID_PARAMETER, 'unknown parameter %s of %s' % (name, canonical))
        if pname in params:
            raise CIMError(CIM_ERR_INVALID_PARAMETER, 'parameter %s given twice' % pname)
        params[pname] = _convert_intrinsic(pname, spec['params'][pname], value, request.namespace)
    for name in spec['required']:
        if params.get(name) is None:
            raise CIMError(CIM_ERR_INVALID_PARAMETER, 'missing required parameter %s of %s' % (name, canonical))
    request.params = params
    request.classname = _classname_of(params)
    return request


def _classname_of(params):
    for name in ('ClassName', 'InstanceName', 'ObjectName', 'NewInstance', 'ModifiedInstance', 'NewClass',
                 'ModifiedClass'):
        value = params.get(name)
        if isinstance(value, str):
            return value
        if value is not None and hasattr(value, 'classname'):
            return value.classname
    for name in ('Query', 'FilterQuery'):
        if params.get(name):
            try:
                return query_engine.select_classname(params[name])
            except query_engine.QueryError:
                return None
    return None


class Dispatcher(object):
    """Runs decoded requests on a FakedWBEMConnection, one at a time."""

    def __init__(self, conn, hostname):
        self.conn = conn
        self.hostname = hostname
        self.lock = threading.Lock()
        self.main = conn._mainprovider  # pylint: disable=protected-access
        self.dispatcher = conn._providerdispatcher  # pylint: disable=protected-access
        self.contexts = {}  # enumeration context -> class name, for the request log
        self._fql = None
        original_open_response = self.main._open_response  # pylint: disable=protected-access

        def open_response(namespace, objects, *args, **kwargs):
            if self._fql is not None:
                objects = [obj for obj in objects if self._matches(self._fql, obj)]
            return original_open_response(namespace, objects, *args, **kwargs)

        self.main._open_response = open_response  # pylint: disable=protected-access

    # -- helpers -------------------------------------------------------------------------

    def _is_subclass(self, namespace):
        store = self.conn.cimrepository.get_class_store(namespace)

        def is_subclass(classname, superclass):
            name = classname
            while name:
                if name.lower() == superclass.lower():
                    return True
                if not store.object_exists(name):
                    return False
                name = store.get(name, copy=False).superclass
            return False
        return is_subclass

    def _matches(self, fql, obj):
        condition, namespace = fql
        if isinstance(obj, CIMInstanceName):
            path = obj.copy()
            path.host = None
            obj = self.main.GetInstance(InstanceName=path)
        return query_engine.evaluate(condition, obj, self._is_subclass(namespace))

    def _parse_fql(self, params, namespace):
        query = params.get('FilterQuery')
        language = params.get('FilterQueryLanguage')
        if query is None:
            return None
        if language is None or language.upper() != query_engine.FILTER_QUERY_LANGUAGE:
            return None  # pywbem_mock rejects it with the right error
        try:
            return (query_engine.parse_filter(query), namespace)
        except query_engine.QueryError as exc:
            raise CIMError(CIM_ERR_INVALID_QUERY, 'invalid filter query: %s' % exc)

    def exec_query(self, namespace, language, text):
        if language is None or language.upper() not in query_engine.QUERY_LANGUAGES:
            raise CIMError(CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED, 'query language %r is not supported (supported: %s)'
                           % (language, ', '.join(query_engine.QUERY_LANGUAGES)))
        try:
            classname, properties, condition = query_engine.parse_select(text)
        except query_engine.QueryError as exc:
            raise CIMError(CIM_ERR_INVALID_QUERY, 'invalid query: %s' % exc)
        instances = self.main.EnumerateInstances(namespace=namespace, ClassName=classname, DeepInheritance=True,
                                                 LocalOnly=False, IncludeQualifiers=False, IncludeClassOrigin=False)
        is_subclass = self._is_subclass(namespace)
        result = []
        for instance in instances:
            if query_engine.evaluate(condition, instance, is_subclass):
                if properties is not None:
                    wanted = [p.lower() for p in properties]
                    for name in list(instance.properties.keys()):
                        if name.lower() not in wanted:
                            del instance.properties[name]
                result.append(instance)
        return classname, properties, result

    # -- operations ----------------------------------------------------------------------

    def run(self, request):
        """The result of the request (raises CIMError); the lock serializes repository access."""
        with self.lock:
            if request.kind == 'extrinsic':
                return self._invoke_method(request)
            return self._intrinsic(request)

    def _intrinsic(self, request):
        # pylint: disable=too-many-return-statements
        op = request.operation
        ns = request.namespace
        p = request.params
        main = self.main
        if op in ('PullInstancesWithPath', 'PullInstancePaths', 'PullInstances', 'CloseEnumeration'):
            request.classname = self.contexts.get(p['EnumerationContext'])
        if op == 'GetClass':
            return main.GetClass(ns, p['ClassName'], LocalOnly=p.get('LocalOnly'),
                                 IncludeQualifiers=p.get('IncludeQualifiers'),
                                 IncludeClassOrigin=p.get('IncludeClassOrigin'), PropertyList=p.get('PropertyList'))
        if op == 'EnumerateClasses':
            return main.EnumerateClasses(ns, ClassName=p.get('ClassName'), DeepInheritance=p.get('DeepInheritance'),
                                         LocalOnly=p.get('LocalOnly'), IncludeQualifiers=p.get('IncludeQualifiers'),
                                         IncludeClassOrigin=p.get('IncludeClassOrigin'))
        if op == 'EnumerateClassNames':
            return main.EnumerateClassNames(ns, ClassName=p.get('ClassName'), DeepInheritance=p.get('DeepInheritance'))
        if op == 'CreateClass':
            return main.CreateClass(ns, NewClass=p['NewClass'])
        if op == 'ModifyClass':
            return main.ModifyClass(ns, ModifiedClass=p['ModifiedClass'])
        if op == 'DeleteClass':
            return main.DeleteClass(ns, ClassName=p['ClassName'])
        if op == 'GetInstance':
            return main.GetInstance(InstanceName=p['InstanceName'], LocalOnly=p.get('LocalOnly'),
                                    IncludeQualifiers=p.get('IncludeQualifiers'),
                                    IncludeClassOrigin=p.get('IncludeClassOrigin'), PropertyList=p.get('PropertyList'))
        if op == 'EnumerateInstances':
            return main.EnumerateInstances(ClassName=p['ClassName'], namespace=ns, LocalOnly=p.get('LocalOnly'),
                                           DeepInheritance=p.get('DeepInheritance'),
                                           IncludeQualifiers=p.get('IncludeQualifiers'),
                                           IncludeClassOrigin=p.get('IncludeClassOrigin'),
                                           PropertyList=p.get('PropertyList'))
        if op == 'EnumerateInstanceNames':
            return main.EnumerateInstanceNames(ClassName=p['ClassName'], namespace=ns)
        if op == 'CreateInstance':
            return self.dispatcher.CreateInstance(namespace=ns, NewInstance=p['NewInstance'])
        if op == 'ModifyInstance':
            return self.dispatcher.ModifyInstance(ModifiedInstance=p['ModifiedInstance'],
                                                  IncludeQualifiers=p.get('IncludeQualifiers'),
                                                  PropertyList=p.get('PropertyList'))
        if op == 'DeleteInstance':
            return self.dispatcher.DeleteInstance(InstanceName=p['InstanceName'])
        if op == 'ExecQuery':
            return self.exec_query(ns, p['QueryLanguage'], p['Query'])[2]
        if op in ('Associators', 'AssociatorNames', 'References', 'ReferenceNames'):
            return self._associations(op, ns, p)
        if op == 'GetQualifier':
            return main.GetQualifier(ns, p['QualifierName'])
        if op == 'SetQualifier':
            return main.SetQualifier(ns, p['QualifierDeclaration'])
        if op == 'DeleteQualifier':
            return main.DeleteQualifier(ns, p['QualifierName'])
        if op == 'EnumerateQualifiers':
            return main.EnumerateQualifiers(ns)
        if op == 'OpenQueryInstances':
            return self._open_query(request)
        if op.startswith('Open'):
            return self._open(request)
        if op in ('PullInstancesWithPath', 'PullInstancePaths', 'PullInstances'):
            result = getattr(main, op)(EnumerationContext=p['EnumerationContext'], MaxObjectCount=p['MaxObjectCount'])
            self._track_context(request, result[2])
            return result
        if op == 'CloseEnumeration':
            self.contexts.pop(p['EnumerationContext'], None)
            return main.CloseEnumeration(EnumerationContext=p['EnumerationContext'])
        raise CIMError(CIM_ERR_NOT_SUPPORTED, '%s is not supported' % op)

    def drop_unlisted(self, path, property_list, keep_keys=False):
        """Quirk ``modify_drops_unlisted``: keep only the properties in ``property_list`` of the
        instance at ``path``, as a broker does that stores what a ModifyInstance lists and
        nothing else. Unless ``keep_keys``, the keys go too: the instance is then stored under
        a path made of the listed key properties only, so GetInstance by ``path`` fails; with
        no key listed nothing could address it any more, and it is not stored at all."""
        with self.lock:
            path = path.copy()
            path.host = None
            store = self.conn.cimrepository.get_instance_store(path.namespace)
            if not store.object_exists(path):
                return
            instance = store.get(path)
            wanted = [name.lower() for name in property_list]
            keys = [name.lower() for name in path.keybindings]
            for name in list(instance.properties.keys()):
                if name.lower() in wanted or (keep_keys and name.lower() in keys):
                    continue
                del instance.properties[name]
            if keep_keys:
                store.update(path, instance)
                return
            store.delete(path)
            new_path = path.copy()
            new_path.keybindings = dict((name, value) for name, value in path.keybindings.items()
                                        if name.lower() in wanted)
            instance.path = new_path
            if new_path.keybindings and not store.object_exists(new_path):
                store.create(new_path, instance)

    def _associations(self, op, ns, p):
        target = p['ObjectName']
        if isinstance(target, CIMClassName):
            target = target.classname
        kwargs = {'namespace': ns, 'ObjectName': target, 'ResultClass': p.get('ResultClass'), 'Role': p.get('Role')}
        if op.startswith('Associator'):
            kwargs.update(AssocClass=p.get('AssocClass'), ResultRole=p.get('ResultRole'))
        if not op.endswith('Names'):
            kwargs.update(IncludeQualifiers=p.get('IncludeQualifiers'), IncludeClassOrigin=p.get('IncludeClassOrigin'),
                          PropertyList=p.get('PropertyList'))
        return getattr(self.main, op)(**kwargs)

    def _track_context(self, request, context):
        if context:
            self.contexts[context] = request.classname
        elif request.params.get('EnumerationContext'):
            self.contexts.pop(request.params['EnumerationContext'], None)

    def _open(self, request):
        op = request.operation
        p = dict(request.params)
        fql = self._parse_fql(p, request.namespace)
        kwargs = dict(p, namespace=request.namespace)
        self._fql = fql
        try:
            result = getattr(self.main, op)(**kwargs)
        finally:
            self._fql = None
        self._track_context(request, result[2])
        return result

    def _open_query(self, request):
        p = request.params
        ns = request.namespace
        self.main._validate_open_params(None, None, p.get('OperationTimeout'))  # pylint: disable=protected-access
        classname, properties, instances = self.exec_query(ns, p['FilterQueryLanguage'], p['FilterQuery'])
        result_class = None
        if p.get('ReturnQueryResultClass'):
            result_class = self.main.GetClass(ns, classname, LocalOnly=False, IncludeQualifiers=False,
                                              IncludeClassOrigin=False, PropertyList=properties)
        for instance in instances:
            instance.path = None
        result = self.main._openquery_response(  # pylint: disable=protected-access
            ns, instances, 'PullInstances', p.get('OperationTimeout'), p.get('MaxObjectCount'),
            p.get('ContinueOnError'), result_class)
        self._track_context(request, result[2])
        return result

    def _invoke_method(self, request):
        target = _normalize_path(request.target.copy(), request.namespace)
        request.classname = target.classname
        method = None
        try:
            klass = self.main.GetClass(request.namespace, target.classname, LocalOnly=False, IncludeQualifiers=True)
            method = klass.methods.get(request.name)
        except CIMError:
            klass = None
        params = NocaseDict()
        for name, paramtype, value in request.params:
            decl = method.parameters.get(name) if method is not None else None
            params[name] = _typed_parameter(name, paramtype, value, decl, request.namespace)
        return_value, out_params = self.dispatcher.InvokeMethod(request.name, target, params)
        return {'method': method, 'return_value': return_value, 'out_params': out_params}


def _typed_parameter(name, paramtype, value, decl, namespace):
    """A CIMParameter from a decoded PARAMVALUE, typed from PARAMTYPE or the declaration."""
    cimtype = paramtype or (decl.type if decl is not None else None)
    embedded = None
    if decl is not None:
        name = decl.name
        embedded = decl.embedded_object
    items = value if isinstance(value, list) else [value]
    if any(isinstance(v, (CIMInstance, CIMClass)) for v in items):
        embedded = embedded or ('instance' if isinstance(items[0], CIMInstance) else 'object')
        cimtype = cimtype or 'string'
    elif any(isinstance(v, (CIMInstanceName, CIMClassName)) for v in items):
        cimtype = cimtype or 'reference'
        for item in items:
            if isinstance(item, (CIMInstanceName, CIMClassName)):
                _normalize_path(item, namespace)
    elif embedded is not None and value is not None:
        embedded = None  # an embedded object sent without the EmbeddedObject attribute
    if cimtype is None:
        cimtype = 'string'
    is_array = isinstance(value, list) if value is not None else (decl.is_array if decl is not None else False)
    try:
        if value is not None and cimtype != 'reference' and embedded is None:
            value = _unpack(value, cimtype)
        return CIMParameter(name, cimtype, value=value, is_array=is_array, embedded_object=embedded)
    except (ValueError, TypeError) as exc:
        raise CIMError(CIM_ERR_INVALID_PARAMETER, 'parameter %s: %s' % (name, exc))


def _unpack(value, cimtype):
    """CIM-XML VALUE text (or a list of them) as a typed value. Not pywbem.cimvalue(), which
    turns the string 'FALSE' into True."""
    if isinstance(value, list):
        return [_unpack(item, cimtype) for item in value]
    if not isinstance(value, str):
        return cimvalue(value, cimtype)
    try:
        return TupleParser().unpack_single_value(value, cimtype)
    except pywbem.CIMXMLParseError as exc:
        raise ValueError(str(exc))


# -- responses -------------------------------------------------------------------------------

def _instancepath(path, namespace, hostname):
    path = path.copy()
    path.host = hostname
    if path.namespace is None:
        path.namespace = namespace
    return path


def _instance_xml(instance):
    return instance.tocimxml(ignore_path=True)


_SCOPES = ('CLASS', 'ASSOCIATION', 'INDICATION', 'PROPERTY', 'REFERENCE', 'METHOD', 'PARAMETER')


def _qualifier_declaration_xml(decl):
    """DSP0201 SCOPE has no ANY attribute: Scope(any) is every scope set."""
    decl = decl.copy()
    scopes = {name.upper(): bool(value) for name, value in (decl.scopes or {}).items()}
    every = scopes.pop('ANY', False)
    decl.scopes = {name: every or scopes.get(name, False) for name in _SCOPES}
    return decl.tocimxml()


def _ireturn_children(op, result, namespace, hostname):
    # pylint: disable=too-many-return-statements
    if op == 'GetClass':
        return [result.tocimxml()]
    if op == 'EnumerateClasses':
        return [obj.tocimxml() for obj in result]
    if op == 'GetQualifier':
        return [_qualifier_declaration_xml(result)]
    if op == 'EnumerateQualifiers':
        return [_qualifier_declaration_xml(obj) for obj in result]
    if op == 'EnumerateClassNames':
        return [_cim_xml.CLASSNAME(name) for name in result]
    if op == 'GetInstance':
        return [_instance_xml(result)]
    if op == 'EnumerateInstances':
        return [_cim_xml.VALUE_NAMEDINSTANCE(inst.path.tocimxml(ignore_host=True, ignore_namespace=True),
                                             _instance_xml(inst)) for inst in result]
    if op == 'EnumerateInstanceNames':
        return [path.tocimxml(ignore_host=True, ignore_namespace=True) for path in result]
    if op == 'CreateInstance':
        return [result.tocimxml(ignore_host=True, ignore_namespace=True)]
    if op in ('ExecQuery', 'Associators', 'References'):
        children = []
        for obj in result:
            if isinstance(obj, tuple):  # class-level: (CIMClassName, CIMClass)
                children.append(_cim_xml.VALUE_OBJECTWITHPATH(
                    _instancepath(obj[0], namespace, hostname).tocimxml(), obj[1].tocimxml()))
            else:
                children.append(_cim_xml.VALUE_OBJECTWITHPATH(
                    _instancepath(obj.path, namespace, hostname).tocimxml(), _instance_xml(obj)))
        return children
    if op in ('AssociatorNames', 'ReferenceNames'):
        return [_cim_xml.OBJECTPATH(_instancepath(path, namespace, hostname).tocimxml()) for path in result]
    raise AssertionError(op)


def _pull_children(op, objects, namespace, hostname):
    if op in ('OpenEnumerateInstancePaths', 'OpenReferenceInstancePaths', 'OpenAssociatorInstancePaths',
              'PullInstancePaths'):
        return [_instancepath(path, namespace, hostname).tocimxml() for path in objects]
    if op in ('OpenQueryInstances', 'PullInstances'):
        return [_instance_xml(inst) for inst in objects]
    return [_cim_xml.VALUE_INSTANCEWITHPATH(_instancepath(inst.path, namespace, hostname).tocimxml(),
                                            _instance_xml(inst)) for inst in objects]


def _out_parameter(param, method):
    decl = method.parameters.get(param.name) if method is not None else None
    if decl is not None:
        param = CIMParameter(decl.name, param.type or decl.type, value=param.value,
                             embedded_object=param.embedded_object or decl.embedded_object,
                             is_array=decl.is_array if param.value is None else param.is_array)
    value = param.value
    if param.embedded_object and value is not None:
        strip = [_strip_path(v) for v in value] if isinstance(value, list) else _strip_path(value)
        param = CIMParameter(param.name, param.type, value=strip, embedded_object=param.embedded_object,
                             is_array=param.is_array)
    return param.tocimxml(as_value=True)


def _strip_path(obj):
    if isinstance(obj, CIMInstance) and obj.path is not None:
        obj = obj.copy()
        obj.path = None
    return obj


def _method_children(result):
    method = result['method']
    return_type = method.return_type if method is not None else 'uint32'
    value = result['return_value']
    value_xml = None
    if value is not None:
        value_xml = _cim_xml.VALUE(atomic_to_cim_xml(cimvalue(value, return_type)))
    children = [_cim_xml.RETURNVALUE(value_xml, param_type=return_type)]
    out = result['out_params']
    if isinstance(out, dict) or hasattr(out, 'items'):
        items = []
        for name, val in out.items():
            if isinstance(val, CIMParameter):
                items.append(val)
            else:
                decl = method.parameters.get(name) if method is not None else None
                items.append(CIMParameter(name, decl.type if decl is not None else pywbem.cimtype(val), value=val,
                                          is_array=decl.is_array if decl is not None else isinstance(val, list)))
        out = items
    children.extend(_out_parameter(param, method) for param in out or [])
    return children


_EMPTY_ELEMENT = re.compile(r'<([A-Za-z][A-Za-z0-9_.]*)([^<>]*?)/>')


def _xml_document(response_element, message_id):
    cim = _cim_xml.CIM(_cim_xml.MESSAGE(_cim_xml.SIMPLERSP(response_element), message_id, '1.0'), '2.0', '2.0')
    return '<?xml version="1.0" encoding="utf-8" ?>\n' + cim.toxml()


def expand_empty_elements(text):
    """``<X a="1"/>`` -> ``<X a="1"></X>``, the way OpenPegasus and SFCB write empty elements
    (sblim-wbemcli cannot parse the short form). Attribute values never contain a raw ``>``:
    minidom escapes it."""
    return _EMPTY_ELEMENT.sub(r'<\1\2></\1>', text)


_NS_PATH = re.compile(r'<LOCALNAMESPACEPATH>((?:\s*<NAMESPACE NAME="[^"]*"\s*/>)+)\s*</LOCALNAMESPACEPATH>')


def single_namespace_element(text):
    """Rewrite every LOCALNAMESPACEPATH to one NAMESPACE element holding the whole path."""
    def join(match):
        names = re.findall(r'NAME="([^"]*)"', match.group(1))
        return '<LOCALNAMESPACEPATH><NAMESPACE NAME="%s"/></LOCALNAMESPACEPATH>' % '/'.join(names)
    return _NS_PATH.sub(join, text)


def encode_response(request, result=None, error=None, hostname='localhost', empty_ireturnvalue=False,
                    omit_empty_ireturnvalue=False):
    """The CIM-XML response document (str) for ``request`` with its result or CIMError."""
    op = request.operation
    if request.kind == 'extrinsic':
        if error is not None:
            body = _cim_xml.ERROR(str(error.status_code), error.status_description)
        else:
            body = _method_children(result)
        return _xml_document(_cim_xml.METHODRESPONSE(request.name, body), request.message_id)
    if error is not None:
        children = _cim_xml.ERROR(str(error.status_code), error.status_description)
    elif op in VOID_OPERATIONS:
        children = [_cim_xml.IRETURNVALUE(None)] if empty_ireturnvalue else None
    elif op in PULL_OPERATIONS:
        objects, eos, context = result[0], result[1], result[2]
        children = [_cim_xml.IRETURNVALUE(_pull_children(op, objects, request.namespace, hostname))]
        if omit_empty_ireturnvalue and not objects:
            children = []
        children.append(_cim_xml.PARAMVALUE('EndOfSequence', _cim_xml.VALUE(str(eos).upper()), 'boolean'))
        children.append(_cim_xml.PARAMVALUE('EnumerationContext', _cim_xml.VALUE(context or ''), 'string'))
        if op == 'OpenQueryInstances' and len(result) > 3 and result[3] is not None:
            children.append(_cim_xml.PARAMVALUE('QueryResultClass', result[3].tocimxml()))
    else:
        values = _ireturn_children(op, result, request.namespace, hostname)
        children = [] if (omit_empty_ireturnvalue and not values) else [_cim_xml.IRETURNVALUE(values)]
    return _xml_document(_cim_xml.IMETHODRESPONSE(request.name, children), request.message_id)


def upper_parameter_qualifiers(result):
    """Quirk ``upper_parameter_qualifiers``: parameter qualifier names in upper case (``IN``,
    ``OUT``), as some brokers return them; ``result`` is a class or a list of classes."""
    for klass in result if isinstance(result, list) else [result]:
        for method in klass.methods.values():
            for param in method.parameters.values():
                renamed = []
                for qualifier in param.qualifiers.values():
                    qualifier = qualifier.copy()
                    qualifier.name = qualifier.name.upper()
                    renamed.append(qualifier)
                param.qualifiers = renamed
    return result


_ISARRAY = re.compile(r'(<QUALIFIER\.DECLARATION\b[^>]*?)\s+ISARRAY="[^"]*"')


def qualifier_no_isarray(text):
    """Quirk ``qualifier_no_isarray``: QUALIFIER.DECLARATION elements without ISARRAY."""
    return _ISARRAY.sub(r'\1', text)


def internal_error(exc):
    """The CIMError a non-CIM exception of pywbem_mock becomes."""
    if isinstance(exc, (ValueError, TypeError)):
        return CIMError(CIM_ERR_INVALID_PARAMETER, '%s: %s' % (type(exc).__name__, exc))
    return CIMError(CIM_ERR_FAILED, 'internal error: %s: %s' % (type(exc).__name__, exc))
