# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM objects to and from plain, JSON-friendly dicts (the format every wbem module returns).

The format is documented for users in docs/docsite/rst/guide_wbem.rst ("WBEM client");
in short:

Values
    string, char16 -> ``str``; boolean -> ``bool``; uint*/sint* -> ``int``; real32/64 ->
    ``float``; datetime -> the CIM datetime string (``20240131123000.000000+060`` or the
    interval ``00000001020304.000000:000``); reference -> a *path dict*; embedded instance
    or class -> an *instance dict* / *class dict*; arrays -> lists; NULL -> ``None``.

Type descriptors (strings)
    the CIM type name (``uint32``, ``string``, ``datetime``, ``reference`` ...), with ``[]``
    appended for arrays (``string[]``); embedded objects are ``instance``/``object`` (and
    ``instance[]``/``object[]``): CIM type string with the EmbeddedObject qualifier.

Instance path (path dict)
    ``{'classname', 'namespace', 'host', 'keybindings': {name: value}, 'uri'}`` where ``uri``
    is the WBEM URI (DSP0207, as pywbem's ``to_wbem_uri()``), e.g.
    ``//srv:5989/root/cimv2:CIM_Foo.Id=3,Name="a"``; reference keys are nested path dicts.

Instance (instance dict)
    ``{'classname', 'path': path dict or None, 'properties': {name: value},
    'property_types': {name: type descriptor}}`` plus ``'qualifiers'`` when asked for.

Class, class path, qualifier declaration: see the ``*_to_dict`` functions.

Reading back (``*_from_dict``) needs the CIM types: they come from a :class:`CIMClass` when
one is given (the declarations of its properties), else from ``property_types``, else they
are inferred from the JSON value (``str`` -> string, ``bool`` -> boolean, a datetime-shaped
string stays a string). An integer or float without a declared type is an error, because
its CIM type cannot be guessed.
"""

from .cim_obj import (CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMMethod,
                      CIMParameter, CIMProperty, CIMQualifier, CIMQualifierDeclaration)
from .cim_types import ALL_CIMTYPES, CIMDateTime, Char16, INTEGER_TYPES, REAL_TYPES, cimtype
from .exceptions import WBEMTypeError, WBEMValueError
from .nocasedict import NocaseDict

__all__ = ['value_to_json', 'value_from_json', 'type_descriptor', 'parse_type_descriptor',
           'path_to_dict', 'path_from_dict', 'classname_to_dict', 'classname_from_dict',
           'instance_to_dict', 'instance_from_dict', 'class_to_dict', 'class_from_dict',
           'qualifier_declaration_to_dict', 'qualifier_declaration_from_dict',
           'method_result_to_dict', 'to_dict']


# ---------------------------------------------------------------- types

def type_descriptor(type_, is_array=False, embedded_object=None):
    """``'uint32'``, ``'string[]'``, ``'instance'``, ``'object[]'`` ..."""
    base = embedded_object if embedded_object in ('instance', 'object') else type_
    return base + '[]' if is_array else base


def parse_type_descriptor(text):
    """``(cim type, is_array, embedded_object)`` of a type descriptor string."""
    if not isinstance(text, str):
        raise WBEMTypeError('A CIM type must be a string, not %s' % type(text).__name__)
    base = text.strip()
    is_array = base.endswith('[]')
    if is_array:
        base = base[:-2].strip()
    base = base.lower()
    if base in ('instance', 'object'):
        return 'string', is_array, base
    if base not in ALL_CIMTYPES:
        raise WBEMValueError('Unknown CIM type %r (expected one of %s, instance, object, each '
                             'optionally with [])' % (text, ', '.join(sorted(ALL_CIMTYPES))))
    return base, is_array, None


def _descriptor_of_value(value):
    """Type descriptor inferred from a Python CIM value (for method output parameters)."""
    if value is None:
        return None
    if isinstance(value, list):
        items = [item for item in value if item is not None]
        if not items:
            return None
        inner = _descriptor_of_value(items[0])
        return inner + '[]' if inner else None
    if isinstance(value, CIMInstance):
        return 'instance'
    if isinstance(value, CIMClass):
        return 'object'
    if isinstance(value, CIMClassName):
        return 'reference'
    try:
        return cimtype(value)
    except (WBEMTypeError, WBEMValueError):
        return None


# ---------------------------------------------------------------- values

def value_to_json(value):
    """The JSON-friendly form of a CIM value (see the module documentation)."""
    if value is None or isinstance(value, (bool, str)):
        return str(value) if isinstance(value, Char16) else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, CIMDateTime):
        return str(value)
    if isinstance(value, list):
        return [value_to_json(item) for item in value]
    if isinstance(value, CIMInstanceName):
        return path_to_dict(value)
    if isinstance(value, CIMClassName):
        return classname_to_dict(value)
    if isinstance(value, CIMInstance):
        return instance_to_dict(value)
    if isinstance(value, CIMClass):
        return class_to_dict(value)
    try:
        return str(CIMDateTime(value))
    except (WBEMTypeError, WBEMValueError):
        raise WBEMTypeError('Cannot convert %s to JSON' % type(value).__name__)


def value_from_json(value, descriptor):
    """The typed CIM value of a JSON value for a type descriptor (``'uint16[]'`` ...)."""
    type_, is_array, embedded = parse_type_descriptor(descriptor)
    if value is None:
        return None
    if is_array:
        if not isinstance(value, (list, tuple)):
            raise WBEMTypeError('A value of type %s must be a list' % descriptor)
        return [_scalar_from_json(item, type_, embedded) for item in value]
    if isinstance(value, (list, tuple)):
        raise WBEMTypeError('A value of type %s must not be a list' % descriptor)
    return _scalar_from_json(value, type_, embedded)


def _scalar_from_json(value, type_, embedded):
    if value is None:
        return None
    if embedded:
        if isinstance(value, (CIMInstance, CIMClass)):
            return value
        if not isinstance(value, dict):
            raise WBEMTypeError('An embedded %s must be a dict' % embedded)
        if embedded == 'object' and ('methods' in value or 'superclass' in value):
            return class_from_dict(value)
        return instance_from_dict(value)
    if type_ == 'reference':
        return path_from_dict(value)
    if type_ == 'boolean':
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ('true', 'false'):
            return value.strip().lower() == 'true'
        raise WBEMTypeError('A boolean value must be true or false, not %r' % (value,))
    if type_ in ('string', 'char16'):
        if not isinstance(value, str):
            raise WBEMTypeError('A %s value must be a string, not %s'
                                % (type_, type(value).__name__))
        if type_ == 'char16':
            if len(value) != 1:
                raise WBEMValueError('A char16 value must be one character, not %r' % (value,))
            return Char16(value)
        return value
    if type_ in INTEGER_TYPES:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise WBEMTypeError('A %s value must be an integer, not %r' % (type_, value))
        if isinstance(value, str):
            try:
                value = int(value.strip(), 0)
            except ValueError:
                raise WBEMValueError('A %s value must be an integer, not %r' % (type_, value))
        return INTEGER_TYPES[type_](int(value))
    if type_ in REAL_TYPES:
        if isinstance(value, bool):
            raise WBEMTypeError('A %s value must be a number, not %r' % (type_, value))
        try:
            return REAL_TYPES[type_](float(value))
        except (TypeError, ValueError):
            raise WBEMValueError('A %s value must be a number, not %r' % (type_, value))
    if type_ == 'datetime':
        return CIMDateTime(value)
    raise WBEMValueError('Unknown CIM type %r' % (type_,))


def _infer_descriptor(name, value):
    if isinstance(value, (list, tuple)):
        items = [item for item in value if item is not None]
        if not items:
            return 'string[]'
        inner = _infer_descriptor(name, items[0])
        if inner.endswith('[]'):
            raise WBEMValueError('Property %r: nested lists are not CIM values' % (name,))
        return inner + '[]'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, dict):
        if 'keybindings' in value:
            return 'reference'
        return 'instance'
    if isinstance(value, (CIMInstanceName,)):
        return 'reference'
    if isinstance(value, CIMDateTime):
        return 'datetime'
    raise WBEMValueError('The CIM type of property %r cannot be inferred from %r; give it '
                         'in property_types (e.g. uint32) or use the class declaration'
                         % (name, value))


# ---------------------------------------------------------------- paths

def path_to_dict(path):
    """The path dict of a :class:`CIMInstanceName`."""
    keys = {}
    for key, value in path.keybindings.items():
        keys['' if key is None else key] = value_to_json(value)
    return {'classname': path.classname, 'namespace': path.namespace, 'host': path.host,
            'keybindings': keys, 'uri': path.to_wbem_uri()}


def path_from_dict(data, namespace=None):
    """A :class:`CIMInstanceName` from a path dict or a WBEM URI string.

    Keybinding values keep their JSON type (numbers are sent untyped, which DSP0201 allows);
    nested dicts become reference keys. ``namespace`` fills in a missing namespace.
    """
    if isinstance(data, CIMInstanceName):
        path = data.copy()
    elif isinstance(data, str):
        path = CIMInstanceName.from_wbem_uri(data)
    elif isinstance(data, dict):
        if 'keybindings' not in data and data.get('uri'):
            path = CIMInstanceName.from_wbem_uri(data['uri'])
        else:
            if not data.get('classname'):
                raise WBEMValueError('An instance path needs a classname')
            keys = NocaseDict()
            for key, value in (data.get('keybindings') or {}).items():
                if isinstance(value, dict):
                    value = path_from_dict(value)
                elif isinstance(value, list):
                    raise WBEMTypeError('Keybinding %r cannot be a list' % (key,))
                keys[key] = value
            path = CIMInstanceName(data['classname'], keybindings=keys,
                                   namespace=data.get('namespace'), host=data.get('host'))
    else:
        raise WBEMTypeError('An instance path must be a dict or a WBEM URI string, not %s'
                            % type(data).__name__)
    if path.namespace is None and namespace is not None:
        path.namespace = namespace
    return path


def classname_to_dict(path):
    """``{'classname', 'namespace', 'host', 'uri'}`` of a :class:`CIMClassName`."""
    return {'classname': path.classname, 'namespace': path.namespace, 'host': path.host,
            'uri': path.to_wbem_uri()}


def classname_from_dict(data, namespace=None):
    """A :class:`CIMClassName` from a class path dict, a class name or a WBEM URI."""
    if isinstance(data, CIMClassName):
        path = data.copy()
    elif isinstance(data, str):
        path = CIMClassName.from_wbem_uri(data) if (':' in data or '/' in data) \
            else CIMClassName(data)
    elif isinstance(data, dict):
        if not data.get('classname') and data.get('uri'):
            path = CIMClassName.from_wbem_uri(data['uri'])
        else:
            path = CIMClassName(data.get('classname'), namespace=data.get('namespace'),
                                host=data.get('host'))
    else:
        raise WBEMTypeError('A class path must be a dict or a string, not %s'
                            % type(data).__name__)
    if path.namespace is None and namespace is not None:
        path.namespace = namespace
    return path


# ---------------------------------------------------------------- qualifiers

def _qualifiers_to_dict(qualifiers):
    return dict((name, value_to_json(qual.value)) for name, qual in qualifiers.items())


def _qualifier_details(qualifiers):
    return dict((name, {'type': type_descriptor(q.type, isinstance(q.value, list)),
                        'value': value_to_json(q.value), 'propagated': q.propagated,
                        'overridable': q.overridable, 'tosubclass': q.tosubclass,
                        'toinstance': q.toinstance, 'translatable': q.translatable})
                for name, q in qualifiers.items())


def _qualifiers_from_dict(data):
    quals = []
    for name, spec in (data or {}).items():
        if isinstance(spec, dict) and 'value' in spec and 'type' in spec:
            type_, _is_array, _emb = parse_type_descriptor(spec['type'])
            quals.append(CIMQualifier(name, value_from_json(spec['value'], spec['type']),
                                      type=type_, propagated=spec.get('propagated'),
                                      overridable=spec.get('overridable'),
                                      tosubclass=spec.get('tosubclass'),
                                      toinstance=spec.get('toinstance'),
                                      translatable=spec.get('translatable')))
        else:
            descriptor = _infer_descriptor(name, spec)
            type_, _is_array, _emb = parse_type_descriptor(descriptor)
            quals.append(CIMQualifier(name, value_from_json(spec, descriptor), type=type_))
    return quals


# ---------------------------------------------------------------- instances

def instance_to_dict(inst, include_qualifiers=False, property_list=None):
    """The instance dict of a :class:`CIMInstance`.

    ``property_list`` restricts the properties (case-insensitive names).
    """
    wanted = None if property_list is None else set(name.lower() for name in property_list)
    props = {}
    types = {}
    layout = getattr(inst, '_layout', None)
    if layout is not None and inst._props is None:  # pylint: disable=protected-access
        values = inst._values  # pylint: disable=protected-access
        for pos, name in enumerate(layout.names):
            if wanted is not None and name.lower() not in wanted:
                continue
            spec = layout.specs[pos]
            props[name] = value_to_json(values[pos])
            types[name] = type_descriptor(spec[0], spec[1], spec[6])
    else:
        for name, prop in inst.properties.items():
            if wanted is not None and name.lower() not in wanted:
                continue
            props[name] = value_to_json(prop.value)
            types[name] = type_descriptor(prop.type, prop.is_array, prop.embedded_object)
    result = {'classname': inst.classname,
              'path': path_to_dict(inst.path) if inst.path is not None else None,
              'properties': props, 'property_types': types}
    if include_qualifiers:
        result['qualifiers'] = _qualifiers_to_dict(inst.qualifiers)
    return result


def _declared_types(klass):
    types = NocaseDict()
    if klass is not None:
        for name, prop in klass.properties.items():
            types[name] = (type_descriptor(prop.type, prop.is_array, prop.embedded_object),
                           prop)
    return types


def instance_from_dict(data, klass=None, namespace=None):
    """A :class:`CIMInstance` from an instance dict (types: class, property_types, inferred).

    ``data`` needs ``classname`` (or takes the one of ``klass``) and ``properties``; ``path``
    is optional. With ``klass``, a property the class does not declare is an error.
    """
    if isinstance(data, CIMInstance):
        return data.copy()
    if not isinstance(data, dict):
        raise WBEMTypeError('An instance must be a dict, not %s' % type(data).__name__)
    classname = data.get('classname') or (klass.classname if klass is not None else None)
    if not classname:
        raise WBEMValueError('An instance needs a classname')
    declared = _declared_types(klass)
    given = NocaseDict(data.get('property_types') or {})
    props = []
    for name, value in (data.get('properties') or {}).items():
        decl = declared.get(name) if klass is not None else None
        if klass is not None and decl is None:
            raise WBEMValueError('Class %s has no property %r' % (klass.classname, name))
        if decl is not None:
            descriptor, declaration = decl
            name = declaration.name
            reference_class = declaration.reference_class
        else:
            descriptor = given.get(name) or _infer_descriptor(name, value)
            reference_class = None
        type_, is_array, embedded = parse_type_descriptor(descriptor)
        props.append(CIMProperty(name, value_from_json(value, descriptor), type=type_,
                                 is_array=is_array, embedded_object=embedded,
                                 reference_class=reference_class))
    path = data.get('path')
    path = path_from_dict(path, namespace=namespace) if path else None
    inst = CIMInstance(classname, properties=props, path=path,
                       qualifiers=_qualifiers_from_dict(data.get('qualifiers')))
    return inst


# ---------------------------------------------------------------- classes

def _property_decl_to_dict(prop):
    return {'type': type_descriptor(prop.type, prop.is_array, prop.embedded_object),
            'default': value_to_json(prop.value), 'reference_class': prop.reference_class,
            'array_size': prop.array_size, 'class_origin': prop.class_origin,
            'propagated': prop.propagated, 'qualifiers': _qualifiers_to_dict(prop.qualifiers)}


def _parameter_to_dict(param):
    return {'type': type_descriptor(param.type, param.is_array, param.embedded_object),
            'reference_class': param.reference_class, 'array_size': param.array_size,
            'qualifiers': _qualifiers_to_dict(param.qualifiers)}


def _method_to_dict(method):
    return {'return_type': method.return_type, 'class_origin': method.class_origin,
            'propagated': method.propagated,
            'parameters': dict((name, _parameter_to_dict(param))
                               for name, param in method.parameters.items()),
            'qualifiers': _qualifiers_to_dict(method.qualifiers)}


def class_to_dict(klass, qualifier_details=False):
    """``{'classname', 'superclass', 'path', 'qualifiers', 'properties', 'methods'}``.

    ``properties``: ``{name: {'type', 'default', 'reference_class', 'array_size',
    'class_origin', 'propagated', 'qualifiers'}}``; ``methods``: ``{name: {'return_type',
    'parameters': {name: {'type', 'reference_class', 'array_size', 'qualifiers'}},
    'class_origin', 'propagated', 'qualifiers'}}``; qualifiers are ``{name: value}`` (with
    ``qualifier_details`` the class qualifiers are ``{name: {type, value, flavors...}}``).
    """
    return {'classname': klass.classname, 'superclass': klass.superclass,
            'path': classname_to_dict(klass.path) if klass.path is not None else None,
            'qualifiers': (_qualifier_details(klass.qualifiers) if qualifier_details
                           else _qualifiers_to_dict(klass.qualifiers)),
            'properties': dict((name, _property_decl_to_dict(prop))
                               for name, prop in klass.properties.items()),
            'methods': dict((name, _method_to_dict(meth))
                            for name, meth in klass.methods.items())}


def class_from_dict(data):
    """A :class:`CIMClass` from a class dict (the format of :func:`class_to_dict`)."""
    if isinstance(data, CIMClass):
        return data.copy()
    if not isinstance(data, dict) or not data.get('classname'):
        raise WBEMValueError('A class must be a dict with a classname')
    props = []
    for name, spec in (data.get('properties') or {}).items():
        type_, is_array, embedded = parse_type_descriptor(spec.get('type', 'string'))
        props.append(CIMProperty(
            name, value_from_json(spec.get('default'), spec.get('type', 'string')), type=type_,
            is_array=is_array, embedded_object=embedded,
            reference_class=spec.get('reference_class'), array_size=spec.get('array_size'),
            class_origin=spec.get('class_origin'), propagated=spec.get('propagated'),
            qualifiers=_qualifiers_from_dict(spec.get('qualifiers'))))
    methods = []
    for name, spec in (data.get('methods') or {}).items():
        params = []
        for pname, pspec in (spec.get('parameters') or {}).items():
            ptype, is_array, embedded = parse_type_descriptor(pspec.get('type', 'string'))
            params.append(CIMParameter(pname, ptype, is_array=is_array,
                                       embedded_object=embedded,
                                       reference_class=pspec.get('reference_class'),
                                       array_size=pspec.get('array_size'),
                                       qualifiers=_qualifiers_from_dict(pspec.get('qualifiers'))))
        methods.append(CIMMethod(name, return_type=spec.get('return_type', 'uint32'),
                                 parameters=params, class_origin=spec.get('class_origin'),
                                 propagated=spec.get('propagated'),
                                 qualifiers=_qualifiers_from_dict(spec.get('qualifiers'))))
    path = data.get('path')
    return CIMClass(data['classname'], superclass=data.get('superclass'), properties=props,
                    methods=methods, qualifiers=_qualifiers_from_dict(data.get('qualifiers')),
                    path=classname_from_dict(path) if path else None)


# ---------------------------------------------------------------- qualifier declarations

_FLAVORS = ('overridable', 'tosubclass', 'toinstance', 'translatable')


def qualifier_declaration_to_dict(decl):
    """``{'name', 'type', 'value', 'array_size', 'scopes': [...], 'overridable',
    'tosubclass', 'toinstance', 'translatable'}`` (scopes: the names that are true)."""
    result = {'name': decl.name, 'type': type_descriptor(decl.type, decl.is_array),
              'value': value_to_json(decl.value), 'array_size': decl.array_size,
              'scopes': sorted(name.upper() for name, on in decl.scopes.items() if on)}
    for flavor in _FLAVORS:
        result[flavor] = getattr(decl, flavor)
    return result


def qualifier_declaration_from_dict(data):
    """A :class:`CIMQualifierDeclaration` from the dict of :func:`qualifier_declaration_to_dict`."""
    if not isinstance(data, dict) or not data.get('name') or not data.get('type'):
        raise WBEMValueError('A qualifier declaration needs a name and a type')
    type_, is_array, _embedded = parse_type_descriptor(data['type'])
    scopes = dict((name.upper(), True) for name in data.get('scopes') or [])
    return CIMQualifierDeclaration(
        data['name'], type_, value=value_from_json(data.get('value'), data['type']),
        is_array=is_array, array_size=data.get('array_size'), scopes=scopes,
        **dict((flavor, data.get(flavor)) for flavor in _FLAVORS))


# ---------------------------------------------------------------- results

def method_result_to_dict(result):
    """``{'return_value', 'return_type', 'out_params', 'out_param_types'}`` of InvokeMethod."""
    return_value, out = result
    return {'return_value': value_to_json(return_value),
            'return_type': _descriptor_of_value(return_value),
            'out_params': dict((name, value_to_json(value)) for name, value in out.items()),
            'out_param_types': dict((name, _descriptor_of_value(value))
                                    for name, value in out.items())}


def to_dict(obj):
    """Any CIM object (or list of them, or pull result) in its dict form."""
    if isinstance(obj, CIMInstance):
        return instance_to_dict(obj)
    if isinstance(obj, CIMInstanceName):
        return path_to_dict(obj)
    if isinstance(obj, CIMClass):
        return class_to_dict(obj)
    if isinstance(obj, CIMClassName):
        return classname_to_dict(obj)
    if isinstance(obj, CIMQualifierDeclaration):
        return qualifier_declaration_to_dict(obj)
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], CIMClassName):
        return class_to_dict(obj[1])
    if isinstance(obj, (list, tuple)):
        return [to_dict(item) for item in obj]
    return value_to_json(obj)
