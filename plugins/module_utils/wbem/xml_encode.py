# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building CIM-XML requests (DSP0201) from CIM objects.

The XML is written as text (no DOM): every element function returns a ``str``; the request
functions return the UTF-8 encoded document. Text and attribute values are escaped; characters
that XML 1.0 cannot carry (NUL and most other control characters) are refused with
:class:`WBEMValueError` rather than sent.
"""

import re
from datetime import datetime, timedelta

from .cim_obj import (CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMParameter,
                      CIMQualifierDeclaration)
from .cim_types import CIMDateTime, CIMFloat, CIMInt, CIMType, Char16, value_to_xml_text
from .exceptions import WBEMTypeError, WBEMValueError

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>\n'
MESSAGE_ID = '1001'

_INVALID_XML_CHARS = re.compile(u'[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]')


def _check_chars(text):
    match = _INVALID_XML_CHARS.search(text)
    if match:
        raise WBEMValueError('Character U+%04X cannot be sent in CIM-XML' % ord(match.group()))


def esc_text(text):
    """Escape character data."""
    _check_chars(text)
    if '&' in text:
        text = text.replace('&', '&amp;')
    if '<' in text:
        text = text.replace('<', '&lt;')
    if '>' in text:
        text = text.replace('>', '&gt;')
    if '\r' in text:
        text = text.replace('\r', '&#13;')
    return text


def esc_attr(text):
    """Escape an attribute value (double-quoted)."""
    text = esc_text(text)
    if '"' in text:
        text = text.replace('"', '&quot;')
    for char, ref in (('\n', '&#10;'), ('\t', '&#9;')):
        if char in text:
            text = text.replace(char, ref)
    return text


def _attrs(pairs):
    return ''.join(' %s="%s"' % (name, esc_attr(value)) for name, value in pairs
                   if value is not None)


def _bool_attr(value):
    return None if value is None else ('true' if value else 'false')


def element(tag, attrs=(), children=''):
    """``<tag attrs>children</tag>``, or ``<tag attrs/>`` without children."""
    attr_text = _attrs(attrs)
    if children:
        return '<%s%s>%s</%s>' % (tag, attr_text, children, tag)
    return '<%s%s/>' % (tag, attr_text)


def value_elem(value):
    """``<VALUE>`` of a scalar (``VALUE.NULL`` for ``None``)."""
    if value is None:
        return '<VALUE.NULL/>'
    text = value_to_xml_text(value)
    return '<VALUE>%s</VALUE>' % esc_text(text)


def localnamespacepath(namespace):
    if not namespace:
        raise WBEMValueError('A namespace is required')
    return element('LOCALNAMESPACEPATH', (), ''.join(
        element('NAMESPACE', (('NAME', part),)) for part in namespace.strip('/').split('/')))


def namespacepath(host, namespace):
    return element('NAMESPACEPATH', (), element('HOST', (), esc_text(host))
                   + localnamespacepath(namespace))


def classname_elem(classname):
    return element('CLASSNAME', (('NAME', classname),))


def classpath_elem(path, ignore_host=False, ignore_namespace=False):
    """CLASSNAME, LOCALCLASSPATH or CLASSPATH, depending on what the path holds."""
    name = classname_elem(path.classname)
    if path.namespace is None or ignore_namespace:
        return name
    if path.host is None or ignore_host:
        return element('LOCALCLASSPATH', (), localnamespacepath(path.namespace) + name)
    return element('CLASSPATH', (), namespacepath(path.host, path.namespace) + name)


def _keyvalue(key, value):
    if isinstance(value, CIMInstanceName):
        return element('VALUE.REFERENCE', (), instancepath_elem(value))
    if isinstance(value, Char16):
        valuetype, type_, text = 'string', 'char16', str(value)
    elif isinstance(value, str):
        valuetype, type_, text = 'string', 'string', value
    elif isinstance(value, bool):
        valuetype, type_, text = 'boolean', 'boolean', 'TRUE' if value else 'FALSE'
    elif isinstance(value, CIMDateTime):
        valuetype, type_, text = 'string', 'datetime', str(value)
    elif isinstance(value, (CIMInt, CIMFloat)):
        valuetype, type_, text = 'numeric', value.cimtype, str(value)
    elif isinstance(value, (int, float)):
        valuetype, type_, text = 'numeric', None, value_to_xml_text(value) \
            if isinstance(value, int) else repr(value)
    else:
        raise WBEMTypeError('Keybinding %r has an invalid type: %s' % (key, type(value).__name__))
    return element('KEYVALUE', (('VALUETYPE', valuetype), ('TYPE', type_)), esc_text(text))


def instancename_elem(path):
    keys = []
    for key, value in path.keybindings.items():
        if key is None:
            keys.append(_keyvalue(key, value))
        else:
            keys.append(element('KEYBINDING', (('NAME', key),), _keyvalue(key, value)))
    return element('INSTANCENAME', (('CLASSNAME', path.classname),), ''.join(keys))


def instancepath_elem(path, ignore_host=False, ignore_namespace=False):
    """INSTANCENAME, LOCALINSTANCEPATH or INSTANCEPATH, depending on the path."""
    name = instancename_elem(path)
    if path.namespace is None or ignore_namespace:
        return name
    if path.host is None or ignore_host:
        return element('LOCALINSTANCEPATH', (), localnamespacepath(path.namespace) + name)
    return element('INSTANCEPATH', (), namespacepath(path.host, path.namespace) + name)


def _qualifier_value_xml(value):
    """VALUE, VALUE.ARRAY or nothing, for a qualifier or a qualifier declaration."""
    if value is None:
        return ''
    if isinstance(value, (list, tuple)):
        return element('VALUE.ARRAY', (), ''.join(value_elem(v) for v in value))
    return value_elem(value)


def qualifier_elem(qual):
    value_xml = _qualifier_value_xml(qual.value)
    return element('QUALIFIER', (('NAME', qual.name), ('TYPE', qual.type),
                                 ('PROPAGATED', _bool_attr(qual.propagated)),
                                 ('OVERRIDABLE', _bool_attr(qual.overridable)),
                                 ('TOSUBCLASS', _bool_attr(qual.tosubclass)),
                                 ('TOINSTANCE', _bool_attr(qual.toinstance)),
                                 ('TRANSLATABLE', _bool_attr(qual.translatable))), value_xml)


def _scopes_elem(scopes):
    if not scopes:
        return ''
    items = dict((key.upper(), value) for key, value in scopes.items())
    if items.get('ANY'):
        items = dict((key, True) for key in ('CLASS', 'ASSOCIATION', 'REFERENCE', 'PROPERTY',
                                             'METHOD', 'PARAMETER', 'INDICATION'))
    return element('SCOPE', [(key, 'true' if items[key] else 'false') for key in sorted(items)])


def qualifierdecl_elem(decl):
    value_xml = _qualifier_value_xml(decl.value)
    return element('QUALIFIER.DECLARATION', (
        ('NAME', decl.name), ('TYPE', decl.type), ('ISARRAY', _bool_attr(decl.is_array)),
        ('ARRAYSIZE', None if decl.array_size is None else str(decl.array_size)),
        ('OVERRIDABLE', _bool_attr(decl.overridable)),
        ('TOSUBCLASS', _bool_attr(decl.tosubclass)),
        ('TOINSTANCE', _bool_attr(decl.toinstance)),
        ('TRANSLATABLE', _bool_attr(decl.translatable))),
        _scopes_elem(decl.scopes) + value_xml)


def _embedded_value(obj):
    if isinstance(obj, CIMInstance):
        return '<VALUE>%s</VALUE>' % esc_text(instance_elem(obj, with_path=True))
    if isinstance(obj, CIMClass):
        return '<VALUE>%s</VALUE>' % esc_text(class_elem(obj))
    raise WBEMTypeError('An embedded object must be a CIMInstance or CIMClass, not %s'
                        % type(obj).__name__)


def property_elem(prop):
    quals = ''.join(qualifier_elem(q) for q in prop.qualifiers.values())
    value = prop.value
    if prop.is_array:
        if value is None:
            value_xml = ''
        else:
            items = []
            for item in value:
                if item is None:
                    items.append('<VALUE.NULL/>')
                elif prop.embedded_object:
                    items.append(_embedded_value(item))
                else:
                    items.append(value_elem(item))
            value_xml = element('VALUE.ARRAY', (), ''.join(items))
        return element('PROPERTY.ARRAY', (
            ('NAME', prop.name), ('TYPE', prop.type),
            ('ARRAYSIZE', None if prop.array_size is None else str(prop.array_size)),
            ('CLASSORIGIN', prop.class_origin), ('EmbeddedObject', prop.embedded_object),
            ('PROPAGATED', _bool_attr(prop.propagated))), quals + value_xml)
    if prop.type == 'reference':
        value_xml = '' if value is None else element('VALUE.REFERENCE', (),
                                                     reference_elem(value))
        return element('PROPERTY.REFERENCE', (
            ('NAME', prop.name), ('REFERENCECLASS', prop.reference_class),
            ('CLASSORIGIN', prop.class_origin), ('PROPAGATED', _bool_attr(prop.propagated))),
            quals + value_xml)
    if value is None:
        value_xml = ''
    elif prop.embedded_object:
        value_xml = _embedded_value(value)
    else:
        value_xml = value_elem(value)
    return element('PROPERTY', (
        ('NAME', prop.name), ('TYPE', prop.type), ('CLASSORIGIN', prop.class_origin),
        ('PROPAGATED', _bool_attr(prop.propagated)), ('EmbeddedObject', prop.embedded_object)),
        quals + value_xml)


def reference_elem(path):
    if isinstance(path, CIMInstanceName):
        return instancepath_elem(path)
    if isinstance(path, CIMClassName):
        return classpath_elem(path)
    raise WBEMTypeError('A reference must be a CIMInstanceName or CIMClassName, not %s'
                        % type(path).__name__)


def instance_elem(inst, with_path=False):
    """INSTANCE; with ``with_path`` and a path, the path-carrying wrapper element."""
    body = element('INSTANCE', (('CLASSNAME', inst.classname),), ''.join(
        [qualifier_elem(q) for q in inst.qualifiers.values()]
        + [property_elem(p) for p in inst.properties.values()]))
    path = inst.path
    if not with_path or path is None:
        return body
    if path.namespace is None:
        return element('VALUE.NAMEDINSTANCE', (), instancename_elem(path) + body)
    if path.host is None:
        return element('VALUE.OBJECTWITHLOCALPATH', (), instancepath_elem(path) + body)
    return element('VALUE.INSTANCEWITHPATH', (), instancepath_elem(path) + body)


def parameter_elem(param):
    quals = ''.join(qualifier_elem(q) for q in param.qualifiers.values())
    size = None if param.array_size is None else str(param.array_size)
    if param.type == 'reference':
        if param.is_array:
            return element('PARAMETER.REFARRAY', (('NAME', param.name),
                                                  ('REFERENCECLASS', param.reference_class),
                                                  ('ARRAYSIZE', size)), quals)
        return element('PARAMETER.REFERENCE', (('NAME', param.name),
                                               ('REFERENCECLASS', param.reference_class)), quals)
    if param.is_array:
        return element('PARAMETER.ARRAY', (('NAME', param.name), ('TYPE', param.type),
                                           ('ARRAYSIZE', size)), quals)
    return element('PARAMETER', (('NAME', param.name), ('TYPE', param.type)), quals)


def method_elem(meth):
    return element('METHOD', (('NAME', meth.name), ('TYPE', meth.return_type),
                              ('CLASSORIGIN', meth.class_origin),
                              ('PROPAGATED', _bool_attr(meth.propagated))), ''.join(
        [qualifier_elem(q) for q in meth.qualifiers.values()]
        + [parameter_elem(p) for p in meth.parameters.values()]))


def class_elem(klass):
    return element('CLASS', (('NAME', klass.classname), ('SUPERCLASS', klass.superclass)), ''.join(
        [qualifier_elem(q) for q in klass.qualifiers.values()]
        + [property_elem(p) for p in klass.properties.values()]
        + [method_elem(m) for m in klass.methods.values()]))


class ReferenceValue(object):
    """Marks a path that is sent as a reference value (VALUE.REFERENCE), not as a name."""

    def __init__(self, path):
        self.path = path


def iparam_value(value):
    """The child element of an IPARAMVALUE for an operation parameter value."""
    if isinstance(value, ReferenceValue):
        return element('VALUE.REFERENCE', (), reference_elem(value.path))
    if isinstance(value, CIMClassName):
        return classpath_elem(value)
    if isinstance(value, CIMInstanceName):
        return instancepath_elem(value)
    if isinstance(value, CIMInstance):
        return instance_elem(value, with_path=True)
    if isinstance(value, CIMClass):
        return class_elem(value)
    if isinstance(value, CIMQualifierDeclaration):
        return qualifierdecl_elem(value)
    if isinstance(value, (list, tuple)):
        return element('VALUE.ARRAY', (), ''.join(value_elem(v) for v in value))
    return value_elem(value)


# ---------------------------------------------------------------- method parameters

def infer_param_type(value, name):
    """The CIM type of an untyped extrinsic method parameter value (pywbem's rules)."""
    if isinstance(value, CIMType):
        return value.cimtype
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, (datetime, timedelta)):
        return 'datetime'
    if isinstance(value, (CIMClassName, CIMInstanceName)):
        return 'reference'
    if isinstance(value, (CIMClass, CIMInstance)):
        return 'string'
    if isinstance(value, list):
        return infer_param_type(value[0], name) if value else None
    if value is None:
        return None
    hint = ' (use a CIM integer type such as Uint32)' if isinstance(value, int) else ''
    raise WBEMTypeError('Method parameter %r has type %s which cannot be used to infer a CIM '
                        'data type%s' % (name, type(value).__name__, hint))


