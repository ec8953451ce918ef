# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIM object model: instance and class paths, instances, classes and their parts.

The classes, their constructor arguments and attributes carry pywbem's names, so that code
written for pywbem reads the same. Names (class, property, qualifier, keybinding, namespace,
host) compare case-insensitively, as DSP0004 requires; values compare exactly.

Instances that the parser builds keep their properties in a compact form (one value list per
instance plus a property layout shared by all instances of the same shape); the
:class:`CIMProperty` objects are created only when ``instance.properties`` is used, so that
reading ``instance['Name']`` over a large enumeration stays cheap in time and memory.
"""

import copy as copy_
import re

from .cim_types import (ALL_CIMTYPES, CIMDateTime, CIMFloat, CIMType, Char16, cimtype,
                        type_from_name)
from .exceptions import WBEMTypeError, WBEMValueError
from .nocasedict import NocaseDict

__all__ = ['CIMInstanceName', 'CIMInstance', 'CIMClassName', 'CIMClass', 'CIMProperty',
           'CIMMethod', 'CIMParameter', 'CIMQualifier', 'CIMQualifierDeclaration', 'cimvalue']


def _eq_name(one, two):
    if one is None or two is None:
        return one is two
    return one.lower() == two.lower()


def _eq_item(one, two):
    if one is None or two is None:
        return one is two
    return one == two


def _hash_name(name):
    return hash(name.lower() if name is not None else None)


def _text(value, what, allow_none=True):
    if value is None:
        if allow_none:
            return None
        raise WBEMValueError('%s must not be None' % what)
    if isinstance(value, bytes):
        return value.decode('utf-8')
    if not isinstance(value, str):
        raise WBEMTypeError('%s must be a string, not %s' % (what, type(value).__name__))
    return value


def _bool_or_none(value, what):  # pylint: disable=unused-argument
    """None stays None; anything else becomes a bool (pywbem's leniency: 'true' -> True)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ('true', 'false'):
            return low == 'true'
    return bool(value)


class _CIMObject(object):
    """Common behaviour: no ordering, copy(), ``!=``."""

    __slots__ = ()

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def _no_order(self, other):
        raise TypeError("ordering is not supported between '%s' and '%s'"
                        % (type(self).__name__, type(other).__name__))

    __lt__ = __le__ = __gt__ = __ge__ = _no_order

    def copy(self):
        """A copy that can be changed without changing this object."""
        return copy_.deepcopy(self)

    def _check_other(self, other):
        if not isinstance(other, type(self)):
            raise WBEMTypeError('other must be %s, but is: %s'
                                % (type(self).__name__, type(other).__name__))


# ---------------------------------------------------------------- values

def cimvalue(value, type):  # pylint: disable=redefined-builtin
    """Convert ``value`` to the Python representation of CIM type ``type`` (pywbem's rules).

    Strings for ``datetime`` become :class:`CIMDateTime`, ints become the sized int type,
    strings for ``reference`` are parsed as WBEM URIs; lists are converted item by item.
    """
    if value is None:
        return None
    if type is None:
        type = cimtype(value)
    if isinstance(value, (list, tuple)):
        return [cimvalue(item, type) for item in value]
    if type == 'boolean':
        return bool(value)
    if type in ('string', 'char16'):
        if isinstance(value, bytes):
            return value.decode('utf-8')
        if isinstance(value, (CIMInstance, CIMClass, str)):
            return value
        raise WBEMTypeError('Value %r has invalid type %s for CIM type %s'
                            % (value, builtin_name(value), type))
    if type == 'reference':
        if isinstance(value, (CIMInstanceName, CIMClassName)):
            return value
        if isinstance(value, str):
            return CIMInstanceName.from_wbem_uri(value)
        raise WBEMTypeError('Value %r has invalid type %s for a CIM reference'
                            % (value, builtin_name(value)))
    pytype = type_from_name(type)
    if isinstance(value, pytype):
        return value
    try:
        return pytype(value)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, (WBEMValueError, WBEMTypeError)):
            raise
        raise WBEMValueError('Value %r cannot be converted to CIM type %s: %s'
                             % (value, type, exc))


def builtin_name(value):
    return type(value).__name__


def _infer_is_array(value):
    return isinstance(value, (list, tuple)) if value is not None else False


def _check_array(is_array, value, kind, name):
    if value is not None:
        value_is_array = isinstance(value, (list, tuple))
        if is_array and not value_is_array:
            raise WBEMValueError('%s %r has is_array=True but a scalar value' % (kind, name))
        if not is_array and value_is_array:
            raise WBEMValueError('%s %r has is_array=False but an array value' % (kind, name))


def _infer_embedded_object(value):
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, CIMInstance):
        return 'instance'
    if isinstance(value, CIMClass):
        return 'object'
    return None


def _check_embedded_object(embedded_object, type_, value, kind, name):
    if embedded_object not in ('instance', 'object'):
        raise WBEMValueError("%s %r has an invalid embedded_object %r (must be 'instance' or "
                             "'object')" % (kind, name, embedded_object))
    if type_ != 'string':
        raise WBEMValueError("%s %r is an embedded object but has CIM type %r (must be "
                             "'string')" % (kind, name, type_))
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if item is not None and not isinstance(item, (CIMInstance, CIMClass)):
            raise WBEMValueError('%s %r is an embedded object but its value has type %s'
                                 % (kind, name, builtin_name(item)))


