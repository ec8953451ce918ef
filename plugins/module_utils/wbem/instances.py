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
   after;
5. after every write the instance is read back (:mod:`.verify`): after a create and a modify
   every wanted property and every key must be there with its value, and every property the
   instance had must still be there; after a delete GetInstance must answer
   CIM_ERR_NOT_FOUND. Some brokers keep only the properties of the PropertyList of a
   ModifyInstance and drop the others, keys included: then a ModifyInstance of the complete
   instance (no PropertyList) tries to restore them; when that works the result carries a
   warning, else the task fails naming the lost properties. ``modify_method='full_instance'``
   sends the complete instance without a PropertyList in the first place.
"""

from .cim_obj import CIMInstance, CIMInstanceName
from .convert import instance_to_dict, path_to_dict
from .exceptions import CIMError, WBEMValueError
from .schema import (INVALID_PARAMETER, instance_path, is_key, is_not_found, key_property,
                     json_value, paths_equal, typed_properties, values_equal)
from .nocasedict import NocaseDict
from ..common.errors import HostsecError
from .verify import (INSTANCE_LOST, NOT_APPLIED, NOT_DELETED, PROPERTIES_LOST,
                     WriteVerificationError, attach_written)

MODIFY_METHODS = ('property_list', 'full_instance')


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


def _key_equal(one, two):
    if isinstance(one, CIMInstanceName) or isinstance(two, CIMInstanceName):
        return paths_equal(one, two)
    if values_equal(one, two):
        return True
    # keybindings of a returned path may be untyped (DSP0201 KEYVALUE): 5 == "5"
    return not isinstance(one, bool) and not isinstance(two, bool) and \
        isinstance(one, (int, float, str)) and isinstance(two, (int, float, str)) and \
        str(one) == str(two)


def compare_instance(after, path, wanted, kept=()):
    """What the read-back instance ``after`` lacks; ``(lost, differ)`` lists of names.

    ``wanted``: typed properties written (a NULL value must read back NULL or absent);
    the keys of ``path`` must be there with their values; ``kept``: names of properties that
    had a value before the write and must still have one. ``after is None``: all is lost.
    """
    lost, differ = [], []
    names = list(path.keybindings) + [prop.name for prop in wanted.values()
                                      if prop.value is not None]
    for name in kept:
        if name not in names and name not in wanted:
            names.append(name)
    if after is None:
        return names, []
    for name in names:
        prop = after.properties.get(name)
        if prop is None or prop.value is None:
            lost.append(name)
    for name, value in path.keybindings.items():
        prop = after.properties.get(name)
        if prop is not None and prop.value is not None and not _key_equal(value, prop.value):
            differ.append(name)
    for prop in wanted.values():
        now = after.properties.get(prop.name)
        now_value = now.value if now is not None else None
        if prop.value is None:
            if now_value is not None:
                differ.append(prop.name)
        elif now_value is not None and not values_equal(prop.value, now_value, prop.type):
            differ.append(prop.name)
    return lost, differ


def _verification_error(operation, uri, after, lost, differ, note=''):
    exc = _verification_error_of(operation, uri, after, lost, differ, note)
    exc.instance = after
    return exc


def _verification_error_of(operation, uri, after, lost, differ, note):
    if after is None:
        return WriteVerificationError(
            '%s of %s succeeded, but GetInstance of that path then answers CIM_ERR_NOT_FOUND: '
            'the server lost the instance or changed its keys; lost: %s%s'
            % (operation, uri, ', '.join(lost) or 'the instance', note),
            error_name=INSTANCE_LOST, details={'lost_properties': lost})
    parts = []
    if lost:
        parts.append('lacks %s' % ', '.join(lost))
    if differ:
        parts.append('has other values than written for %s' % ', '.join(differ))
    return WriteVerificationError(
        '%s of %s succeeded, but the instance read back %s%s'
        % (operation, uri, ' and '.join(parts), note),
        error_name=PROPERTIES_LOST if lost else NOT_APPLIED,
        details={'lost_properties': lost, 'differing_properties': differ})


def _full_instance(current, path, changes):
    full = current.copy()
    full.path = current.path.copy() if current.path is not None else path.copy()
    for prop in changes:
        full.properties[prop.name] = prop.copy()
    return full


def send_modify(conn, current, path, changes, names, modify_method):
    """The ModifyInstance of ``changes``; returns the name of the operation for messages."""
    full = _full_instance(current, path, changes)
    if modify_method == 'full_instance':
        conn.ModifyInstance(full)
        return 'ModifyInstance (complete instance, no PropertyList)'
    partial = CIMInstance(current.classname, properties=[prop.copy() for prop in changes],
                          path=full.path.copy())
    conn.ModifyInstance(partial, PropertyList=names)
    return 'ModifyInstance with PropertyList [%s]' % ', '.join(names)


def verify_modify(conn, current, path, changes, operation, modify_method):
    """Read back after :func:`send_modify`, restore dropped properties with a ModifyInstance
    of the complete instance; returns ``(after, restored names, warnings)``.

    Raises :class:`WriteVerificationError` when the instance is not as written."""
    full = _full_instance(current, path, changes)
    wanted = NocaseDict((prop.name, prop) for prop in changes)
    kept = [name for name, prop in current.properties.items() if prop.value is not None]
    uri = path.to_wbem_uri()
    after = get_instance(conn, path)
    lost, differ = compare_instance(after, path, wanted, kept)
    if not lost or modify_method == 'full_instance':
        if lost or differ:
            raise _verification_error(operation, uri, after, lost, differ)
        return after, [], []
    # The server dropped what the PropertyList did not name: send the complete instance.
    dropped = lost
    try:
        conn.ModifyInstance(full)
    except CIMError as exc:
        raise _verification_error(
            operation, uri, after, lost, differ,
            '; the server drops the properties a PropertyList does not name; restoring them '
            'with a ModifyInstance of the complete instance failed (%s: %s); '
            'modify_method=full_instance avoids this' % (exc.error_name, exc.message))
    after = get_instance(conn, path)
    lost, differ = compare_instance(after, path, wanted, kept)
    if lost or differ:
        raise _verification_error(
            operation, uri, after, lost, differ,
            ' (also after a ModifyInstance of the complete instance); the server drops the '
            'properties a PropertyList does not name')
    warning = ('the server dropped the properties that the PropertyList of ModifyInstance did '
               'not name (%s) from %s; they were restored with a ModifyInstance of the complete '
               'instance. Use modify_method=full_instance for this server.'
               % (', '.join(dropped), uri))
    return after, dropped, [warning]


def ensure_instance(conn, cache, classname, keys, properties=None, state='present',
                    namespace=None, check_mode=False, modify_method='property_list'):
    """Bring one instance into ``state``; returns the module result (without ``msg``).

    Result keys: ``changed``, ``action`` (``create``, ``modify``, ``delete`` or ``None``),
    ``path`` (path dict), ``instance`` (instance dict after the run, ``None`` when absent; in
    check mode the instance as it would be), ``changed_properties``, ``lost_properties``
    (dropped by the server and restored; see :func:`verify_modify`), ``diff`` and, when
    there is something to warn about, ``warnings``.

    An error after a write carries the result facts of that write (``changed: true``, see
    :func:`.verify.attach_written`).
    """
    if modify_method not in MODIFY_METHODS:
        raise WBEMValueError('modify_method must be one of %s' % ', '.join(MODIFY_METHODS),
                             error_name=INVALID_PARAMETER)
    namespace = (namespace or conn.default_namespace).strip('/')
    klass = cache.get(classname, namespace)
    path = instance_path(klass, keys, namespace)
    desired = typed_properties(klass, properties) if state == 'present' else NocaseDict()
    _check_key_properties(klass, path, desired)
    current = get_instance(conn, path)
    header = path.to_wbem_uri()
    result = {'changed': False, 'action': None, 'path': path_to_dict(path),
              'instance': instance_to_dict(current) if current is not None else None,
              'changed_properties': [], 'lost_properties': [],
              'diff': {'before': {}, 'after': {}, 'before_header': header,
                       'after_header': header}}

    def written(exc, after=None):
        """``exc`` with the facts of the write (changed, the instance as read back)."""
        facts = dict((key, value) for key, value in result.items() if key != 'diff')
        facts['instance'] = instance_to_dict(after) if after is not None else None
        facts['lost_properties'] = exc.details.get('lost_properties', []) \
            if isinstance(exc, HostsecError) else []
        return attach_written(exc, facts)

    if state == 'absent':
        if current is None:
            return result
        result.update(changed=True, action='delete', instance=None)
        result['diff']['before'] = dict(
            (name, json_value(prop.value)) for name, prop in current.properties.items()
            if prop.value is not None)
        if not check_mode:
            conn.DeleteInstance(path)
            try:
                still = get_instance(conn, path)
                if still is not None:
                    raise WriteVerificationError(
                        'DeleteInstance of %s succeeded, but GetInstance still finds the '
                        'instance' % header, error_name=NOT_DELETED)
            except HostsecError as exc:
                raise written(exc, None)
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
        after = None
        try:
            after = get_instance(conn, created)
            lost, differ = compare_instance(after, created, desired)
            if lost or differ:
                raise _verification_error('CreateInstance', created.to_wbem_uri(), after,
                                          lost, differ)
        except HostsecError as exc:
            raise written(exc, getattr(exc, 'instance', after))
        result['instance'] = instance_to_dict(after)
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
    operation = send_modify(conn, current, path, changes, names, modify_method)
    try:
        after, lost, warnings = verify_modify(conn, current, path, changes, operation,
                                              modify_method)
    except HostsecError as exc:
        raise written(exc, getattr(exc, 'instance', None))
    result.update(instance=instance_to_dict(after), lost_properties=lost)
    if warnings:
        result['warnings'] = warnings
    return result
