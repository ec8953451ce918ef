# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe, incremental parsing of CIM-XML responses (DSP0201) with lxml.

:class:`ResponseParser` is fed the response body chunk by chunk as it arrives from the
socket. It checks the message envelope as soon as its start tags arrive and converts every
object below ``IRETURNVALUE`` (an instance, a path, a class ...) as soon as its end tag has
been parsed; the converted element is then removed from the tree, so memory does not grow
with the number of objects in the response. The objects are yielded to the caller in order.

Safety: the lxml parser resolves no entities, loads no DTD and uses no network; a document
with a DOCTYPE is refused. Limits (:class:`Limits`), each checked while the response arrives:
``max_size`` bytes (64 MiB by default), ``max_elements`` elements in the whole response (one
per 32 bytes of ``max_size`` unless given: 2,097,152 by default), ``max_object_elements``
elements in one object (one per 800 bytes: 83,886), elements nested at most
``max_element_depth`` (128) deep, text nodes of at most ``max_text`` characters; references
and embedded objects may not nest deeper than ``max_depth`` elements, and libxml2 itself
refuses documents deeper than 256 elements. ``max_memory`` (1.6 bytes per byte of
``max_size``, at least 32 MiB) is checked by :mod:`.operations` against the growth of the
peak RSS of the process while a response is received. Every child of IRETURNVALUE is
converted and removed from the tree as soon as it ends, whether the operation expects it or
not, so the tree holds at most the one object being received. Elements must stand where
DSP0201 allows them. All problems are raised as :class:`XMLParseError` (not well-formed or
unsafe XML, a limit exceeded) or :class:`CIMXMLParseError` (XML that is not the CIM-XML the
operation expects).
"""

import gc
import re

from .cim_obj import (CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMMethod,
                      CIMParameter, CIMProperty, CIMQualifier, CIMQualifierDeclaration,
                      _layout_for)
from .cim_types import INTEGER_TYPES, REAL_TYPES, CIMDateTime
from .exceptions import (CIMError, CIMVersionError, CIMXMLParseError, DTDVersionError,
                         ProtocolVersionError, WBEMTypeError, WBEMValueError, XMLParseError)
from .nocasedict import NocaseDict

try:
    from lxml import etree
except ImportError:  # reported by the modules through deps.LXML
    etree = None

XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'

DEFAULT_MAX_SIZE = 64 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_TEXT = 10 * 1000 * 1000
DEFAULT_MAX_ELEMENT_DEPTH = 128
#: Without an explicit ``max_elements``, a response may hold one element per this many bytes
#: of ``max_size`` (dense CIM-XML of instances has about 37 bytes per element).
BYTES_PER_ELEMENT = 32
#: Without an explicit ``max_object_elements``: one object (an IRETURNVALUE child, or a
#: PARAMVALUE, RETURNVALUE or ERROR) stays in the lxml tree (about 300 bytes per element)
#: until it ends; it may hold one element per this many bytes of ``max_size``.
BYTES_PER_OBJECT_ELEMENT = 800
#: Without an explicit ``max_memory``: the objects parsed from one response may make the peak
#: RSS of the process grow by this many bytes per byte of ``max_size`` (instances take about
#: 1.5 bytes per byte of CIM-XML, instance paths about 5).
MEMORY_PER_BYTE = 1.6

_BLANK = ' \t\n\r'
_DECIMAL = re.compile(r'^[+-]?[0-9]+$')
_HEX = re.compile(r'^[+-]?0[xX][0-9a-fA-F]+$')


class Limits(object):
    """Limits of a response: bytes, elements, element nesting depth, nesting of references
    and embedded objects, characters of one text."""

    __slots__ = ('max_size', 'max_depth', 'max_text', 'max_elements', 'max_object_elements',
                 'max_element_depth', 'max_memory')

    def __init__(self, max_size=DEFAULT_MAX_SIZE, max_depth=DEFAULT_MAX_DEPTH,
                 max_text=DEFAULT_MAX_TEXT, max_elements=None, max_object_elements=None,
                 max_element_depth=DEFAULT_MAX_ELEMENT_DEPTH, max_memory=None):
        self.max_size = max_size
        self.max_depth = max_depth
        self.max_text = max_text
        if max_elements is None:
            max_elements = max(1000, max_size // BYTES_PER_ELEMENT)
        self.max_elements = max_elements
        if max_object_elements is None:
            max_object_elements = max(1000, max_size // BYTES_PER_OBJECT_ELEMENT)
        self.max_object_elements = max_object_elements
        self.max_element_depth = max_element_depth
        if max_memory is None:
            # at least 32 MiB: the peak RSS also moves with allocations of the caller
            max_memory = max(32 * 1024 * 1024, int(max_size * MEMORY_PER_BYTE))
        self.max_memory = max_memory


def _fail(message):
    raise CIMXMLParseError(message)


def _new_parser(events=True, tags=None):
    options = dict(resolve_entities=False, no_network=True, load_dtd=False,
                   dtd_validation=False, huge_tree=False, remove_comments=True,
                   remove_pis=True, strip_cdata=True)
    if events:
        return etree.XMLPullParser(events=('start', 'end'), tag=tags, **options)
    return etree.XMLParser(**options)


def _syntax_error(exc, what='response'):
    text = str(exc) or type(exc).__name__
    return XMLParseError('The CIM-XML %s is not well-formed XML: %s' % (what, text))


# ---------------------------------------------------------------- element checks

def _check(elem, required=(), optional=(), children=None, pcdata=False, attrs=True):
    """Check attributes, child element names and text of ``elem`` (pywbem's check_node)."""
    attrib = elem.attrib
    if attrs and (attrib or required):
        for name in required:
            if name not in attrib:
                _fail('Element %r is missing required attribute %r' % (elem.tag, name))
        if len(attrib) > len(required):
            for name in attrib.keys():
                if name not in required and name not in optional:
                    _fail('Element %r has invalid attribute %r'
                          % (elem.tag, 'xml:lang' if name == XML_LANG else name))
    if children is not None:
        for child in elem:
            if child.tag not in children:
                if children:
                    _fail('Element %r has invalid child element %r (allowed are %s)'
                          % (elem.tag, child.tag, ', '.join(children)))
                _fail('Element %r has invalid child element %r (no child elements are '
                      'allowed)' % (elem.tag, child.tag))
    if not pcdata:
        text = elem.text
        if text and text.strip(_BLANK):
            _fail('Element %r has unexpected non-blank text content %r' % (elem.tag, text))
        for child in elem:
            tail = child.tail
            if tail and tail.strip(_BLANK):
                _fail('Element %r has unexpected non-blank text content %r'
                      % (elem.tag, tail))


def _one_child(elem, acceptable):
    kids = list(elem)
    if not kids:
        _fail('Element %r is missing required child element %s'
              % (elem.tag, ' or '.join(acceptable)))
    if len(kids) > 1:
        _fail('Element %r has too many child elements %r (allowed is one of %s)'
              % (elem.tag, [k.tag for k in kids], ', '.join(acceptable)))
    if kids[0].tag not in acceptable:
        _fail('Element %r has invalid child element %r (allowed is one of %s)'
              % (elem.tag, kids[0].tag, ', '.join(acceptable)))
    return kids[0]


def _bool_attr(elem, name, default):
    text = elem.get(name)
    if text is None:
        return default
    value = _parse_boolean(text)
    if value is None:
        _fail('Element %r has an invalid boolean value %r for attribute %r'
              % (elem.tag, text, name))
    return value


def _int_attr(elem, name):
    text = elem.get(name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        _fail('Element %r has an invalid integer value %r for attribute %r'
              % (elem.tag, text, name))


def _embedded(elem):
    value = elem.get('EmbeddedObject')
    if value is None:
        value = elem.get('EMBEDDEDOBJECT')
    return value or None


def _text(elem):
    text = elem.text
    return text if text is not None else ''


# ---------------------------------------------------------------- scalar values

def _parse_boolean(text):
    low = text.strip(_BLANK).lower()
    if low == 'true':
        return True
    if low == 'false':
        return False
    if low == '':
        return None
    _fail('Invalid boolean value %r' % (text,))


def _parse_number(text, type_):
    data = text.strip(_BLANK)
    value = None
    if _DECIMAL.match(data):
        value = int(data)
    elif _HEX.match(data):
        value = int(data, 16)
    else:
        try:
            value = float(data)
        except ValueError:
            _fail('Invalid numeric value %r' % (text,))
    if type_ is None:
        return value
    pytype = INTEGER_TYPES.get(type_)
    if pytype is not None:
        if isinstance(value, float):
            if not value.is_integer():
                _fail('Invalid integer value %r for CIM type %s' % (text, type_))
            value = int(value)
        try:
            return pytype(value)
        except WBEMValueError as exc:
            _fail('Cannot convert value %r to CIM type %s: %s' % (text, type_, exc))
    return REAL_TYPES[type_](value)


def unpack_scalar(text, type_):
    """The Python value of the CIM-XML text ``text`` of CIM type ``type_``."""
    if type_ == 'string':
        return text
    if type_ == 'boolean':
        return _parse_boolean(text)
    if type_ is None or type_ in INTEGER_TYPES or type_ in REAL_TYPES:
        return _parse_number(text, type_)
    if type_ == 'datetime':
        try:
            return CIMDateTime(text)
        except WBEMValueError as exc:
            _fail('Invalid datetime value %r: %s' % (text, exc))
    if type_ == 'char16':
        if len(text) != 1:
            _fail('A char16 value must be one character, got %r' % (text,))
        if ord(text) > 0xFFFF:
            _fail('A char16 value must be a UCS-2 character, got %r' % (text,))
        return text
    _fail('Invalid CIM type: %r' % (type_,))


def _check_type(elem, type_):
    if type_ not in _SCALAR_TYPES:
        _fail('Element %r has an invalid CIM type %r' % (elem.tag, type_))
    return type_


_SCALAR_TYPES = frozenset(['string', 'boolean', 'datetime', 'char16'] + list(INTEGER_TYPES)
                          + list(REAL_TYPES))


def _make_int(pytype):
    low, high, new, name = pytype.minvalue, pytype.maxvalue, int.__new__, pytype.cimtype

    def convert(text):
        try:
            value = int(text)
        except ValueError:
            return _parse_number(text, name)
        if low <= value <= high:
            return new(pytype, value)
        return _parse_number(text, name)
    return convert


def _make_real(pytype):
    new, name = float.__new__, pytype.cimtype

    def convert(text):
        try:
            return new(pytype, float(text))
        except ValueError:
            return _parse_number(text, name)
    return convert


_BOOLEANS = {'TRUE': True, 'FALSE': False, 'true': True, 'false': False, 'True': True,
             'False': False}


def _fast_boolean(text):
    value = _BOOLEANS.get(text)
    return value if value is not None else _parse_boolean(text)


def _identity(text):
    return text


# Converters from VALUE text to the Python value, by CIM type (the hot path of the parser).
SCALAR_CONVERTERS = {'string': _identity, 'boolean': _fast_boolean,
                     'datetime': lambda text: unpack_scalar(text, 'datetime'),
                     'char16': lambda text: unpack_scalar(text, 'char16')}
SCALAR_CONVERTERS.update((name, _make_int(cls)) for name, cls in INTEGER_TYPES.items())
SCALAR_CONVERTERS.update((name, _make_real(cls)) for name, cls in REAL_TYPES.items())

# Property specs (type, is_array, array_size, class_origin, propagated, reference_class,
# embedded_object) of plain properties, shared by all parsed instances.
_PLAIN_SPECS = dict((name, (name, False, None, None, False, None, None))
                    for name in _SCALAR_TYPES)
_ARRAY_SPECS = dict((name, (name, True, None, None, False, None, None))
                    for name in _SCALAR_TYPES)
_SPEC_INTERN = {}
_LAYOUT_CACHE = {}


def _blank(text):
    return not text or text.isspace() and not text.strip(_BLANK)


_NAME_TYPE = ['NAME', 'TYPE']
_TYPE_NAME = ['TYPE', 'NAME']


def _fast_property(child, max_text):
    """``(name, spec, value)`` of a PROPERTY/PROPERTY.ARRAY with only NAME and TYPE, or None.

    None means "not the simple case": the caller then uses the complete checks. This is the
    hot path of large enumerations, hence the unrolled checks.
    """
    keys = child.keys()
    if keys == _NAME_TYPE:
        name, ptype = child.values()
    elif keys == _TYPE_NAME:
        ptype, name = child.values()
    else:
        return None
    convert = SCALAR_CONVERTERS.get(ptype)
    if convert is None:
        return None
    text = child.text
    if text and (not text.isspace() or text.strip(_BLANK)):
        return None
    kids = child[:]
    if not kids:
        return name, (_PLAIN_SPECS if child.tag == 'PROPERTY' else _ARRAY_SPECS)[ptype], None
    if len(kids) != 1:
        return None
    value_elem = kids[0]
    tail = value_elem.tail
    if value_elem.keys() or tail and (not tail.isspace() or tail.strip(_BLANK)):
        return None
    if child.tag == 'PROPERTY':
        if value_elem.tag != 'VALUE' or len(value_elem):
            return None
        text = value_elem.text
        if text is None:
            text = ''
        elif len(text) > max_text:
            return None
        return name, _PLAIN_SPECS[ptype], convert(text)
    if value_elem.tag != 'VALUE.ARRAY' or not _blank(value_elem.text):
        return None
    values = []
    for item in value_elem:
        if item.keys() or len(item) or not _blank(item.tail):
            return None
        if item.tag == 'VALUE':
            text = item.text
            if text is None:
                text = ''
            elif len(text) > max_text:
                return None
            values.append(convert(text))
        elif item.tag == 'VALUE.NULL':
            if not _blank(item.text):
                return None
            values.append(None)
        else:
            return None
    return name, _ARRAY_SPECS[ptype], values


class Converter(object):
    """Converts complete CIM-XML elements to CIM objects (strict, as DSP0201 demands)."""

    def __init__(self, limits=None):
        self.limits = limits or Limits()
        self._ref_nesting = 0

    # -- values

    def value(self, elem):
        _check(elem, children=(), pcdata=True)
        text = _text(elem)
        if len(text) > self.limits.max_text:
            raise XMLParseError('A text node of the response exceeds %d characters'
                                % self.limits.max_text)
        return text

    def value_array(self, elem):
        _check(elem, children=('VALUE', 'VALUE.NULL'))
        return [self.value(child) if child.tag == 'VALUE' else self.value_null(child)
                for child in elem]

    def value_null(self, elem):
        _check(elem, children=())
        return None

    def value_reference(self, elem):
        _check(elem)
        child = _one_child(elem, ('CLASSPATH', 'LOCALCLASSPATH', 'CLASSNAME', 'INSTANCEPATH',
                                  'LOCALINSTANCEPATH', 'INSTANCENAME'))
        # references nest (a key that is a reference to a path with a reference key ...):
        # each level is three elements deep, so this bounds the element nesting depth
        self._ref_nesting += 1
        try:
            if self._ref_nesting * 3 > self.limits.max_depth:
                raise XMLParseError('The XML nesting depth exceeds %d elements'
                                    % self.limits.max_depth)
            return self.dispatch(child)
        finally:
            self._ref_nesting -= 1

    def value_refarray(self, elem):
        _check(elem, children=('VALUE.REFERENCE', 'VALUE.NULL'))
        return [self.value_reference(child) if child.tag == 'VALUE.REFERENCE' else None
                for child in elem]

    def unpack_value(self, elem, type_):
        """Value of the VALUE or VALUE.ARRAY child of a PROPERTY/QUALIFIER-like element."""
        raw = None
        found = False
        for child in elem:
            tag = child.tag
            if tag == 'VALUE':
                if found:
                    _fail('Element %r has more than one value child' % elem.tag)
                raw = self.value(child)
                found = True
            elif tag == 'VALUE.ARRAY':
                if found:
                    _fail('Element %r has more than one value child' % elem.tag)
                raw = self.value_array(child)
                found = True
        if not found:
            return None
        if isinstance(raw, list):
            return [None if item is None else unpack_scalar(item, type_) for item in raw]
        return unpack_scalar(raw, type_)

    # -- names and paths

    def namespace_elem(self, elem):
        _check(elem, ('NAME',), children=())
        return elem.get('NAME')

    def localnamespacepath(self, elem):
        _check(elem, children=('NAMESPACE',))
        parts = [self.namespace_elem(child) for child in elem]
        if not parts:
            _fail("Element 'LOCALNAMESPACEPATH' needs at least one 'NAMESPACE' child element")
        return '/'.join(parts)

    def host(self, elem):
        _check(elem, children=(), pcdata=True)
        return _text(elem)

    def namespacepath(self, elem):
        """``(host, namespace)``; accepts NAMESPACEPATH and, tolerantly, LOCALNAMESPACEPATH."""
        if elem.tag == 'LOCALNAMESPACEPATH':
            return None, self.localnamespacepath(elem)
        if elem.tag != 'NAMESPACEPATH':
            _fail('Expecting element NAMESPACEPATH, got %r' % elem.tag)
        _check(elem)
        kids = list(elem)
        if len(kids) != 2 or kids[0].tag != 'HOST':
            _fail("Element 'NAMESPACEPATH' needs the child elements (HOST, LOCALNAMESPACEPATH)")
        return self.host(kids[0]), self.localnamespacepath(kids[1])

    def local_namespace(self, elem):
        """Namespace of a LOCALNAMESPACEPATH or, tolerantly, a NAMESPACEPATH."""
        if elem.tag == 'NAMESPACEPATH':
            return self.namespacepath(elem)
        if elem.tag != 'LOCALNAMESPACEPATH':
            _fail('Expecting element LOCALNAMESPACEPATH, got %r' % elem.tag)
        return None, self.localnamespacepath(elem)

    def classname(self, elem):
        _check(elem, ('NAME',), children=())
        return CIMClassName(elem.get('NAME'))

    def _two(self, elem, first, second):
        _check(elem)
        kids = list(elem)
        if len(kids) != 2:
            _fail('Element %r needs two child elements (%s, %s), got %r'
                  % (elem.tag, first, second, [k.tag for k in kids]))
        if kids[1].tag != second:
            _fail('Element %r needs child elements (%s, %s), got %r'
                  % (elem.tag, first, second, [k.tag for k in kids]))
        return kids

    def classpath(self, elem):
        kids = self._two(elem, 'NAMESPACEPATH', 'CLASSNAME')
        host, namespace = self.namespacepath(kids[0])
        path = self.classname(kids[1])
        path.host, path.namespace = host, namespace
        return path

    def localclasspath(self, elem):
        kids = self._two(elem, 'LOCALNAMESPACEPATH', 'CLASSNAME')
        host, namespace = self.local_namespace(kids[0])
        path = self.classname(kids[1])
        path.host, path.namespace = host, namespace
        return path

    def instancepath(self, elem):
        kids = self._two(elem, 'NAMESPACEPATH', 'INSTANCENAME')
        host, namespace = self.namespacepath(kids[0])
        path = self.instancename(kids[1])
        path._host, path._namespace = host, namespace  # pylint: disable=protected-access
        return path

    def localinstancepath(self, elem):
        kids = self._two(elem, 'LOCALNAMESPACEPATH', 'INSTANCENAME')
        host, namespace = self.local_namespace(kids[0])
        path = self.instancename(kids[1])
        path._host, path._namespace = host, namespace  # pylint: disable=protected-access
        return path

    def keyvalue(self, elem):
        _check(elem, (), ('VALUETYPE', 'TYPE'), children=(), pcdata=True)
        text = _text(elem)
        valuetype = elem.get('VALUETYPE')
        type_ = elem.get('TYPE') or None
        if type_ is None:
            if valuetype is None or valuetype == 'string':
                type_ = 'string'
            elif valuetype == 'boolean':
                type_ = 'boolean'
            elif valuetype != 'numeric':
                _fail('Element KEYVALUE has an invalid VALUETYPE %r' % valuetype)
        elif type_ not in _SCALAR_TYPES:
            _fail('Element KEYVALUE has an invalid TYPE %r' % type_)
        return unpack_scalar(text, type_)

    def instancename(self, elem):
        attrib = elem.attrib
        classname = attrib.get('CLASSNAME')
        if classname is None or len(attrib) != 1 or not _blank(elem.text):
            _check(elem, ('CLASSNAME',))
        data = {}
        kids = list(elem)
        if kids:
            tag = kids[0].tag
            if tag in ('KEYVALUE', 'VALUE.REFERENCE'):
                if len(kids) != 1:
                    _fail('Element INSTANCENAME may have only one unnamed key')
                _check(elem, ('CLASSNAME',))
                data[None] = (None, self.dispatch(kids[0]))
            elif tag == 'KEYBINDING':
                for child in kids:
                    if child.tag != 'KEYBINDING':
                        _fail('Element INSTANCENAME has invalid child element %r' % child.tag)
                    if not _blank(child.tail):
                        _fail('Element INSTANCENAME has unexpected non-blank text content %r'
                              % child.tail)
                    name = child.get('NAME')
                    if name is None or len(child.attrib) != 1 or len(child) != 1 \
                            or not _blank(child.text):
                        _check(child, ('NAME',))
                        _one_child(child, ('KEYVALUE', 'VALUE.REFERENCE'))
                    value_elem = child[0]
                    if not _blank(value_elem.tail):
                        _fail('Element KEYBINDING has unexpected non-blank text content %r'
                              % value_elem.tail)
                    if value_elem.tag == 'KEYVALUE':
                        value = None
                        vattrib = value_elem.attrib
                        convert = SCALAR_CONVERTERS.get(vattrib.get('TYPE'))
                        if convert is not None and len(value_elem) == 0 and (
                                len(vattrib) == 1 or (len(vattrib) == 2
                                                      and 'VALUETYPE' in vattrib)):
                            text = value_elem.text
                            value = convert(text if text is not None else '')
                        else:
                            value = self.keyvalue(value_elem)
                    elif value_elem.tag == 'VALUE.REFERENCE':
                        value = self.value_reference(value_elem)
                        if not isinstance(value, CIMInstanceName):
                            _fail('A reference keybinding must be an instance path')
                    else:
                        _fail('Element KEYBINDING has invalid child element %r' % value_elem.tag)
                    if value is None:
                        _fail('Keybinding %r has no value' % name)
                    data[name.lower()] = (name, value)
            else:
                _fail('Element INSTANCENAME has invalid child element %r' % tag)
        keybindings = NocaseDict.__new__(NocaseDict)
        keybindings._data = data  # pylint: disable=protected-access
        keybindings.allow_unnamed_keys = True
        return CIMInstanceName._fast(classname, keybindings)  # pylint: disable=protected-access

    def objectpath(self, elem):
        _check(elem)
        return self.dispatch(_one_child(elem, ('INSTANCEPATH', 'CLASSPATH')))

    # -- qualifiers

    def qualifier(self, elem):
        _check(elem, ('NAME', 'TYPE'), ('OVERRIDABLE', 'TOSUBCLASS', 'TOINSTANCE',
                                        'TRANSLATABLE', 'PROPAGATED', XML_LANG),
               children=('VALUE', 'VALUE.ARRAY'))
        type_ = _check_type(elem, elem.get('TYPE'))
        value = self.unpack_value(elem, type_)
        return CIMQualifier(elem.get('NAME'), value, type_,
                            propagated=_bool_attr(elem, 'PROPAGATED', False),
                            overridable=_bool_attr(elem, 'OVERRIDABLE', True),
                            tosubclass=_bool_attr(elem, 'TOSUBCLASS', True),
                            toinstance=_bool_attr(elem, 'TOINSTANCE', False),
                            translatable=_bool_attr(elem, 'TRANSLATABLE', False))

    def _qualifiers(self, elem):
        quals = NocaseDict()
        for child in elem:
            if child.tag == 'QUALIFIER':
                qual = self.qualifier(child)
                quals[qual.name] = qual
        return quals

    def scope(self, elem):
        names = ('CLASS', 'ASSOCIATION', 'REFERENCE', 'PROPERTY', 'METHOD', 'PARAMETER',
                 'INDICATION')
        _check(elem, (), names, children=())
        scopes = NocaseDict()
        for name in elem.attrib.keys():
            value = _parse_boolean(elem.get(name))
            if value is None:
                _fail('Element SCOPE has an invalid boolean value for %r' % name)
            scopes[name] = value
        return scopes

    def qualifier_declaration(self, elem):
        _check(elem, ('NAME', 'TYPE'), ('ISARRAY', 'ARRAYSIZE', 'OVERRIDABLE', 'TOSUBCLASS',
                                        'TOINSTANCE', 'TRANSLATABLE'),
               children=('SCOPE', 'VALUE', 'VALUE.ARRAY'))
        type_ = _check_type(elem, elem.get('TYPE'))
        scopes = None
        for child in elem:
            if child.tag == 'SCOPE':
                if scopes is not None:
                    _fail('Element QUALIFIER.DECLARATION has more than one SCOPE')
                scopes = self.scope(child)
        value = self.unpack_value(elem, type_)
        is_array = _bool_attr(elem, 'ISARRAY', None)
        if is_array is None:
            # Some brokers leave out ISARRAY (DSP0201: #IMPLIED) of an array declaration
            # but send its default as VALUE.ARRAY: the value says what the flag would.
            is_array = isinstance(value, list) or elem.get('ARRAYSIZE') is not None
        try:
            return CIMQualifierDeclaration(
                elem.get('NAME'), type_, value, is_array=is_array,
                array_size=_int_attr(elem, 'ARRAYSIZE'), scopes=scopes,
                overridable=_bool_attr(elem, 'OVERRIDABLE', True),
                tosubclass=_bool_attr(elem, 'TOSUBCLASS', True),
                toinstance=_bool_attr(elem, 'TOINSTANCE', False),
                translatable=_bool_attr(elem, 'TRANSLATABLE', False))
        except (WBEMValueError, WBEMTypeError) as exc:
            _fail('Invalid QUALIFIER.DECLARATION %r: %s' % (elem.get('NAME'), exc))

    # -- properties

    def _property_parts(self, elem):
        """(spec, value, qualifiers) of PROPERTY / PROPERTY.ARRAY / PROPERTY.REFERENCE."""
        tag = elem.tag
        quals = None
        if tag == 'PROPERTY':
            _check(elem, ('NAME', 'TYPE'), ('CLASSORIGIN', 'PROPAGATED', 'EmbeddedObject',
                                            'EMBEDDEDOBJECT', XML_LANG),
                   children=('QUALIFIER', 'VALUE'))
            type_ = _check_type(elem, elem.get('TYPE'))
            is_array, array_size, refclass = False, None, None
        elif tag == 'PROPERTY.ARRAY':
            _check(elem, ('NAME', 'TYPE'), ('CLASSORIGIN', 'PROPAGATED', 'ARRAYSIZE',
                                            'EmbeddedObject', 'EMBEDDEDOBJECT', XML_LANG),
                   children=('QUALIFIER', 'VALUE.ARRAY'))
            type_ = _check_type(elem, elem.get('TYPE'))
            is_array, array_size, refclass = True, _int_attr(elem, 'ARRAYSIZE'), None
        else:
            _check(elem, ('NAME',), ('REFERENCECLASS', 'CLASSORIGIN', 'PROPAGATED'),
                   children=('QUALIFIER', 'VALUE.REFERENCE'))
            type_ = 'reference'
            is_array, array_size, refclass = False, None, elem.get('REFERENCECLASS')
        embedded = None
        if type_ == 'reference':
            value = None
            for child in elem:
                if child.tag == 'VALUE.REFERENCE':
                    if value is not None:
                        _fail('Element PROPERTY.REFERENCE has more than one value')
                    value = self.value_reference(child)
                elif child.tag == 'QUALIFIER':
                    quals = quals or NocaseDict()
                    qual = self.qualifier(child)
                    quals[qual.name] = qual
            if value is not None and not isinstance(value, CIMInstanceName):
                _fail('Reference property %r has a class path as value (DSP0004 allows '
                      'instance paths only)' % elem.get('NAME'))
        else:
            value = None
            found = False
            for child in elem:
                ctag = child.tag
                if ctag == 'VALUE' or ctag == 'VALUE.ARRAY':
                    if found:
                        _fail('Element %r has more than one value child' % tag)
                    found = True
                    if ctag == 'VALUE':
                        value = unpack_scalar(self.value(child), type_)
                    else:
                        value = self.value_array(child)
                        value = [None if item is None else unpack_scalar(item, type_)
                                 for item in value]
                elif ctag == 'QUALIFIER':
                    quals = quals or NocaseDict()
                    qual = self.qualifier(child)
                    quals[qual.name] = qual
            embedded = _embedded(elem)
            if embedded:
                if type_ != 'string':
                    _fail('Property %r is an embedded object but has type %r'
                          % (elem.get('NAME'), type_))
                value = self.embedded_object(value)
                if embedded not in ('instance', 'object'):
                    _fail('Property %r has an invalid EmbeddedObject value %r'
                          % (elem.get('NAME'), embedded))
        spec = (type_, is_array, array_size, elem.get('CLASSORIGIN'),
                _bool_attr(elem, 'PROPAGATED', False), refclass, embedded)
        return spec, value, quals

    def property_any(self, elem):
        spec, value, quals = self._property_parts(elem)
        return CIMProperty._fast(elem.get('NAME'), value, spec[0], spec[1], spec[2], spec[3],
                                 spec[4], spec[5], spec[6], quals)

    def embedded_object(self, value):
        if value is None:
            return None
        if isinstance(value, list):
            return [self.embedded_object(item) for item in value]
        if len(value) > self.limits.max_text:
            raise XMLParseError('An embedded object exceeds %d characters'
                                % self.limits.max_text)
        parser = _new_parser(events=False)
        try:
            root = etree.fromstring(value.encode('utf-8'), parser)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, 'embedded object')
        except UnicodeEncodeError as exc:
            raise XMLParseError('An embedded object has an invalid character: %s' % exc)
        if root.getroottree().docinfo.doctype:
            raise XMLParseError('An embedded object contains a DOCTYPE, which is not allowed')
        _check_depth(root, self.limits.max_depth)
        if root.tag == 'INSTANCE':
            return self.instance(root)
        if root.tag == 'CLASS':
            return self.class_(root)
        _fail('Invalid top-level element %r in an embedded object' % root.tag)

    # -- instances and classes

    def instance(self, elem):
        attrib = elem.attrib
        classname = attrib.get('CLASSNAME')
        if classname is None or len(attrib) != 1 or not _blank(elem.text):
            _check(elem, ('CLASSNAME',), (XML_LANG,),
                   children=('QUALIFIER', 'PROPERTY', 'PROPERTY.ARRAY', 'PROPERTY.REFERENCE'))
            classname = elem.get('CLASSNAME')
        max_text = self.limits.max_text
        names = []
        specs = []
        values = []
        quals = None
        complex_props = None
        for child in elem:
            tag = child.tag
            tail = child.tail
            if tail and (not tail.isspace() or tail.strip(_BLANK)):
                _fail('Element INSTANCE has unexpected non-blank text content %r' % tail)
            if tag == 'PROPERTY' or tag == 'PROPERTY.ARRAY':
                fast = _fast_property(child, max_text)
                if fast is not None:
                    names.append(fast[0])
                    specs.append(fast[1])
                    values.append(fast[2])
                    continue
            elif tag == 'QUALIFIER':
                qual = self.qualifier(child)
                quals = quals or NocaseDict()
                quals[qual.name] = qual
                continue
            elif tag != 'PROPERTY.REFERENCE':
                _fail('Element INSTANCE has invalid child element %r' % tag)
            spec, value, pquals = self._property_parts(child)
            spec = _SPEC_INTERN.setdefault(spec, spec)
            if pquals:
                complex_props = complex_props or {}
                complex_props[len(names)] = pquals
            names.append(child.get('NAME'))
            specs.append(spec)
            values.append(value)
        layout = None
        if complex_props is None:
            # one layout per property name list; its specs must be the same objects (they
            # are interned), else the layout is replaced
            key = tuple(names)
            specs = tuple(specs)
            layout = _LAYOUT_CACHE.get(key)
            if layout is None or layout.specs != specs:
                if len(_LAYOUT_CACHE) > 5000:
                    _LAYOUT_CACHE.clear()
                if len(set(name.lower() for name in names)) == len(names):
                    layout = _LAYOUT_CACHE[key] = _layout_for(key, specs)
                else:
                    layout = None  # duplicate names: the last one wins, as in a dict
        if layout is not None:
            inst = CIMInstance._compact(classname, layout, values)  # pylint: disable=protected-access
        else:
            props = NocaseDict()
            for pos, name in enumerate(names):
                spec = specs[pos]
                props[name] = CIMProperty._fast(  # pylint: disable=protected-access
                    name, values[pos], spec[0], spec[1], spec[2], spec[3], spec[4], spec[5],
                    spec[6], (complex_props or {}).get(pos))
            inst = CIMInstance._compact(classname, None, None)  # pylint: disable=protected-access
            inst._props = props  # pylint: disable=protected-access
        if quals:
            inst._qualifiers = quals  # pylint: disable=protected-access
        return inst

    def parameter_any(self, elem):
        tag = elem.tag
        if tag == 'PARAMETER':
            _check(elem, ('NAME', 'TYPE'), (), children=('QUALIFIER',))
            type_, is_array, size, refclass = _check_type(elem, elem.get('TYPE')), False, None, None
        elif tag == 'PARAMETER.ARRAY':
            _check(elem, ('NAME', 'TYPE'), ('ARRAYSIZE',), children=('QUALIFIER',))
            type_, is_array, size, refclass = (_check_type(elem, elem.get('TYPE')), True,
                                               _int_attr(elem, 'ARRAYSIZE'), None)
        elif tag == 'PARAMETER.REFERENCE':
            _check(elem, ('NAME',), ('REFERENCECLASS',), children=('QUALIFIER',))
            type_, is_array, size, refclass = 'reference', False, None, elem.get('REFERENCECLASS')
        else:
            _check(elem, ('NAME',), ('REFERENCECLASS', 'ARRAYSIZE'), children=('QUALIFIER',))
            type_, is_array, size, refclass = ('reference', True, _int_attr(elem, 'ARRAYSIZE'),
                                               elem.get('REFERENCECLASS'))
        return CIMParameter(elem.get('NAME'), type_, reference_class=refclass,
                            is_array=is_array, array_size=size,
                            qualifiers=self._qualifiers(elem))

    def method(self, elem):
        _check(elem, ('NAME',), ('TYPE', 'CLASSORIGIN', 'PROPAGATED'),
               children=('QUALIFIER', 'PARAMETER', 'PARAMETER.REFERENCE', 'PARAMETER.ARRAY',
                         'PARAMETER.REFARRAY'))
        return_type = elem.get('TYPE')
        if not return_type:
            _fail('Method %r does not define a return type' % elem.get('NAME'))
        _check_type(elem, return_type)
        params = [self.parameter_any(child) for child in elem if child.tag != 'QUALIFIER']
        return CIMMethod(elem.get('NAME'), return_type=return_type, parameters=params,
                         class_origin=elem.get('CLASSORIGIN'),
                         propagated=_bool_attr(elem, 'PROPAGATED', False),
                         qualifiers=self._qualifiers(elem))

    def class_(self, elem):
        _check(elem, ('NAME',), ('SUPERCLASS',),
               children=('QUALIFIER', 'PROPERTY', 'PROPERTY.REFERENCE', 'PROPERTY.ARRAY',
                         'METHOD'))
        props = []
        methods = []
        for child in elem:
            if child.tag == 'METHOD':
                methods.append(self.method(child))
            elif child.tag != 'QUALIFIER':
                props.append(self.property_any(child))
        return CIMClass(elem.get('NAME'), properties=props, methods=methods,
                        superclass=elem.get('SUPERCLASS'), qualifiers=self._qualifiers(elem))

    # -- object wrappers

    def value_namedinstance(self, elem):
        if len(elem) == 2 and not elem.attrib and _blank(elem.text):
            name_elem, inst_elem = elem[0], elem[1]
            if name_elem.tag == 'INSTANCENAME' and inst_elem.tag == 'INSTANCE' \
                    and _blank(name_elem.tail) and _blank(inst_elem.tail):
                path = self.instancename(name_elem)
                inst = self.instance(inst_elem)
                inst._path = path  # pylint: disable=protected-access
                return inst
        kids = self._two(elem, 'INSTANCENAME', 'INSTANCE')
        if kids[0].tag != 'INSTANCENAME':
            _fail('Element VALUE.NAMEDINSTANCE needs child elements (INSTANCENAME, INSTANCE)')
        path = self.instancename(kids[0])
        inst = self.instance(kids[1])
        inst._path = path  # pylint: disable=protected-access
        return inst

    def value_instancewithpath(self, elem):
        kids = self._two(elem, 'INSTANCEPATH', 'INSTANCE')
        path = self.dispatch_path(kids[0], ('INSTANCEPATH', 'LOCALINSTANCEPATH'))
        inst = self.instance(kids[1])
        inst._path = path  # pylint: disable=protected-access
        return inst

    def value_namedobject(self, elem):
        _check(elem)
        kids = list(elem)
        if len(kids) == 1 and kids[0].tag == 'CLASS':
            return self.class_(kids[0])
        if len(kids) == 2 and kids[0].tag == 'INSTANCENAME' and kids[1].tag == 'INSTANCE':
            inst = self.instance(kids[1])
            inst._path = self.instancename(kids[0])  # pylint: disable=protected-access
            return inst
        _fail('Element VALUE.NAMEDOBJECT needs child elements (CLASS | (INSTANCENAME, '
              'INSTANCE))')

    def _object_with_path(self, elem, class_tags, inst_tags):
        _check(elem)
        kids = list(elem)
        if len(kids) != 2:
            _fail('Element %r needs two child elements, got %r'
                  % (elem.tag, [k.tag for k in kids]))
        first, second = kids
        if first.tag in class_tags and second.tag == 'CLASS':
            path = self.dispatch_path(first, class_tags)
            klass = self.class_(second)
            klass.path = path
            return (path, klass)
        if first.tag in inst_tags and second.tag == 'INSTANCE':
            path = self.dispatch_path(first, inst_tags)
            inst = self.instance(second)
            inst._path = path  # pylint: disable=protected-access
            return inst
        _fail('Element %r has invalid child elements %r' % (elem.tag, [k.tag for k in kids]))

    def value_objectwithpath(self, elem):
        # Either path form is accepted (some brokers send the local one).
        return self._object_with_path(elem, ('CLASSPATH', 'LOCALCLASSPATH'),
                                      ('INSTANCEPATH', 'LOCALINSTANCEPATH'))

    def value_objectwithlocalpath(self, elem):
        return self._object_with_path(elem, ('LOCALCLASSPATH', 'CLASSPATH'),
                                      ('LOCALINSTANCEPATH', 'INSTANCEPATH'))

    def value_object(self, elem):
        _check(elem)
        return self.dispatch(_one_child(elem, ('CLASS', 'INSTANCE')))

    def dispatch_path(self, elem, allowed):
        if elem.tag not in allowed:
            _fail('Expecting one of %s, got %r' % (', '.join(allowed), elem.tag))
        return self.dispatch(elem)

    # -- method responses

    def error(self, elem):
        _check(elem, ('CODE',), ('DESCRIPTION',), children=('INSTANCE',))
        code = elem.get('CODE')
        try:
            code = int(code)
        except ValueError:
            _fail('Element ERROR has an invalid CODE %r' % code)
        insts = [self.instance(child) for child in elem] or None
        return CIMError(code, elem.get('DESCRIPTION'), instances=insts)

    def paramvalue(self, elem):
        """``(name, paramtype, value)`` of a PARAMVALUE; the value typed when possible."""
        _check(elem, ('NAME',), ('TYPE', 'PARAMTYPE', 'EmbeddedObject', 'EMBEDDEDOBJECT'))
        kids = list(elem)
        if len(kids) > 1:
            _fail('Element PARAMVALUE has more than one child element')
        paramtype = elem.get('PARAMTYPE') or elem.get('TYPE')
        raw = None
        if kids:
            child = kids[0]
            if child.tag not in ('VALUE', 'VALUE.REFERENCE', 'VALUE.ARRAY', 'VALUE.REFARRAY',
                                 'CLASSNAME', 'INSTANCENAME', 'CLASS', 'INSTANCE',
                                 'VALUE.NAMEDINSTANCE'):
                _fail('Element PARAMVALUE has invalid child element %r' % child.tag)
            raw = self.dispatch(child)
            if child.tag in ('VALUE', 'VALUE.ARRAY'):
                if _embedded(elem):
                    raw = self.embedded_object(raw)
                elif paramtype not in (None, 'reference'):
                    _check_type(elem, paramtype)
                    raw = [None if item is None else unpack_scalar(item, paramtype)
                           for item in raw] if isinstance(raw, list) \
                        else unpack_scalar(raw, paramtype)
        return elem.get('NAME'), paramtype, raw

    def returnvalue(self, elem):
        _check(elem, (), ('PARAMTYPE', 'EmbeddedObject', 'EMBEDDEDOBJECT'))
        kids = list(elem)
        if len(kids) > 1:
            _fail('Element RETURNVALUE has more than one child element')
        paramtype = elem.get('PARAMTYPE')
        if not kids:
            return paramtype, None
        child = kids[0]
        if child.tag not in ('VALUE', 'VALUE.REFERENCE'):
            _fail('Element RETURNVALUE has invalid child element %r' % child.tag)
        raw = self.dispatch(child)
        if child.tag == 'VALUE':
            if _embedded(elem):
                raw = self.embedded_object(raw)
            elif paramtype is not None:
                if paramtype == 'reference':
                    _fail('A reference return value must be a VALUE.REFERENCE')
                _check_type(elem, paramtype)
                raw = unpack_scalar(raw, paramtype)
        return paramtype, raw

    _DISPATCH = {
        'VALUE': value, 'VALUE.ARRAY': value_array, 'VALUE.NULL': value_null,
        'VALUE.REFERENCE': value_reference, 'VALUE.REFARRAY': value_refarray,
        'NAMESPACE': namespace_elem, 'CLASSNAME': classname, 'CLASSPATH': classpath,
        'LOCALCLASSPATH': localclasspath, 'INSTANCEPATH': instancepath,
        'LOCALINSTANCEPATH': localinstancepath, 'INSTANCENAME': instancename,
        'KEYVALUE': keyvalue, 'OBJECTPATH': objectpath, 'QUALIFIER': qualifier,
        'QUALIFIER.DECLARATION': qualifier_declaration, 'PROPERTY': property_any,
        'PROPERTY.ARRAY': property_any, 'PROPERTY.REFERENCE': property_any,
        'INSTANCE': instance, 'CLASS': class_, 'METHOD': method,
        'VALUE.NAMEDINSTANCE': value_namedinstance,
        'VALUE.INSTANCEWITHPATH': value_instancewithpath,
        'VALUE.NAMEDOBJECT': value_namedobject, 'VALUE.OBJECTWITHPATH': value_objectwithpath,
        'VALUE.OBJECTWITHLOCALPATH': value_objectwithlocalpath, 'VALUE.OBJECT': value_object,
        'ERROR': error, 'PARAMVALUE': paramvalue, 'RETURNVALUE': returnvalue,
    }

    def dispatch(self, elem):
        func = self._DISPATCH.get(elem.tag)
        if func is None:
            _fail('Invalid element for CIM-XML: %r' % (elem.tag,))
        return func(self, elem)


def _check_depth(root, max_depth):
    stack = [(root, 1)]
    while stack:
        elem, depth = stack.pop()
        if depth > max_depth:
            raise XMLParseError('The XML nesting depth exceeds %d elements' % max_depth)
        stack.extend((child, depth + 1) for child in elem)


# ---------------------------------------------------------------- the response envelope

IRETURNVALUE_CHILDREN = ('CLASSNAME', 'INSTANCENAME', 'VALUE', 'VALUE.OBJECTWITHPATH',
                         'VALUE.OBJECTWITHLOCALPATH', 'VALUE.OBJECT', 'OBJECTPATH',
                         'QUALIFIER.DECLARATION', 'VALUE.ARRAY', 'VALUE.REFERENCE', 'CLASS',
                         'INSTANCE', 'INSTANCEPATH', 'VALUE.NAMEDINSTANCE',
                         'VALUE.INSTANCEWITHPATH')

# Response kinds: (SIMPLE* element, *RESPONSE element, children allowed in it)
KINDS = {
    'imethod': ('SIMPLERSP', 'IMETHODRESPONSE', ('ERROR', 'IRETURNVALUE', 'PARAMVALUE')),
    'method': ('SIMPLERSP', 'METHODRESPONSE', ('ERROR', 'RETURNVALUE', 'PARAMVALUE')),
    'export': ('SIMPLEEXPRSP', 'EXPMETHODRESPONSE', ('ERROR', 'IRETURNVALUE')),
}


class ResponseParser(object):
    """Incremental parser of one CIM-XML response.

    Feed it with :meth:`feed` and finish with :meth:`close`; both return the list of events
    completed so far, each a tuple:

    - ``('item', obj)``: one object below IRETURNVALUE, in document order;
    - ``('ireturnvalue', count)``: the end of IRETURNVALUE and how many objects it held;
    - ``('param', name, paramtype, value)``: an output PARAMVALUE;
    - ``('return', paramtype, value)``: the RETURNVALUE of an extrinsic method;
    - ``('error', CIMError)``: the ERROR element (the caller raises it once the document
      has been parsed to its end).

    ``item_tags`` names the IRETURNVALUE children the operation expects. Other children of
    IRETURNVALUE are converted and released as they end, too, so that the operation can
    reject them (and they do not pile up in the tree).
    """

    def __init__(self, kind, methodname, limits=None, item_tags=None):
        if etree is None:
            raise XMLParseError('The Python package lxml is required to parse CIM-XML')
        self.kind = kind
        self.methodname = methodname
        self.limits = limits or Limits()
        self.converter = Converter(self.limits)
        self._simple, self._response, self._response_children = KINDS[kind]
        self._item_tags = frozenset(item_tags if item_tags is not None else _DEFAULT_ITEM_TAGS)
        # every element is reported, to count elements and depth as they arrive
        self._parser = _new_parser()
        self._size = 0
        self._elements = 0
        self._object_elements = 0
        self._level = 0
        self._item_tag = None
        self._item_count = 0
        self._in_ireturnvalue = False
        self._checked_doctype = False
        self._finished = False
        self.root = None

    def feed(self, data):
        self._size += len(data)
        if self._size > self.limits.max_size:
            raise XMLParseError('The response exceeds the size limit of %d bytes (raise '
                                'max_response_size for larger results)' % self.limits.max_size,
                                error_name='RESPONSE_TOO_LARGE')
        # The objects built here hold no reference cycles; pausing the cyclic garbage
        # collector while a chunk is converted saves it from re-scanning every object of a
        # large result again and again (a third of the time for big enumerations).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._parser.feed(data)
            return self._events()
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc)
        finally:
            if gc_was_enabled:
                gc.enable()

    def close(self):
        if self._size == 0:
            raise XMLParseError('The response body is empty')
        try:
            events = self._events()
            root = self._parser.close()
            self.root = root
            events.extend(self._events())
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc)
        self._check_doctype(root)
        if root.tag != 'CIM':
            _fail('Expecting CIM element, got %r' % (root.tag,))
        if not self._finished:
            raise XMLParseError('The response ended before the CIM element was complete')
        return events

    def _check_doctype(self, elem):
        if not self._checked_doctype:
            self._checked_doctype = True
            if elem.getroottree().docinfo.doctype:
                raise XMLParseError('The response contains a DOCTYPE declaration, which is not '
                                    'allowed (no DTDs, no entity declarations)')

    def _events(self):
        out = []
        item_tags = self._item_tags
        limits = self.limits
        for event, elem in self._parser.read_events():
            if event == 'start':
                self._level += 1
                self._elements += 1
                if self._elements > limits.max_elements:
                    raise XMLParseError('The response has more than %d XML elements (raise '
                                        'max_response_size for larger results)'
                                        % limits.max_elements, error_name='TOO_MANY_ELEMENTS')
                if self._level > limits.max_element_depth:
                    raise XMLParseError('The XML nesting depth exceeds %d elements'
                                        % limits.max_element_depth, error_name='TOO_DEEP')
                if self._level == 5 or (self._level == 6 and self._in_ireturnvalue):
                    self._object_elements = 0   # a new object starts
                else:
                    self._object_elements += 1
                    if self._object_elements > limits.max_object_elements:
                        raise XMLParseError('An object in the response has more than %d XML '
                                            'elements' % limits.max_object_elements,
                                            error_name='TOO_MANY_ELEMENTS')
                if self._level <= 5 and (self._level == 5 or elem.tag in _ENVELOPE_TAGS):
                    # any child of the *RESPONSE element is checked at once, so that no
                    # unexpected ones pile up in the tree
                    self._start(elem)
                continue
            level = self._level
            self._level = level - 1
            if level == 6:
                if self._in_ireturnvalue:
                    # a child of IRETURNVALUE: converted and released now, expected or not
                    self._end_item(elem, elem.getparent(), out, elem.tag in item_tags)
            elif level <= 5 and elem.tag in _ENVELOPE_TAGS:
                self._end_envelope(elem, out)
        return out

    def _depth(self, elem):
        depth = 1
        parent = elem.getparent()
        while parent is not None:
            depth += 1
            parent = parent.getparent()
        return depth

    def _start(self, elem):
        self._check_doctype(elem)
        tag = elem.tag
        depth = self._depth(elem)
        if depth > 5:
            return  # e.g. an ERROR-like name deep inside an object: checked by the converter
        if depth == 1:
            if tag != 'CIM':
                _fail('Expecting CIM element, got %r' % (tag,))
            _check_attrs_only(elem, ('CIMVERSION', 'DTDVERSION'))
            if not elem.get('CIMVERSION').startswith('2.'):
                raise CIMVersionError('CIMVERSION is %s, expected 2.x' % elem.get('CIMVERSION'))
            if not elem.get('DTDVERSION').startswith('2.'):
                raise DTDVersionError('DTDVERSION is %s, expected 2.x' % elem.get('DTDVERSION'))
            return
        parent = elem.getparent()
        expected_parent = {2: 'CIM', 3: 'MESSAGE', 4: self._simple}.get(depth, self._response)
        if parent.tag != expected_parent:
            _fail('Element %r has invalid child element %r' % (parent.tag, tag))
        if depth == 2:
            if tag != 'MESSAGE':
                _fail('Expecting MESSAGE element, got %r' % (tag,))
            _check_attrs_only(elem, ('ID', 'PROTOCOLVERSION'))
            if not elem.get('PROTOCOLVERSION').startswith('1.'):
                raise ProtocolVersionError('PROTOCOLVERSION is %s, expected 1.x'
                                           % elem.get('PROTOCOLVERSION'))
        elif depth == 3:
            if tag != self._simple:
                _fail('Expecting %s element, got %r' % (self._simple, tag))
            _check_attrs_only(elem, ())
        elif depth == 4:
            if tag != self._response:
                _fail('Expecting %s element, got %r' % (self._response, tag))
            _check_attrs_only(elem, ('NAME',))
            if elem.get('NAME') != self.methodname:
                _fail('Expecting attribute NAME=%r, got %r' % (self.methodname, elem.get('NAME')))
        else:
            if tag not in self._response_children:
                _fail('Element %r has invalid child element %r' % (self._response, tag))
            if tag == 'IRETURNVALUE':
                _check_attrs_only(elem, ())
                self._in_ireturnvalue = True
                self._item_tag = None
                self._item_count = 0
        if depth < 5 and len(parent) > 1:
            _fail('Element %r has too many child elements (allowed is one)' % parent.tag)

    def _end_item(self, elem, parent, out, expected=True):
        tag = elem.tag
        if not expected and tag not in IRETURNVALUE_CHILDREN:
            _fail('Element %r has invalid child element %r (allowed are %s)'
                  % (parent.tag, tag, ', '.join(IRETURNVALUE_CHILDREN)))
        if self._item_tag is None:
            self._item_tag = tag
        elif tag != self._item_tag:
            _fail('Element IRETURNVALUE has unlike child elements %r and %r'
                  % (self._item_tag, tag))
        previous = elem.getprevious()
        if previous is not None:
            # converted items are removed; anything left before this one was not expected
            _fail('Element IRETURNVALUE has unexpected child element %r' % previous.tag)
        text = parent.text
        if text and text.strip(_BLANK):
            _fail('Element IRETURNVALUE has unexpected non-blank text content %r' % text)
        tail = elem.tail
        if tail and tail.strip(_BLANK):
            _fail('Element IRETURNVALUE has unexpected non-blank text content %r' % tail)
        out.append(('item', self.converter.dispatch(elem)))
        self._item_count += 1
        parent.remove(elem)

    def _end_envelope(self, elem, out):
        tag = elem.tag
        depth = self._depth(elem)
        if depth > 5:
            return
        parent = elem.getparent()
        if depth == 5:
            if parent.tag != self._response:
                return
            if tag == 'IRETURNVALUE':
                self._end_ireturnvalue(elem, out)
            elif tag == 'ERROR':
                out.append(('error', self.converter.error(elem)))
            elif tag == 'PARAMVALUE':
                out.append(('param',) + self.converter.paramvalue(elem))
            elif tag == 'RETURNVALUE':
                out.append(('return',) + self.converter.returnvalue(elem))
            elem.clear(keep_tail=True)
            return
        # CIM, MESSAGE, SIMPLE*, *RESPONSE: check children and text
        _check(elem, children=_ENVELOPE_CHILDREN[depth] if depth < 4
               else self._response_children, attrs=False)
        if depth < 4:
            if len(elem) != 1:
                _fail('Element %r is missing its required child element %s'
                      % (tag, _ENVELOPE_CHILDREN[depth][0] if depth != 3 else self._response))
            child = elem[0]
            if depth == 3 and child.tag != self._response:
                _fail('Expecting %s element, got %r' % (self._response, child.tag))
        if depth == 1:
            self._finished = True

    def _end_ireturnvalue(self, elem, out):
        self._in_ireturnvalue = False
        _check(elem, attrs=False, children=IRETURNVALUE_CHILDREN)
        leftovers = list(elem)
        if leftovers:
            # objects the operation does not expect: convert them so that it can say so
            first = self._item_tag or leftovers[0].tag
            for child in leftovers:
                if child.tag != first:
                    _fail('Element IRETURNVALUE has unlike child elements %r and %r'
                          % (first, child.tag))
                out.append(('item', self.converter.dispatch(child)))
                self._item_count += 1
        out.append(('ireturnvalue', self._item_count))