def _check_type(type_, kind, name):
    if isinstance(type_, bytes):
        type_ = type_.decode('utf-8')
    if type_ not in ALL_CIMTYPES:
        raise WBEMValueError('%s %r has an invalid CIM type: %r' % (kind, name, type_))
    return type_


def _named_dict(items, factory, what, allow_unnamed=False):
    """A NocaseDict from a dict, a NocaseDict, or an iterable of named objects or pairs."""
    result = NocaseDict()
    result.allow_unnamed_keys = allow_unnamed
    if not items:
        return result
    iterator = items.items() if hasattr(items, 'items') else items
    for item in iterator:
        if isinstance(item, tuple) and len(item) == 2:
            key, value = item
        elif hasattr(item, 'name') and not isinstance(item, str):
            key, value = item.name, item
        else:
            raise WBEMTypeError('Invalid item for %s: %r' % (what, item))
        result[key] = factory(key, value)
    return result


def _qualifier_item(key, value):
    if isinstance(value, CIMQualifier):
        if not _eq_name(value.name, key):
            raise WBEMValueError('Qualifier name %r differs from its key %r' % (value.name, key))
        return value
    return CIMQualifier(key, value)


def _property_item(key, value):
    if isinstance(value, CIMProperty):
        if not _eq_name(value.name, key):
            raise WBEMValueError('Property name %r differs from its key %r' % (value.name, key))
        return value
    return CIMProperty(key, value)


def _method_item(key, value):
    if not isinstance(value, CIMMethod):
        raise WBEMTypeError('Method %r must be a CIMMethod, not %s' % (key, builtin_name(value)))
    if not _eq_name(value.name, key):
        raise WBEMValueError('Method name %r differs from its key %r' % (value.name, key))
    return value


def _parameter_item(key, value):
    if not isinstance(value, CIMParameter):
        raise WBEMTypeError('Parameter %r must be a CIMParameter, not %s'
                            % (key, builtin_name(value)))
    return value


def _keybinding_item(key, value):
    if isinstance(value, CIMProperty):
        if key is not None and not _eq_name(value.name, key):
            raise WBEMValueError('Keybinding name %r differs from property name %r'
                                 % (key, value.name))
        if value.type == 'char16' and value.value is not None:
            return Char16(value.value)
        return value.value
    if value is None:
        raise WBEMValueError('Keybinding %r has the value None' % (key,))
    if isinstance(value, bytes):
        return value.decode('utf-8')
    if isinstance(value, (str, bool, int, float, CIMInstanceName, CIMType)):
        return value
    if isinstance(value, (CIMInstance, CIMClass)):
        raise WBEMTypeError('Keybinding %r cannot be an embedded object' % (key,))
    if isinstance(value, (list, tuple)):
        raise WBEMTypeError('Keybinding %r cannot be an array' % (key,))
    raise WBEMTypeError('Keybinding %r has an invalid type: %s' % (key, builtin_name(value)))


# ---------------------------------------------------------------- WBEM URIs

_URI_INSTANCE = re.compile(r'^(?:([\w\-]+):)?(?://([\w.:@\[\]\-]*))?(?:/|^/?)(\w+(?:/\w+)*)?'
                           r'(?::|^:?)(\w+)\.(.+)$', re.UNICODE)
_URI_CLASS = re.compile(r'^(?:([\w\-]+):)?(?://([\w.:@\[\]\-]*))?(?:/|^/?)(\w+(?:/\w+)*)?'
                        r'(?::|^:?)(\w+)$', re.UNICODE)
_KB_VALUE = r'''(?:[^,"'\\]+|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")'''
_URI_KEYBINDINGS = re.compile(r'^\w+=%s(?:,\w+=%s)*$' % (_KB_VALUE, _KB_VALUE), re.UNICODE)
_URI_KEYBINDING = re.compile(r'(\w+)=(%s)' % _KB_VALUE, re.UNICODE)
_INTEGER = re.compile(r'^(?:([+-]?[01]+)[bB]|([+-]?0[0-7]+)|([+-]?(?:0|[1-9][0-9]*))|'
                      r'([+-]?0[xX][0-9a-fA-F]+))$')
_REAL = re.compile(r'^[+-]?[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?$|^(?:[+-]?INF|NAN)$',
                   re.IGNORECASE)
_UNESCAPE = re.compile(r'\\(.)')


