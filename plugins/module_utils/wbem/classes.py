# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of class definitions and qualifier declarations (wbem_class, wbem_qualifier).

A class is given as a MOF text (:mod:`.mof`) or as a class dict (the format of
:func:`.convert.class_to_dict`, with qualifiers as ``{name: value}``). Qualifier values get
their CIM type from the qualifier declarations of the namespace (one EnumerateQualifiers per
run), so ``MaxLen(256)`` becomes a ``uint32`` as declared.

Comparison with the server uses what the class itself defines: its superclass, its own
qualifiers, the properties and methods it declares or overrides (with their own qualifiers),
property types, reference classes, array sizes and default values. Inherited elements the
definition does not repeat are not compared; qualifier flavors are those of the declarations.

Every write is checked by reading back (:mod:`.verify`): after a create or modify the class
(or qualifier declaration) must compare equal to what was sent, after a delete it must be
gone. Otherwise :class:`.verify.WriteVerificationError` fails the task with ``changed: true``.
"""

from .convert import (class_from_dict, parse_type_descriptor, qualifier_declaration_from_dict,
                      qualifier_declaration_to_dict, value_from_json, value_to_json)
from .exceptions import CIMError, WBEMTypeError, WBEMValueError
from .mof import DEFAULT_FLAVORS, SCOPES, parse_one
from .schema import INVALID_PARAMETER, TYPE_MISMATCH, is_not_found
from .verify import NOT_APPLIED, NOT_DELETED, WriteVerificationError, attach_written
from ..common.errors import HostsecError

CIM_ERR_NOT_FOUND = 6


# ---------------------------------------------------------------- input

def definition_from_input(mof_text=None, definition=None, kind='class'):
    """The declaration dict from a MOF text or a dict (``kind``: class or qualifier)."""
    if mof_text:
        return parse_one(mof_text, kind)
    if not isinstance(definition, dict):
        raise WBEMTypeError('the %s definition must be a dictionary' % kind,
                            error_name=INVALID_PARAMETER)
    return dict(definition)


def _typed_qualifiers(qualifiers, declarations, where):
    """``{name: {'type', 'value'}}`` for ``{name: value}``, typed by the declarations."""
    result = {}
    for name, value in (qualifiers or {}).items():
        if isinstance(value, dict) and 'type' in value and 'value' in value:
            result[name] = value
            continue
        decl = declarations.get(name)
        if decl is None:
            raise WBEMValueError('qualifier %s (%s) is not declared in the namespace; declare '
                                 'it first (hostsec.mgmt.wbem_qualifier)' % (name, where),
                                 error_name=INVALID_PARAMETER)
        descriptor = decl.type + ('[]' if decl.is_array else '')
        if value is True and decl.type != 'boolean':
            raise WBEMTypeError('qualifier %s (%s) needs a %s value'
                                % (decl.name, where, descriptor), error_name=TYPE_MISMATCH)
        if decl.is_array and value is not None and not isinstance(value, list):
            value = [value]
        try:
            typed = value_from_json(value, descriptor)
        except (WBEMValueError, WBEMTypeError) as exc:
            raise WBEMTypeError('qualifier %s (%s): %r is not a valid %s value (%s)'
                                % (decl.name, where, value, descriptor, exc),
                                error_name=TYPE_MISMATCH)
        result[decl.name] = {'type': descriptor, 'value': value_to_json(typed)}
    return result


def desired_class(definition, declarations):
    """A :class:`CIMClass` for a class dict; qualifier values typed by ``declarations``."""
    if not definition.get('classname'):
        raise WBEMValueError('the class definition has no classname',
                             error_name=INVALID_PARAMETER)
    name = definition['classname']
    data = {'classname': name, 'superclass': definition.get('superclass'),
            'qualifiers': _typed_qualifiers(definition.get('qualifiers'), declarations, name),
            'properties': {}, 'methods': {}}
    for pname, spec in (definition.get('properties') or {}).items():
        spec = dict(spec or {})
        where = '%s.%s' % (name, pname)
        spec['qualifiers'] = _typed_qualifiers(spec.get('qualifiers'), declarations, where)
        try:
            parse_type_descriptor(spec.get('type', 'string'))
            value_from_json(spec.get('default'), spec.get('type', 'string'))
        except (WBEMValueError, WBEMTypeError) as exc:
            raise WBEMTypeError('property %s: %s' % (where, exc), error_name=TYPE_MISMATCH)
        data['properties'][pname] = spec
    for mname, spec in (definition.get('methods') or {}).items():
        spec = dict(spec or {})
        where = '%s.%s()' % (name, mname)
        spec['qualifiers'] = _typed_qualifiers(spec.get('qualifiers'), declarations, where)
        params = {}
        for param_name, pspec in (spec.get('parameters') or {}).items():
            pspec = dict(pspec or {})
            pspec['qualifiers'] = _typed_qualifiers(pspec.get('qualifiers'), declarations,
                                                    '%s parameter %s' % (where, param_name))
            params[param_name] = pspec
        spec['parameters'] = params
        data['methods'][mname] = spec
    try:
        return class_from_dict(data)
    except (WBEMValueError, WBEMTypeError) as exc:
        raise WBEMValueError('class %s: %s' % (name, exc), error_name=INVALID_PARAMETER)


# ---------------------------------------------------------------- comparison

def _quals(qualifiers, own_only):
    return dict((name, value_to_json(q.value)) for name, q in qualifiers.items()
                if not (own_only and q.propagated))


def _type_of(element):
    return element.type + ('[]' if element.is_array else '')


def _is_own(element):
    """Declared or overridden in the class itself (servers differ in what they report)."""
    if not element.propagated:
        return True
    return any(not q.propagated for q in element.qualifiers.values())


def class_view(klass, from_server=False):
    """The comparable, readable form of what a class defines itself."""
    properties = {}
    for name, prop in klass.properties.items():
        if from_server and not _is_own(prop):
            continue
        properties[name] = {'type': _type_of(prop), 'default': value_to_json(prop.value),
                            'reference_class': prop.reference_class,
                            'array_size': prop.array_size,
                            'qualifiers': _quals(prop.qualifiers, from_server)}
    methods = {}
    for name, method in klass.methods.items():
        if from_server and not _is_own(method):
            continue
        params = dict((pname, {'type': _type_of(param), 'reference_class': param.reference_class,
                               'array_size': param.array_size,
                               'qualifiers': _quals(param.qualifiers, False)})
                      for pname, param in method.parameters.items())
        methods[name] = {'return_type': method.return_type, 'parameters': params,
                         'qualifiers': _quals(method.qualifiers, from_server)}
    return {'classname': klass.classname, 'superclass': klass.superclass,
            'qualifiers': _quals(klass.qualifiers, from_server), 'properties': properties,
            'methods': methods}


def _fold(value):
    """Case-insensitive names for comparison: dict keys and class names lowered."""
    if isinstance(value, dict):
        return dict((str(key).lower(), _fold(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_fold(item) for item in value]
    return value


def _comparable(view):
    folded = dict(view)
    for key in ('superclass', 'classname'):
        folded[key] = (view[key] or '').lower() or None
    for section in ('properties', 'methods'):
        items = {}
        for name, spec in view[section].items():
            spec = dict(spec)
            if spec.get('reference_class'):
                spec['reference_class'] = spec['reference_class'].lower()
            if 'parameters' in spec:
                params = {}
                for pname, pspec in spec['parameters'].items():
                    pspec = dict(pspec)
                    if pspec.get('reference_class'):
                        pspec['reference_class'] = pspec['reference_class'].lower()
                    params[pname] = pspec
                spec['parameters'] = params
            if spec.get('return_type'):
                spec['return_type'] = spec['return_type'].lower()
            items[name] = spec
        folded[section] = items
    return _fold(folded)


_NAME_VALUES = ('classname', 'superclass', 'reference_class', 'return_type')


def spelled_like(view, model):
    """``view`` with the names that ``model`` spells in another case spelled as in ``model``.

    CIM names are case-insensitive: a server that returns the parameter qualifier ``IN`` for
    the ``In`` of the definition has the same class. The diff shows the server's spelling for
    those, so that only real changes appear in it. Values (defaults, qualifier values) are
    left as they are.
    """
    if not isinstance(view, dict) or not isinstance(model, dict):
        return view
    spelling = dict((str(key).lower(), key) for key in model)
    result = {}
    for key, value in view.items():
        name = spelling.get(str(key).lower(), key)
        other = model.get(name)
        if key in _NAME_VALUES and isinstance(value, str) and isinstance(other, str) and \
                value.lower() == other.lower():
            value = other
        result[name] = spelled_like(value, other)
    return result


def class_differences(desired_view, current_view):
    """Names of the parts that differ (``superclass``, ``qualifiers``, ``property X`` ...)."""
    want, have = _comparable(desired_view), _comparable(current_view)
    diffs = []
    for key in ('superclass', 'qualifiers'):
        if want[key] != have[key]:
            diffs.append(key)
    for section, label in (('properties', 'property'), ('methods', 'method')):
        display = dict((name.lower(), name) for name in current_view[section])
        display.update((name.lower(), name) for name in desired_view[section])
        for name in sorted(set(want[section]) | set(have[section])):
            if want[section].get(name) != have[section].get(name):
                diffs.append('%s %s' % (label, display.get(name, name)))
    return diffs


# ---------------------------------------------------------------- classes

def get_class(conn, classname, namespace):
    try:
        return conn.GetClass(classname, namespace=namespace, LocalOnly=False,
                             IncludeQualifiers=True, IncludeClassOrigin=True)
    except CIMError as exc:
        if is_not_found(exc):
            return None
        raise


def ensure_class(conn, cache, definition, state='present', namespace=None, check_mode=False,
                 classname=None):
    """Bring a class definition into ``state``; returns the module result (without msg).

    ``definition`` is the class dict (from :func:`definition_from_input`) for ``present``;
    for ``absent`` only ``classname`` (or the definition's) is used.
    """
    namespace = (namespace or conn.default_namespace).strip('/')
    classname = classname or (definition or {}).get('classname')
    if not classname:
        raise WBEMValueError('the class name is missing', error_name=INVALID_PARAMETER)
    if definition and definition.get('classname') and \
            definition['classname'].lower() != classname.lower():
        raise WBEMValueError('class_name %s does not match the class %s of the definition'
                             % (classname, definition['classname']),
                             error_name=INVALID_PARAMETER)
    desired = None
    if state == 'present':
        desired = desired_class(definition, cache.qualifier_declarations(namespace))
    current = get_class(conn, classname, namespace)
    before = class_view(current, from_server=True) if current is not None else {}
    result = {'changed': False, 'action': None, 'classname': classname,
              'class_definition': before or None, 'differences': [],
              'diff': {'before': before, 'after': before, 'before_header': classname,
                       'after_header': classname}}
    if state == 'absent':
        if current is None:
            return result
        result.update(changed=True, action='delete', class_definition=None)
        result['diff']['after'] = {}
        if not check_mode:
            conn.DeleteClass(current.classname, namespace=namespace)
            _verify_written(result, 'DeleteClass of %s' % classname,
                            lambda: get_class(conn, classname, namespace), None)
        return result
    after = class_view(desired)
    result['diff']['after'] = spelled_like(after, before)
    if current is None:
        result.update(changed=True, action='create', class_definition=after)
        if not check_mode:
            conn.CreateClass(desired, namespace=namespace)
            _verify_written(result, 'CreateClass of %s' % classname,
                            lambda: get_class(conn, classname, namespace), after)
        return result
    differences = class_differences(after, before)
    if not differences:
        return result
    result.update(changed=True, action='modify', class_definition=after, differences=differences)
    if not check_mode:
        modified = desired.copy()
        conn.ModifyClass(modified, namespace=namespace)
        _verify_written(result, 'ModifyClass of %s' % classname,
                        lambda: get_class(conn, classname, namespace), after)
    return result


def _verify_written(result, operation, read, wanted, key='class_definition',
                    view=lambda klass: class_view(klass, from_server=True),
                    differences=class_differences):
    """Read back after a write: gone when ``wanted`` is None, else equal to ``wanted``.

    Sets ``result[key]`` to what was read; raises :class:`WriteVerificationError` (with the
    written facts attached, see :func:`.verify.attach_written`) when the write did not happen.
    """
    try:
        current = read()
        result[key] = view(current) if current is not None else None
        if wanted is None:
            if current is not None:
                raise WriteVerificationError('%s succeeded, but it is still there' % operation,
                                             error_name=NOT_DELETED)
            return
        if current is None:
            raise WriteVerificationError('%s succeeded, but reading it back answers '
                                         'CIM_ERR_NOT_FOUND' % operation,
                                         error_name=NOT_APPLIED)
        differ = differences(wanted, result[key])
        if differ:
            raise WriteVerificationError(
                '%s succeeded, but what was read back differs from what was sent in: %s'
                % (operation, ', '.join(differ)), error_name=NOT_APPLIED,
                details={'differences': differ})
    except HostsecError as exc:
        facts = dict((name, value) for name, value in result.items() if name != 'diff')
        raise attach_written(exc, facts)


# ---------------------------------------------------------------- qualifier declarations

def desired_qualifier(data):
    """A :class:`CIMQualifierDeclaration` from a declaration dict, DSP0004 flavor defaults."""
    data = dict(data)
    if not data.get('name') or not data.get('type'):
        raise WBEMValueError('a qualifier declaration needs a name and a type',
                             error_name=INVALID_PARAMETER)
    scopes = []
    for scope in data.get('scopes') or []:
        scope = str(scope).upper()
        if scope == 'ANY':
            scopes.extend(SCOPES)
        elif scope in SCOPES:
            scopes.append(scope)
        else:
            raise WBEMValueError('unknown scope %s (one of %s, ANY)' % (scope, ', '.join(SCOPES)),
                                 error_name=INVALID_PARAMETER)
    if not scopes:
        raise WBEMValueError('qualifier %s needs at least one scope' % data['name'],
                             error_name=INVALID_PARAMETER)
    data['scopes'] = sorted(set(scopes))
    for flavor, default in DEFAULT_FLAVORS.items():
        if data.get(flavor) is None:
            data[flavor] = default
    _type, is_array, _embedded = parse_type_descriptor(data['type'])
    if is_array and data.get('value') is not None and not isinstance(data['value'], list):
        data['value'] = [data['value']]
    try:
        return qualifier_declaration_from_dict(data)
    except (WBEMValueError, WBEMTypeError) as exc:
        raise WBEMTypeError('qualifier %s: %s' % (data['name'], exc), error_name=TYPE_MISMATCH)


def qualifier_view(decl):
    view = qualifier_declaration_to_dict(decl)
    for flavor in DEFAULT_FLAVORS:
        view[flavor] = bool(view.get(flavor))
    return view


def _qualifier_comparable(view):
    folded = dict(view)
    folded['name'] = view['name'].lower()
    folded['type'] = view['type'].lower()
    folded['scopes'] = sorted(scope.upper() for scope in view['scopes'])
    return folded


def get_qualifier(conn, name, namespace):
    try:
        return conn.GetQualifier(name, namespace=namespace)
    except CIMError as exc:
        if exc.status_code == CIM_ERR_NOT_FOUND:
            return None
        raise


def ensure_qualifier(conn, data, state='present', namespace=None, check_mode=False):
    """Bring a qualifier declaration into ``state``; returns the module result."""
    namespace = (namespace or conn.default_namespace).strip('/')
    name = data.get('name')
    if not name:
        raise WBEMValueError('the qualifier name is missing', error_name=INVALID_PARAMETER)
    desired = desired_qualifier(data) if state == 'present' else None
    current = get_qualifier(conn, name, namespace)
    before = qualifier_view(current) if current is not None else {}
    result = {'changed': False, 'action': None, 'name': name, 'qualifier': before or None,
              'differences': [],
              'diff': {'before': before, 'after': before, 'before_header': name,
                       'after_header': name}}
    if state == 'absent':
        if current is None:
            return result
        result.update(changed=True, action='delete', qualifier=None)
        result['diff']['after'] = {}
        if not check_mode:
            conn.DeleteQualifier(current.name, namespace=namespace)
            _verify_written(result, 'DeleteQualifier of %s' % name,
                            lambda: get_qualifier(conn, name, namespace), None, key='qualifier',
                            view=qualifier_view, differences=qualifier_differences)
        return result
    after = qualifier_view(desired)
    result['diff']['after'] = after
    if current is not None:
        differences = qualifier_differences(after, before)
        if not differences:
            return result
        result.update(action='modify', differences=differences)
    else:
        result['action'] = 'create'
    result.update(changed=True, qualifier=after)
    if not check_mode:
        conn.SetQualifier(desired, namespace=namespace)
        _verify_written(result, 'SetQualifier of %s' % name,
                        lambda: get_qualifier(conn, name, namespace), after, key='qualifier',
                        view=qualifier_view, differences=qualifier_differences)
    return result


def qualifier_differences(want, have):
    """Names of the parts of two qualifier views that differ."""
    want, have = _qualifier_comparable(want), _qualifier_comparable(have)
    return sorted(key for key in set(want) | set(have) if want.get(key) != have.get(key))
