# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Class definitions drive the typing of what users write in YAML, and the comparisons.

A :class:`ClassCache` reads each class at most once per module run (GetClass with the
qualifiers, so that keys and embedded objects are known). With the class:

- :func:`instance_path` builds the path of an instance from ``keys`` (every key property of
  the class, nothing else, values converted to the key types);
- :func:`typed_properties` converts ``{name: plain value}`` into typed :class:`CIMProperty`
  objects (``'5'`` or ``5`` for a uint16 becomes ``Uint16(5)``, a dict for a reference a
  path, a list for an array ...);
- :func:`typed_parameters` does the same for the input parameters of a method.

Mistakes are reported before anything is written, as :class:`WBEMValueError` /
:class:`WBEMTypeError` whose ``error_name`` is the CIM status that describes them:
``CIM_ERR_NO_SUCH_PROPERTY`` (the class has no such property), ``CIM_ERR_INVALID_PARAMETER``
(keys that are not the key properties of the class, unknown method parameters),
``CIM_ERR_TYPE_MISMATCH`` (a value that does not fit the declared type) and
``CIM_ERR_METHOD_NOT_FOUND``.

:func:`values_equal` compares typed CIM values the way CIM does (class and key names
case-insensitive, host names of references ignored, real32 with single precision).
"""

import math

from .cim_obj import CIMClassName, CIMInstance, CIMInstanceName, CIMParameter, CIMProperty
from .cim_types import CIMDateTime
from .convert import parse_type_descriptor, type_descriptor, value_from_json, value_to_json
from .exceptions import CIMError, WBEMTypeError, WBEMValueError
from .nocasedict import NocaseDict

NO_SUCH_PROPERTY = 'CIM_ERR_NO_SUCH_PROPERTY'
INVALID_PARAMETER = 'CIM_ERR_INVALID_PARAMETER'
TYPE_MISMATCH = 'CIM_ERR_TYPE_MISMATCH'
METHOD_NOT_FOUND = 'CIM_ERR_METHOD_NOT_FOUND'
CIM_ERR_NOT_FOUND = 6
CIM_ERR_INVALID_CLASS = 5


def is_not_found(exc):
    """True for the CIM statuses that mean "no such instance"."""
    return isinstance(exc, CIMError) and exc.status_code == CIM_ERR_NOT_FOUND


class ClassCache(object):
    """GetClass results of one module run, keyed by namespace and class name."""

    def __init__(self, conn):
        self.conn = conn
        self._classes = {}
        self._qualifiers = {}

    def get(self, classname, namespace=None):
        """The class (all properties and methods, with qualifiers); read once per run."""
        namespace = (namespace or self.conn.default_namespace).strip('/')
        key = (namespace.lower(), classname.lower())
        if key not in self._classes:
            self._classes[key] = self.conn.GetClass(
                classname, namespace=namespace, LocalOnly=False, IncludeQualifiers=True)
        return self._classes[key]

    def qualifier_declarations(self, namespace=None):
        """The qualifier declarations of a namespace (EnumerateQualifiers, once per run)."""
        namespace = (namespace or self.conn.default_namespace).strip('/')
        key = namespace.lower()
        if key not in self._qualifiers:
            decls = NocaseDict()
            for decl in self.conn.EnumerateQualifiers(namespace=namespace):
                decls[decl.name] = decl
            self._qualifiers[key] = decls
        return self._qualifiers[key]


# ---------------------------------------------------------------- declarations

def embedded_kind(decl):
    """``'instance'``/``'object'`` for embedded objects (attribute or qualifier), else None."""
    kind = getattr(decl, 'embedded_object', None)
    if kind:
        return kind
    qualifiers = getattr(decl, 'qualifiers', None) or {}
    if 'EmbeddedInstance' in qualifiers:
        return 'instance'
    embedded = qualifiers.get('EmbeddedObject')
    if embedded is not None and embedded.value:
        return 'object'
    return None


def descriptor(decl):
    """The type descriptor (``uint16[]``, ``instance``, ``reference`` ...) of a declaration."""
    return type_descriptor(decl.type, decl.is_array, embedded_kind(decl))


def is_key(prop):
    qualifier = prop.qualifiers.get('Key')
    return qualifier is not None and bool(qualifier.value)


def key_names(klass):
    """The names of the key properties of ``klass``, in class order."""
    return [name for name, prop in klass.properties.items() if is_key(prop)]


def property_declaration(klass, name):
    prop = klass.properties.get(name)
    if prop is None:
        raise WBEMValueError('Class %s has no property %r' % (klass.classname, name),
                             error_name=NO_SUCH_PROPERTY)
    return prop


_TRUE = ('true', 'yes', 'on', 'y', 't', '1')
_FALSE = ('false', 'no', 'off', 'n', 'f', '0')


def _yaml_boolean(value):
    """Ansible's spellings of booleans (``yes``, ``on``, ``1`` ...) for boolean values."""
    if isinstance(value, list):
        return [_yaml_boolean(item) for item in value]
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value