def _uri_value_to_cim(key, text):
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        value = _UNESCAPE.sub(r'\1', text[1:-1])
        try:
            return CIMInstanceName.from_wbem_uri(value)
        except WBEMValueError:
            pass
        try:
            return CIMDateTime(value)
        except WBEMValueError:
            return value
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        value = _UNESCAPE.sub(r'\1', text[1:-1])
        if len(value) != 1:
            raise WBEMValueError('WBEM URI has a char16 keybinding of wrong length: %s=%s'
                                 % (key, text))
        return value
    if text.lower() in ('true', 'false'):
        return text.lower() == 'true'
    match = _INTEGER.match(text)
    if match:
        if match.group(1):
            return int(match.group(1), 2)
        if match.group(2):
            return int(match.group(2), 8)
        if match.group(3):
            return int(match.group(3))
        return int(match.group(4), 16)
    if _REAL.match(text):
        return float(text)
    try:
        return CIMDateTime(text)
    except WBEMValueError:
        raise WBEMValueError('WBEM URI has an invalid keybinding value: %s=%s' % (key, text))


def _uri_prefix(host, namespace, fmt, case):
    parts = []
    if host is not None and fmt != 'cimobject':
        parts.append('//' + case(host))
    if host is not None or fmt not in ('cimobject', 'historical'):
        parts.append('/')
    if namespace is not None:
        parts.append(case(namespace))
    if namespace is not None or fmt != 'historical':
        parts.append(':')
    return parts


def _uri_case(fmt):
    if fmt not in ('standard', 'canonical', 'cimobject', 'historical'):
        raise WBEMValueError('Invalid WBEM URI format: %r' % (fmt,))
    return (lambda text: text.lower()) if fmt == 'canonical' else (lambda text: text)


def _uri_quote(text):
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


# ---------------------------------------------------------------- paths

class CIMClassName(_CIMObject):
    """A class path: class name, optional namespace and host."""

    __slots__ = ('_classname', '_namespace', '_host')

    def __init__(self, classname, host=None, namespace=None):
        self.classname = classname
        self.host = host
        self.namespace = namespace

    @property
    def classname(self):
        return self._classname

    @classname.setter
    def classname(self, value):
        self._classname = _text(value, 'classname', allow_none=False)

    @property
    def namespace(self):
        return self._namespace

    @namespace.setter
    def namespace(self, value):
        value = _text(value, 'namespace')
        self._namespace = value.strip('/') if value is not None else None

    @property
    def host(self):
        return self._host

    @host.setter
    def host(self, value):
        self._host = _text(value, 'host')

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._host, other._host) and _eq_name(self._namespace, other._namespace)
                and _eq_name(self._classname, other._classname))

    def __hash__(self):
        return hash((_hash_name(self._host), _hash_name(self._namespace),
                     _hash_name(self._classname)))

    def copy(self):
        return CIMClassName(self._classname, host=self._host, namespace=self._namespace)

    def __deepcopy__(self, memo):
        return self.copy()

    def __repr__(self):
        return 'CIMClassName(classname=%r, namespace=%r, host=%r)' % (
            self._classname, self._namespace, self._host)

    def __str__(self):
        return self.to_wbem_uri()

    def to_wbem_uri(self, format='standard'):  # pylint: disable=redefined-builtin
        """The WBEM URI (DSP0207), e.g. ``//host/root/cimv2:CIM_Foo``.

        ``format``: ``standard``, ``canonical`` (lower case), ``cimobject`` (for the
        CIMObject header: no host, no leading slash) or ``historical``.
        """
        case = _uri_case(format)
        return ''.join(_uri_prefix(self._host, self._namespace, format, case)
                       + [case(self._classname)])

    @staticmethod
    def from_wbem_uri(wbem_uri):
        """Parse a class path WBEM URI."""
        match = _URI_CLASS.match(_text(wbem_uri, 'wbem_uri', allow_none=False))
        if match is None:
            raise WBEMValueError('Invalid format for a class path in WBEM URI: %r' % (wbem_uri,))
        return CIMClassName(match.group(4), host=match.group(2) or None,
                            namespace=match.group(3) or None)