def infer_param_embedded_object(value):
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, CIMClass):
        return 'object'
    if isinstance(value, CIMInstance):
        return 'instance'
    return None


def _param_value_xml(value):
    if isinstance(value, (datetime, timedelta)):
        value = CIMDateTime(value)
    if isinstance(value, (CIMClassName, CIMInstanceName)):
        return element('VALUE.REFERENCE', (), reference_elem(value))
    if isinstance(value, CIMInstance):
        return '<VALUE>%s</VALUE>' % esc_text(instance_elem(value))
    if isinstance(value, CIMClass):
        return '<VALUE>%s</VALUE>' % esc_text(class_elem(value))
    if isinstance(value, list):
        if value and isinstance(value[0], (CIMClassName, CIMInstanceName)):
            return element('VALUE.REFARRAY', (), ''.join(_param_value_xml(v) for v in value))
        return element('VALUE.ARRAY', (), ''.join(_param_value_xml(v) for v in value))
    if value is None:
        return ''
    return value_elem(value)


def paramvalue_elem(name, value, type_=None, embedded_object=None):
    return element('PARAMVALUE', (('NAME', name), ('PARAMTYPE', type_),
                                  ('EmbeddedObject', embedded_object)),
                   _param_value_xml(value))


def method_params(params_list, params_kw):
    """PARAMVALUE elements for InvokeMethod's ``Params`` and keyword parameters."""
    items = []
    for param in params_list or ():
        if isinstance(param, CIMParameter):
            items.append((param.name, param.value, param.type, param.embedded_object))
        elif isinstance(param, (tuple, list)) and len(param) == 2:
            items.append((param[0], param[1], infer_param_type(param[1], param[0]),
                          infer_param_embedded_object(param[1])))
        else:
            raise WBEMTypeError('A method parameter must be a CIMParameter or a (name, value) '
                                'tuple, not %r' % (param,))
    for name, value in params_kw.items():
        items.append((name, value, infer_param_type(value, name),
                      infer_param_embedded_object(value)))
    return ''.join(paramvalue_elem(*item) for item in items)