def coerce(value, decl, what):
    """``value`` (plain YAML/JSON) converted to the CIM type of ``decl``."""
    desc = descriptor(decl)
    if decl.type == 'boolean':
        value = _yaml_boolean(value)
    try:
        return value_from_json(value, desc)
    except (WBEMValueError, WBEMTypeError, ValueError, TypeError) as exc:
        raise WBEMTypeError('%s: %r is not a valid %s value (%s)' % (what, value, desc, exc),
                            error_name=TYPE_MISMATCH)


# ---------------------------------------------------------------- instances

def instance_path(klass, keys, namespace):
    """The :class:`CIMInstanceName` of the instance of ``klass`` with ``keys``."""
    if not isinstance(keys, dict) or not keys:
        raise WBEMValueError('keys must be a dictionary of the key properties of %s (%s)'
                             % (klass.classname, ', '.join(key_names(klass)) or 'none'),
                             error_name=INVALID_PARAMETER)
    expected = key_names(klass)
    bindings = NocaseDict()
    for name, value in keys.items():
        prop = klass.properties.get(name)
        if prop is None or not is_key(prop):
            raise WBEMValueError(
                '%r is not a key property of class %s; its keys are %s'
                % (name, klass.classname, ', '.join(expected) or 'none'),
                error_name=INVALID_PARAMETER)
        if value is None:
            raise WBEMValueError('key %s of %s must not be null' % (prop.name, klass.classname),
                                 error_name=INVALID_PARAMETER)
        bindings[prop.name] = coerce(value, prop, 'key %s' % prop.name)
    missing = [name for name in expected if name not in bindings]
    if missing:
        raise WBEMValueError('keys of class %s are missing: %s (an instance is identified by '
                             'all of %s)' % (klass.classname, ', '.join(missing),
                                             ', '.join(expected)),
                             error_name=INVALID_PARAMETER)
    ordered = NocaseDict()
    for name in expected:
        ordered[name] = bindings[name]
    return CIMInstanceName(klass.classname, keybindings=ordered, namespace=namespace)


def typed_property(klass, name, value):
    prop = property_declaration(klass, name)
    typed = coerce(value, prop, 'property %s' % prop.name)
    return CIMProperty(prop.name, typed, type=prop.type, is_array=prop.is_array,
                       embedded_object=embedded_kind(prop),
                       reference_class=prop.reference_class)


def typed_properties(klass, properties):
    """``NocaseDict`` name -> typed :class:`CIMProperty` for ``{name: plain value}``."""
    if properties is None:
        return NocaseDict()
    if not isinstance(properties, dict):
        raise WBEMTypeError('properties must be a dictionary, not %s'
                            % type(properties).__name__, error_name=INVALID_PARAMETER)
    result = NocaseDict()
    for name, value in properties.items():
        prop = typed_property(klass, name, value)
        result[prop.name] = prop
    return result


def key_property(klass, name, value):
    """The key as a property of a new instance (CreateInstance sends the keys as properties)."""
    prop = klass.properties[name]
    return CIMProperty(prop.name, value, type=prop.type, is_array=prop.is_array,
                       reference_class=prop.reference_class)


# ---------------------------------------------------------------- methods

def method_declaration(klass, name):
    method = klass.methods.get(name)
    if method is None:
        raise WBEMValueError('Class %s has no method %r (methods: %s)'
                             % (klass.classname, name,
                                ', '.join(klass.methods.keys()) or 'none'),
                             error_name=METHOD_NOT_FOUND)
    return method


def _is_input(param):
    qualifier = param.qualifiers.get('In')
    return qualifier is None or bool(qualifier.value)