class CIMInstanceName(_CIMObject):
    """An instance path: class name, keybindings, optional namespace and host.

    ``keybindings`` is a :class:`NocaseDict` ``name -> value``; ``path['Name']`` reads a key.
    Values are ``str``, ``bool``, ``int``/CIM integer, ``float``, :class:`CIMDateTime`,
    :class:`Char16` or a nested :class:`CIMInstanceName` (reference key).
    """

    __slots__ = ('_classname', '_keybindings', '_namespace', '_host')

    def __init__(self, classname, keybindings=None, host=None, namespace=None):
        self.classname = classname
        self.keybindings = keybindings
        self.host = host
        self.namespace = namespace

    @classmethod
    def _fast(cls, classname, keybindings, host=None, namespace=None):
        obj = object.__new__(cls)
        obj._classname = classname
        obj._keybindings = keybindings
        obj._host = host
        obj._namespace = namespace
        return obj

    classname = CIMClassName.classname
    namespace = CIMClassName.namespace
    host = CIMClassName.host

    @property
    def keybindings(self):
        return self._keybindings

    @keybindings.setter
    def keybindings(self, value):
        self._keybindings = _named_dict(value, _keybinding_item, 'keybindings',
                                        allow_unnamed=True)

    def __getitem__(self, key):
        return self._keybindings[key]

    def __setitem__(self, key, value):
        self._keybindings[key] = _keybinding_item(key, value)

    def __delitem__(self, key):
        del self._keybindings[key]

    def __contains__(self, key):
        return key in self._keybindings

    def __len__(self):
        return len(self._keybindings)

    def __iter__(self):
        return iter(self._keybindings)

    def keys(self):
        return self._keybindings.keys()

    def values(self):
        return self._keybindings.values()

    def items(self):
        return self._keybindings.items()

    def get(self, key, default=None):
        return self._keybindings.get(key, default)

    def update(self, *args, **kwargs):
        for key, value in NocaseDict(*args, **kwargs).items():
            self[key] = value

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._host, other._host) and _eq_name(self._namespace, other._namespace)
                and _eq_name(self._classname, other._classname)
                and self._keybindings == other._keybindings)

    def __hash__(self):
        return hash((_hash_name(self._host), _hash_name(self._namespace),
                     _hash_name(self._classname), hash(self._keybindings)))

    def copy(self):
        new = CIMInstanceName._fast(self._classname, self._keybindings.copy(), self._host,
                                    self._namespace)
        return new

    def __deepcopy__(self, memo):
        return self.copy()

    def __repr__(self):
        return 'CIMInstanceName(classname=%r, keybindings=%r, namespace=%r, host=%r)' % (
            self._classname, self._keybindings, self._namespace, self._host)

    def __str__(self):
        return self.to_wbem_uri()

    def to_wbem_uri(self, format='standard'):  # pylint: disable=redefined-builtin
        """The WBEM URI (DSP0207), e.g. ``//host/root/cimv2:CIM_Foo.Name="a",Id=3``.

        Keys are sorted by name. ``format`` as for :meth:`CIMClassName.to_wbem_uri`.
        """
        case = _uri_case(format)
        parts = _uri_prefix(self._host, self._namespace, format, case)
        parts.append(case(self._classname))
        parts.append('.')
        keys = []
        for key, value in self._keybindings.items():
            keys.append((case(key) if key is not None else '', value))
        items = []
        for key, value in sorted(keys, key=lambda item: item[0]):
            if isinstance(value, bool):
                text = 'TRUE' if value else 'FALSE'
            elif isinstance(value, str):
                text = _uri_quote(value)
            elif isinstance(value, (CIMFloat, float)):
                text = float.__repr__(value)
            elif isinstance(value, int):
                text = int.__repr__(value)
            elif isinstance(value, CIMInstanceName):
                text = _uri_quote(value.to_wbem_uri(format=format))
            elif isinstance(value, CIMDateTime):
                text = '"%s"' % value
            else:
                raise WBEMTypeError('Invalid type %s of keybinding %r'
                                    % (builtin_name(value), key))
            items.append('%s=%s' % (key, text))
        parts.append(','.join(items))
        return ''.join(parts)

    @staticmethod
    def from_wbem_uri(wbem_uri):
        """Parse an instance path WBEM URI (untyped keys, DSP0207)."""
        text = _text(wbem_uri, 'wbem_uri', allow_none=False)
        match = _URI_INSTANCE.match(text)
        if match is None:
            raise WBEMValueError('Invalid format for an instance path in WBEM URI: %r'
                                 % (wbem_uri,))
        kbtext = match.group(5)
        if not _URI_KEYBINDINGS.match(kbtext):
            raise WBEMValueError('WBEM URI has an invalid format for its keybindings: %r'
                                 % (kbtext,))
        keybindings = NocaseDict()
        for key, value in _URI_KEYBINDING.findall(kbtext):
            keybindings[key] = _uri_value_to_cim(key, value)
        return CIMInstanceName(match.group(4), keybindings=keybindings,
                               host=match.group(2) or None, namespace=match.group(3) or None)


# ---------------------------------------------------------------- qualifiers

class _TypedValue(_CIMObject):
    """Name, CIM type and value, checked on assignment (qualifiers and properties)."""

    __slots__ = ()
    _KIND = None  # 'Qualifier' or 'Property', for messages

    @property
    def name(self):
        return self._name  # pylint: disable=no-member

    @name.setter
    def name(self, value):
        self._name = _text(value, '%s name' % self._KIND.lower(), allow_none=False)  # pylint: disable=assigning-non-slot,attribute-defined-outside-init

    @property
    def type(self):
        return self._type  # pylint: disable=no-member

    @type.setter
    def type(self, value):
        self._type = _check_type(value, self._KIND, self._name)  # pylint: disable=assigning-non-slot,attribute-defined-outside-init,no-member

    @property
    def value(self):
        return self._value  # pylint: disable=no-member

    @value.setter
    def value(self, value):
        self._value = cimvalue(value, self._type)  # pylint: disable=assigning-non-slot,attribute-defined-outside-init,no-member


