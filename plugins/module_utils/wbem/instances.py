# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of one CIM instance: compare first, then write only what differs.

:func:`ensure_instance` is what ``wbem_instance`` does (and ``wbem_subscription`` reuses):

1. the class is read once (:class:`~.schema.ClassCache`): it types the keys and properties the
   user wrote in YAML and rejects unknown properties, wrong keys and wrong types before
   anything is written;
2. exactly one GetInstance reads the current instance (CIM_ERR_NOT_FOUND: it does not exist);
3. ``present``: CreateInstance when it is missing, else ModifyInstance with only the
   properties that differ (and a PropertyList of just those names), nothing when none
   differs; ``absent``: DeleteInstance when it exists;
4. in check mode step 3 is only planned; the diff shows the changed properties before and
   after.
"""

from .cim_obj import CIMInstance
from .convert import instance_to_dict, path_to_dict
from .exceptions import CIMError, WBEMValueError
from .schema import (INVALID_PARAMETER, instance_path, is_key, is_not_found, key_property,
                     json_value, typed_properties, values_equal)
from .nocasedict import NocaseDict


def get_instance(conn, path):
    """The instance at ``path``, or ``None`` when the server says CIM_ERR_NOT_FOUND."""
    try:
        return conn.GetInstance(path, LocalOnly=False)
    except CIMError as exc:
        if is_not_found(exc):
            return None
        raise


def changed_properties(desired, current):
    """Names (desired spelling) of the typed ``desired`` properties that differ in ``current``."""
    changed = []
    for name, prop in desired.items():
        now = current.properties.get(name) if current is not None else None
        now_value = now.value if now is not None else None
        if now is None and prop.value is None and current is not None:
            # not returned by the server and wanted NULL: nothing to change
            continue
        if not values_equal(prop.value, now_value, prop.type):
            changed.append(prop.name)
    return changed


def _check_key_properties(klass, path, desired):
    """Key properties may appear in ``properties`` only with the value of the key."""
    for name in list(desired.keys()):
        prop = klass.properties[name]
        if is_key(prop):
            if not values_equal(desired[name].value, path.keybindings.get(name)):
                raise WBEMValueError('property %s is a key of %s: it cannot differ from '
                                     'keys.%s' % (prop.name, klass.classname, prop.name),
                                     error_name=INVALID_PARAMETER)
            del desired[name]


def _plain(props):
    return dict((prop.name, json_value(prop.value)) for prop in props)


def ensure_instance(conn, cache, classname, keys, properties=None, state='present',
                    namespace=None, check_mode=False):
    """Bring one instance into ``state``; returns the module result (without ``msg``).

    Result keys: ``changed``, ``action`` (``create``, ``modify``, ``delete`` or ``None``),
    ``path`` (path dict), ``instance`` (instance dict after the run, ``None`` when absent; in
    check mode the instance as it would be), ``changed_properties`` and ``diff``.
    """
    namespace = (namespace or conn.default_namespace).strip('/')
    klass = cache.get(classname, namespace)
    path = instance_path(klass, keys, namespace)
    desired = typed_properties(klass, properties) if state == 'present' else NocaseDict()
    _check_key_properties(klass, path, desired)
    current = get_instance(conn, path)
    header = path.to_wbem_uri()
    result = {'changed': False, 'action': None, 'path': path_to_dict(path),
              'instance': instance_to_dict(current) if current is not None else None,
              'changed_properties': [],
              'diff': {'before': {}, 'after': {}, 'before_header': header,
                       'after_header': header}}

    if state == 'absent':
        if current is None:
            return result
        result.update(changed=True, action='delete', instance=None)
        result['diff']['before'] = dict(
            (name, json_value(prop.value)) for name, prop in current.properties.items()
            if prop.value is not None)
        if not check_mode:
            conn.DeleteInstance(path)
        return result

    if current is None:
        new_props = [key_property(klass, name, value)
                     for name, value in path.keybindings.items()]
        new_props.extend(desired.values())
        new = CIMInstance(klass.classname, properties=new_props, path=path.copy())
        result.update(changed=True, action='create',
                      changed_properties=[prop.name for prop in desired.values()])
        result['diff']['after'] = _plain(new_props)
        if check_mode:
            result['instance'] = instance_to_dict(new)
            return result
        created = conn.CreateInstance(new, namespace=namespace)
        if created.namespace is None:
            created.namespace = namespace
        result['path'] = path_to_dict(created)
        after = get_instance(conn, created)
        result['instance'] = instance_to_dict(after) if after is not None else None
        return result

    names = changed_properties(desired, current)
    if not names:
        return result
    changes = [desired[name] for name in names]
    before = {}
    for name in names:
        now = current.properties.get(name)
        before[desired[name].name] = json_value(now.value) if now is not None else None
    result.update(changed=True, action='modify', changed_properties=names)
    result['diff']['before'] = before
    result['diff']['after'] = _plain(changes)
    if check_mode:
        predicted = current.copy()
        for prop in changes:
            predicted.properties[prop.name] = prop.copy()
        result['instance'] = instance_to_dict(predicted)
        return result
    modified = CIMInstance(klass.classname, properties=[prop.copy() for prop in changes],
                           path=current.path.copy() if current.path is not None
                           else path.copy())
    conn.ModifyInstance(modified, PropertyList=names)
    after = get_instance(conn, path)
    result['instance'] = instance_to_dict(after) if after is not None else None
    return result