def typed_parameters(method, params, types=None):
    """Input parameters of ``method`` as typed :class:`CIMParameter` objects.

    ``types`` ({name: type descriptor}) overrides the declaration (for servers that return
    classes without parameter types).
    """
    result = []
    types = NocaseDict(types or {})
    for name, value in (params or {}).items():
        decl = method.parameters.get(name)
        if decl is None and name not in types:
            inputs = [p.name for p in method.parameters.values() if _is_input(p)]
            raise WBEMValueError('Method %s has no parameter %r (input parameters: %s)'
                                 % (method.name, name, ', '.join(inputs) or 'none'),
                                 error_name=INVALID_PARAMETER)
        if decl is not None and not _is_input(decl):
            raise WBEMValueError('Parameter %s of method %s is an output parameter'
                                 % (decl.name, method.name), error_name=INVALID_PARAMETER)
        if name in types:
            desc = types[name]
            try:
                typed = value_from_json(value, desc)
                type_, is_array, embedded = parse_type_descriptor(desc)
            except (WBEMValueError, WBEMTypeError) as exc:
                raise WBEMTypeError('parameter %s: %r is not a valid %s value (%s)'
                                    % (name, value, desc, exc), error_name=TYPE_MISMATCH)
            pname = decl.name if decl is not None else name
            reference_class = decl.reference_class if decl is not None else None
        else:
            typed = coerce(value, decl, 'parameter %s' % decl.name)
            type_, is_array, embedded = decl.type, decl.is_array, embedded_kind(decl)
            pname, reference_class = decl.name, decl.reference_class
        result.append(CIMParameter(pname, type_, value=typed, is_array=is_array,
                                   embedded_object=embedded, reference_class=reference_class))
    return result


# ---------------------------------------------------------------- comparison

def _norm_namespace(namespace):
    return namespace.strip('/').lower() if namespace else None


def paths_equal(one, two):
    """Instance paths equal as CIM defines it; host ignored, namespace only if both have one."""
    if not isinstance(one, CIMInstanceName) or not isinstance(two, CIMInstanceName):
        return False
    if one.classname.lower() != two.classname.lower():
        return False
    ns1, ns2 = _norm_namespace(one.namespace), _norm_namespace(two.namespace)
    if ns1 and ns2 and ns1 != ns2:
        return False
    keys1, keys2 = one.keybindings, two.keybindings
    if len(keys1) != len(keys2):
        return False
    for name, value in keys1.items():
        if name not in keys2:
            return False
        other = keys2[name]
        if isinstance(value, CIMInstanceName) or isinstance(other, CIMInstanceName):
            if not paths_equal(value, other):
                return False
        elif not _key_values_equal(value, other):
            return False
    return True


def _key_values_equal(one, two):
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two or (isinstance(one, bool) and isinstance(two, bool) and one == two)
    if isinstance(one, (int, float)) and isinstance(two, str) or \
            isinstance(two, (int, float)) and isinstance(one, str):
        return str(one) == str(two)
    return one == two


def _instances_equal(one, two):
    if one.classname.lower() != two.classname.lower():
        return False
    props1 = dict((n.lower(), p.value) for n, p in one.properties.items() if p.value is not None)
    props2 = dict((n.lower(), p.value) for n, p in two.properties.items() if p.value is not None)
    if set(props1) != set(props2):
        return False
    return all(values_equal(props1[name], props2[name]) for name in props1)


def values_equal(one, two, cim_type=None):
    """Equality of two typed CIM values (scalars or arrays)."""
    if one is None or two is None:
        return one is None and two is None
    if isinstance(one, list) or isinstance(two, list):
        if not (isinstance(one, list) and isinstance(two, list)) or len(one) != len(two):
            return False
        return all(values_equal(a, b, cim_type) for a, b in zip(one, two))
    if isinstance(one, CIMInstanceName) or isinstance(two, CIMInstanceName):
        return paths_equal(one, two)
    if isinstance(one, CIMClassName) or isinstance(two, CIMClassName):
        return isinstance(one, CIMClassName) and isinstance(two, CIMClassName) and \
            one.classname.lower() == two.classname.lower()
    if isinstance(one, CIMInstance) or isinstance(two, CIMInstance):
        return isinstance(one, CIMInstance) and isinstance(two, CIMInstance) and \
            _instances_equal(one, two)
    if isinstance(one, CIMDateTime) or isinstance(two, CIMDateTime):
        try:
            one = one if isinstance(one, CIMDateTime) else CIMDateTime(one)
            two = two if isinstance(two, CIMDateTime) else CIMDateTime(two)
        except (WBEMValueError, WBEMTypeError, ValueError, TypeError):
            return False
        return one == two
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, float) or isinstance(two, float):
        single = cim_type == 'real32' or getattr(one, 'cimtype', None) == 'real32' or \
            getattr(two, 'cimtype', None) == 'real32'
        try:
            one, two = float(one), float(two)
        except (TypeError, ValueError):
            return False
        if math.isnan(one) or math.isnan(two):
            return math.isnan(one) and math.isnan(two)
        return math.isclose(one, two, rel_tol=1e-6 if single else 1e-15, abs_tol=0.0)
    return one == two


def json_value(value):
    """The plain form of a typed value for results and diffs."""
    return value_to_json(value)