class CIMQualifier(_TypedValue):
    """A qualifier value on a class, property, method, parameter or instance."""

    __slots__ = ('_name', '_type', '_value', 'propagated', 'overridable', 'tosubclass',
                 'toinstance', 'translatable')
    _KIND = 'Qualifier'

    def __init__(self, name, value, type=None, propagated=None,  # pylint: disable=redefined-builtin
                 overridable=None, tosubclass=None, toinstance=None, translatable=None):
        self._name = _text(name, 'qualifier name', allow_none=False)
        if type is None:
            if value is None:
                raise WBEMValueError('Cannot infer the CIM type of qualifier %r from None'
                                     % (name,))
            try:
                type = cimtype(value)
            except WBEMTypeError as exc:
                raise WBEMValueError('Cannot infer the CIM type of qualifier %r: %s'
                                     % (name, exc))
        self._type = _check_type(type, 'Qualifier', name)
        self._value = cimvalue(value, self._type)
        self.propagated = _bool_or_none(propagated, 'propagated')
        self.overridable = _bool_or_none(overridable, 'overridable')
        self.tosubclass = _bool_or_none(tosubclass, 'tosubclass')
        self.toinstance = _bool_or_none(toinstance, 'toinstance')
        self.translatable = _bool_or_none(translatable, 'translatable')

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._name, other._name) and self._type == other._type
                and _eq_item(self._value, other._value)
                and self.propagated == other.propagated
                and self.overridable == other.overridable
                and self.tosubclass == other.tosubclass
                and self.toinstance == other.toinstance
                and self.translatable == other.translatable)

    def __hash__(self):
        return hash((_hash_name(self._name), self._type, _hashable(self._value),
                     self.propagated, self.overridable, self.tosubclass, self.toinstance,
                     self.translatable))

    def __repr__(self):
        return ('CIMQualifier(name=%r, value=%r, type=%r, propagated=%r, overridable=%r, '
                'tosubclass=%r, toinstance=%r, translatable=%r)'
                % (self._name, self._value, self._type, self.propagated, self.overridable,
                   self.tosubclass, self.toinstance, self.translatable))


class CIMQualifierDeclaration(_CIMObject):
    """A qualifier type declaration (``Qualifier Key : boolean = false, Scope(property)``)."""

    __slots__ = ('_name', '_type', '_value', 'is_array', 'array_size', '_scopes',
                 'overridable', 'tosubclass', 'toinstance', 'translatable')

    def __init__(self, name, type, value=None, is_array=False,  # pylint: disable=redefined-builtin
                 array_size=None, scopes=None, overridable=None, tosubclass=None,
                 toinstance=None, translatable=None):
        self._name = _text(name, 'qualifier declaration name', allow_none=False)
        if is_array is None:
            is_array = _infer_is_array(value)
        else:
            _check_array(is_array, value, 'Qualifier declaration', name)
        self._type = _check_type(type, 'Qualifier declaration', name)
        self._value = cimvalue(value, self._type)
        self.is_array = bool(is_array)
        self.array_size = array_size
        self.scopes = scopes
        self.overridable = _bool_or_none(overridable, 'overridable')
        self.tosubclass = _bool_or_none(tosubclass, 'tosubclass')
        self.toinstance = _bool_or_none(toinstance, 'toinstance')
        self.translatable = _bool_or_none(translatable, 'translatable')

    name = CIMQualifier.name
    type = CIMQualifier.type
    value = CIMQualifier.value

    @property
    def scopes(self):
        """NocaseDict ``scope name -> bool`` (CLASS, ASSOCIATION, PROPERTY, ... or ANY)."""
        return self._scopes

    @scopes.setter
    def scopes(self, value):
        self._scopes = NocaseDict(value or {})

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._name, other._name) and self._type == other._type
                and _eq_item(self._value, other._value) and self.is_array == other.is_array
                and self.array_size == other.array_size and self._scopes == other._scopes
                and self.overridable == other.overridable
                and self.tosubclass == other.tosubclass
                and self.toinstance == other.toinstance
                and self.translatable == other.translatable)

    def __hash__(self):
        return hash((_hash_name(self._name), self._type, _hashable(self._value), self.is_array,
                     self.array_size, hash(self._scopes)))

    def __repr__(self):
        return ('CIMQualifierDeclaration(name=%r, type=%r, value=%r, is_array=%r, '
                'array_size=%r, scopes=%r, overridable=%r, tosubclass=%r, toinstance=%r, '
                'translatable=%r)' % (self._name, self._type, self._value, self.is_array,
                                      self.array_size, self._scopes, self.overridable,
                                      self.tosubclass, self.toinstance, self.translatable))


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    return value


# ---------------------------------------------------------------- properties