_ENVELOPE_TAGS = frozenset(['CIM', 'MESSAGE', 'SIMPLERSP', 'SIMPLEEXPRSP', 'IMETHODRESPONSE',
                            'METHODRESPONSE', 'EXPMETHODRESPONSE', 'IRETURNVALUE',
                            'RETURNVALUE', 'PARAMVALUE', 'ERROR'])
_ENVELOPE_CHILDREN = {1: ('MESSAGE',), 2: ('SIMPLERSP', 'SIMPLEEXPRSP'),
                      3: ('IMETHODRESPONSE', 'METHODRESPONSE', 'EXPMETHODRESPONSE')}
_DEFAULT_ITEM_TAGS = ('CLASSNAME', 'VALUE.OBJECTWITHPATH', 'VALUE.OBJECTWITHLOCALPATH',
                      'VALUE.OBJECT', 'OBJECTPATH', 'QUALIFIER.DECLARATION', 'CLASS',
                      'INSTANCEPATH', 'VALUE.NAMEDINSTANCE', 'VALUE.INSTANCEWITHPATH')


def _check_attrs_only(elem, required):
    attrib = elem.attrib
    for name in required:
        if name not in attrib:
            _fail('Element %r is missing required attribute %r' % (elem.tag, name))
    if len(attrib) != len(required):
        for name in attrib.keys():
            if name not in required:
                _fail('Element %r has invalid attribute %r' % (elem.tag, name))