# ---------------------------------------------------------------- documents

def _document(body):
    return (XML_DECLARATION + element('CIM', (('CIMVERSION', '2.0'), ('DTDVERSION', '2.0')),
                                      element('MESSAGE', (('ID', MESSAGE_ID),
                                                          ('PROTOCOLVERSION', '1.0')), body))
            ).encode('utf-8')


def imethodcall(methodname, namespace, params):
    """An intrinsic operation request; ``params`` is a list of (name, value), None skipped."""
    iparams = ''.join(element('IPARAMVALUE', (('NAME', name),), iparam_value(value))
                      for name, value in params if value is not None)
    return _document(element('SIMPLEREQ', (), element(
        'IMETHODCALL', (('NAME', methodname),), localnamespacepath(namespace) + iparams)))


def methodcall(methodname, target, params_xml):
    """An extrinsic method call on ``target`` (class or instance path with namespace)."""
    if isinstance(target, CIMInstanceName):
        path = instancepath_elem(target, ignore_host=True)
    else:
        path = classpath_elem(target, ignore_host=True)
    return _document(element('SIMPLEREQ', (), element(
        'METHODCALL', (('NAME', methodname),), path + params_xml)))


def expmethodcall(methodname, params):
    """An export request (ExportIndication) to a WBEM listener."""
    exp = ''.join(element('EXPPARAMVALUE', (('NAME', name),), instance_elem(value))
                  for name, value in params if value is not None)
    return _document(element('SIMPLEEXPREQ', (), element('EXPMETHODCALL',
                                                         (('NAME', methodname),), exp)))