class CIMProperty(_TypedValue):
    """A property of an instance (with a value) or a class (declaration, maybe a default).

    The type is inferred from the value when not given (``str`` -> string, ``bool`` ->
    boolean, CIM integer/real types, ``datetime``/:class:`CIMDateTime` -> datetime,
    :class:`CIMInstanceName` -> reference, :class:`CIMInstance`/:class:`CIMClass` -> string
    with ``embedded_object``). A plain ``int`` or ``float`` needs an explicit type.
    """

    __slots__ = ('_name', '_type', '_value', 'class_origin', 'array_size', 'propagated',
                 'is_array', 'reference_class', '_qualifiers', '_embedded_object')
    _KIND = 'Property'

    def __init__(self, name, value, type=None,  # pylint: disable=redefined-builtin
                 class_origin=None, array_size=None, propagated=None, is_array=None,
                 reference_class=None, qualifiers=None, embedded_object=None):
        self._name = _text(name, 'property name', allow_none=False)
        if type is None:
            if value is None:
                raise WBEMValueError('Cannot infer the CIM type of property %r from None'
                                     % (name,))
            try:
                type = cimtype(value)
            except WBEMTypeError as exc:
                raise WBEMValueError('Cannot infer the CIM type of property %r: %s'
                                     % (name, exc))
        if is_array is None:
            is_array = _infer_is_array(value)
        else:
            _check_array(is_array, value, 'Property', name)
        if embedded_object is None:
            embedded_object = _infer_embedded_object(value)
        if embedded_object:
            _check_embedded_object(embedded_object, type, value, 'Property', name)
        else:
            embedded_object = None
        if reference_class is not None and is_array:
            raise WBEMValueError('Property %r has a reference_class but is an array' % (name,))
        self._type = _check_type(type, 'Property', name)
        self._value = cimvalue(value, self._type)
        self.class_origin = _text(class_origin, 'class_origin')
        self.array_size = array_size
        self.propagated = _bool_or_none(propagated, 'propagated')
        self.is_array = bool(is_array)
        self.reference_class = _text(reference_class, 'reference_class')
        self._embedded_object = embedded_object
        self.qualifiers = qualifiers

    @classmethod
    def _fast(cls, name, value, type_, is_array=False, array_size=None, class_origin=None,
              propagated=None, reference_class=None, embedded_object=None, qualifiers=None):
        """Constructor without checks, for values the parser has already validated."""
        obj = object.__new__(cls)
        obj._name = name
        obj._type = type_
        obj._value = value
        obj.class_origin = class_origin
        obj.array_size = array_size
        obj.propagated = propagated
        obj.is_array = is_array
        obj.reference_class = reference_class
        obj._embedded_object = embedded_object
        obj._qualifiers = qualifiers if qualifiers is not None else NocaseDict()
        return obj

    @property
    def embedded_object(self):
        """``'instance'``, ``'object'`` or ``None``."""
        return self._embedded_object

    @embedded_object.setter
    def embedded_object(self, value):
        self._embedded_object = value or None

    @property
    def qualifiers(self):
        return self._qualifiers

    @qualifiers.setter
    def qualifiers(self, value):
        self._qualifiers = _named_dict(value, _qualifier_item, 'qualifiers')

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._name, other._name) and _eq_item(self._value, other._value)
                and self._type == other._type
                and _eq_name(self.reference_class, other.reference_class)
                and self._embedded_object == other._embedded_object
                and self.is_array == other.is_array and self.array_size == other.array_size
                and self.propagated == other.propagated
                and _eq_name(self.class_origin, other.class_origin)
                and self._qualifiers == other._qualifiers)

    def __hash__(self):
        return hash((_hash_name(self._name), _hashable(self._value), self._type,
                     _hash_name(self.reference_class), self._embedded_object, self.is_array,
                     self.array_size, self.propagated, _hash_name(self.class_origin),
                     hash(self._qualifiers)))

    def __repr__(self):
        return ('CIMProperty(name=%r, value=%r, type=%r, reference_class=%r, '
                'embedded_object=%r, is_array=%r, array_size=%r, class_origin=%r, '
                'propagated=%r, qualifiers=%r)'
                % (self._name, self._value, self._type, self.reference_class,
                   self._embedded_object, self.is_array, self.array_size, self.class_origin,
                   self.propagated, self._qualifiers))


class _Layout(object):
    """The property layout shared by the parsed instances of one shape.

    ``names``: property names in order; ``index``: lower-case name -> position;
    ``specs``: per property (type, is_array, array_size, class_origin, propagated,
    reference_class, embedded_object).
    """

    __slots__ = ('names', 'index', 'specs')

    def __init__(self, names, specs):
        self.names = names
        self.specs = specs
        self.index = dict((name.lower(), pos) for pos, name in enumerate(names))

    def make_property(self, pos, value):
        spec = self.specs[pos]
        return CIMProperty._fast(self.names[pos], value, spec[0], spec[1], spec[2], spec[3],
                                 spec[4], spec[5], spec[6])


_LAYOUTS = {}


def _layout_for(names, specs):
    key = (names, specs)
    layout = _LAYOUTS.get(key)
    if layout is None:
        if len(_LAYOUTS) > 10000:
            _LAYOUTS.clear()
        layout = _LAYOUTS[key] = _Layout(names, specs)
    return layout


class CIMInstance(_CIMObject):
    """A CIM instance: class name, properties, qualifiers and (optionally) its path.

    Item access reads and writes property values: ``inst['Name']``, ``inst['Name'] = 'x'``
    (a :class:`CIMProperty` may be assigned as well), ``'Name' in inst``, ``inst.keys()``,
    ``inst.items()`` (name, value). ``inst.properties`` is a NocaseDict of CIMProperty.
    """

    __slots__ = ('_classname', '_path', '_props', '_layout', '_values', '_qualifiers')

    def __init__(self, classname, properties=None, qualifiers=None, path=None):
        self.classname = classname
        self._layout = None
        self._values = None
        self._props = _named_dict(properties, _property_item, 'properties')
        self.qualifiers = qualifiers
        self.path = path.copy() if isinstance(path, CIMInstanceName) else path
        if self._path is not None and self._props:
            # Key properties and keybindings of the same name must agree; the property
            # value wins (pywbem does the same when it builds an instance).
            keybindings = self._path.keybindings
            for key in list(keybindings):
                prop = self._props.get(key) if key is not None else None
                if prop is not None and prop.value is not None \
                        and not isinstance(prop.value, list) \
                        and not _eq_item(keybindings[key], prop.value):
                    try:
                        keybindings[key] = _keybinding_item(key, prop.value)
                    except (WBEMTypeError, WBEMValueError):
                        pass

    @classmethod
    def _compact(cls, classname, layout, values, path=None):
        obj = object.__new__(cls)
        obj._classname = classname
        obj._layout = layout
        obj._values = values
        obj._props = None
        obj._qualifiers = None
        obj._path = path
        return obj

    classname = CIMClassName.classname

    @property
    def path(self):
        return self._path

    @path.setter
    def path(self, value):
        if value is not None and not isinstance(value, CIMInstanceName):
            raise WBEMTypeError('The path of an instance must be a CIMInstanceName, not %s'
                                % builtin_name(value))
        self._path = value

    @property
    def properties(self):
        if self._props is None:
            self._materialize()
        return self._props

    @properties.setter
    def properties(self, value):
        self._layout = self._values = None
        self._props = _named_dict(value, _property_item, 'properties')

    def _materialize(self):
        layout, values = self._layout, self._values
        self._props = NocaseDict._from_pairs(
            (layout.names[pos], layout.make_property(pos, values[pos]))
            for pos in range(len(values)))
        self._layout = self._values = None

    @property
    def qualifiers(self):
        if self._qualifiers is None:
            self._qualifiers = NocaseDict()
        return self._qualifiers

    @qualifiers.setter
    def qualifiers(self, value):
        self._qualifiers = _named_dict(value, _qualifier_item, 'qualifiers')

    def __getitem__(self, key):
        if self._props is None:
            try:
                return self._values[self._layout.index[key.lower()]]
            except (KeyError, AttributeError):
                raise KeyError(key)
        return self._props[key].value

    def __setitem__(self, key, value):
        self.properties[key] = _property_item(key, value)

    def __delitem__(self, key):
        del self.properties[key]

    def __contains__(self, key):
        if self._props is None:
            try:
                return key.lower() in self._layout.index
            except AttributeError:
                return False
        return key in self._props

    def __len__(self):
        return len(self._values) if self._props is None else len(self._props)

    def __iter__(self):
        return iter(self.keys())

    def keys(self):
        if self._props is None:
            return list(self._layout.names)
        return self._props.keys()

    def values(self):
        if self._props is None:
            return list(self._values)
        return [prop.value for prop in self._props.values()]

    def items(self):
        if self._props is None:
            return list(zip(self._layout.names, self._values))
        return [(key, prop.value) for key, prop in self._props.items()]

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def update(self, *args, **kwargs):
        for key, value in NocaseDict(*args, **kwargs).items():
            self[key] = value

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._classname, other._classname) and _eq_item(self._path, other._path)
                and self.properties == other.properties
                and self.qualifiers == other.qualifiers)

    def __hash__(self):
        return hash((_hash_name(self._classname), hash(self._path), hash(self.properties),
                     hash(self.qualifiers)))

    def copy(self):
        new = CIMInstance.__new__(CIMInstance)
        new._classname = self._classname
        new._path = self._path.copy() if self._path is not None else None
        new._layout = self._layout
        new._values = list(self._values) if self._values is not None else None
        new._props = None
        if self._props is not None:
            new._props = NocaseDict._from_pairs(
                (key, copy_.deepcopy(prop)) for key, prop in self._props.items())
        new._qualifiers = NocaseDict._from_pairs(
            (key, copy_.deepcopy(q)) for key, q in self.qualifiers.items())
        return new

    def __deepcopy__(self, memo):
        return self.copy()

    def __repr__(self):
        return 'CIMInstance(classname=%r, path=%r, properties=%r, qualifiers=%r)' % (
            self._classname, self._path, self.properties, self.qualifiers)


# ---------------------------------------------------------------- classes

class CIMParameter(_CIMObject):
    """A method parameter declaration, or (with ``value``) a typed method parameter value."""

    __slots__ = ('_name', '_type', 'reference_class', 'is_array', 'array_size', '_qualifiers',
                 '_value', '_embedded_object')

    def __init__(self, name, type, reference_class=None,  # pylint: disable=redefined-builtin
                 is_array=None, array_size=None, qualifiers=None, value=None,
                 embedded_object=None):
        self._name = _text(name, 'parameter name', allow_none=False)
        if is_array is None:
            is_array = _infer_is_array(value)
        else:
            _check_array(is_array, value, 'Parameter', name)
        if embedded_object is None:
            embedded_object = _infer_embedded_object(value)
        if embedded_object:
            _check_embedded_object(embedded_object, type, value, 'Parameter', name)
        else:
            embedded_object = None
        self._type = _check_type(type, 'Parameter', name)
        self.reference_class = _text(reference_class, 'reference_class')
        self.is_array = bool(is_array)
        self.array_size = array_size
        self.qualifiers = qualifiers
        self._value = cimvalue(value, self._type)
        self._embedded_object = embedded_object

    name = CIMQualifier.name
    type = CIMQualifier.type
    value = CIMQualifier.value
    embedded_object = CIMProperty.embedded_object
    qualifiers = CIMProperty.qualifiers

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._name, other._name) and self._type == other._type
                and _eq_name(self.reference_class, other.reference_class)
                and self.is_array == other.is_array and self.array_size == other.array_size
                and self._qualifiers == other._qualifiers
                and _eq_item(self._value, other._value)
                and self._embedded_object == other._embedded_object)

    def __hash__(self):
        return hash((_hash_name(self._name), self._type, _hash_name(self.reference_class),
                     self.is_array, self.array_size, hash(self._qualifiers),
                     _hashable(self._value), self._embedded_object))

    def __repr__(self):
        return ('CIMParameter(name=%r, type=%r, reference_class=%r, is_array=%r, '
                'array_size=%r, qualifiers=%r, value=%r, embedded_object=%r)'
                % (self._name, self._type, self.reference_class, self.is_array,
                   self.array_size, self._qualifiers, self._value, self._embedded_object))


class CIMMethod(_CIMObject):
    """A method declaration of a class."""

    __slots__ = ('_name', 'return_type', '_parameters', 'class_origin', 'propagated',
                 '_qualifiers')

    def __init__(self, name=None, return_type=None, parameters=None, class_origin=None,
                 propagated=None, qualifiers=None):
        self._name = _text(name, 'method name', allow_none=False)
        if return_type is not None:
            return_type = _check_type(return_type, 'Method', name)
            if return_type == 'reference':
                raise WBEMValueError('Method %r cannot return a reference' % (name,))
        self.return_type = return_type
        self.parameters = parameters
        self.class_origin = _text(class_origin, 'class_origin')
        self.propagated = _bool_or_none(propagated, 'propagated')
        self.qualifiers = qualifiers

    name = CIMQualifier.name
    qualifiers = CIMProperty.qualifiers

    @property
    def parameters(self):
        return self._parameters

    @parameters.setter
    def parameters(self, value):
        self._parameters = _named_dict(value, _parameter_item, 'parameters')

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._name, other._name) and self._qualifiers == other._qualifiers
                and self._parameters == other._parameters
                and self.return_type == other.return_type
                and _eq_name(self.class_origin, other.class_origin)
                and self.propagated == other.propagated)

    def __hash__(self):
        return hash((_hash_name(self._name), hash(self._qualifiers), hash(self._parameters),
                     self.return_type, _hash_name(self.class_origin), self.propagated))

    def __repr__(self):
        return ('CIMMethod(name=%r, return_type=%r, class_origin=%r, propagated=%r, '
                'parameters=%r, qualifiers=%r)'
                % (self._name, self.return_type, self.class_origin, self.propagated,
                   self._parameters, self._qualifiers))


class CIMClass(_CIMObject):
    """A CIM class: name, superclass, qualifiers, property and method declarations, path."""

    __slots__ = ('_classname', 'superclass', '_properties', '_methods', '_qualifiers', '_path')

    def __init__(self, classname, properties=None, methods=None, superclass=None,
                 qualifiers=None, path=None):
        self.classname = classname
        self.superclass = _text(superclass, 'superclass')
        self.properties = properties
        self.methods = methods
        self.qualifiers = qualifiers
        self.path = path

    classname = CIMClassName.classname
    qualifiers = CIMProperty.qualifiers

    @property
    def properties(self):
        return self._properties

    @properties.setter
    def properties(self, value):
        self._properties = _named_dict(value, _property_item, 'properties')

    @property
    def methods(self):
        return self._methods

    @methods.setter
    def methods(self, value):
        self._methods = _named_dict(value, _method_item, 'methods')

    @property
    def path(self):
        return self._path

    @path.setter
    def path(self, value):
        if value is not None and not isinstance(value, CIMClassName):
            raise WBEMTypeError('The path of a class must be a CIMClassName, not %s'
                                % builtin_name(value))
        self._path = value

    def __eq__(self, other):
        if self is other:
            return True
        self._check_other(other)
        return (_eq_name(self._classname, other._classname)
                and _eq_name(self.superclass, other.superclass)
                and self._properties == other._properties
                and self._methods == other._methods
                and self._qualifiers == other._qualifiers
                and _eq_item(self._path, other._path))

    def __hash__(self):
        return hash((_hash_name(self._classname), _hash_name(self.superclass),
                     hash(self._properties), hash(self._methods), hash(self._qualifiers),
                     hash(self._path)))

    def __repr__(self):
        return ('CIMClass(classname=%r, superclass=%r, properties=%r, methods=%r, '
                'qualifiers=%r, path=%r)'
                % (self._classname, self.superclass, self._properties, self._methods,
                   self._qualifiers, self._path))
