# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owned indication subscriptions (DSP1054) for ``wbem_subscription``.

A subscription is three instances in the Interop namespace, managed as one unit:

- a ``CIM_IndicationFilter`` (query, query language, source namespaces),
- a listener destination (``CIM_ListenerDestinationCIMXML`` by default, or the legacy
  ``CIM_IndicationHandlerCIMXML``) with the listener URL and protocol,
- the ``CIM_IndicationSubscription`` association that binds them.

Filter and destination are named ``hostsec:<owner>:<name>``, so several playbooks (owners)
can each keep their own subscriptions on one server without touching each other's or the
vendor's. Only objects with this owner's prefix are ever modified or deleted, and a
subscription only when both of its ends belong to the owner.

A run that need not list the owner's subscriptions (``list_owned=False``) first reads the
three objects of the subscription by their paths (one GetInstance each; the keys of filter
and destination name the server's object manager, read once per endpoint and run). When all
three are there as wanted, that is the whole run: nothing is enumerated and nothing written.
Otherwise (and for ``state=absent``, and when ``list_owned`` asks for the owner's other
subscriptions) the run enumerates the three classes once,
compares the managed properties and writes only what differs: CreateInstance for what is
missing, ModifyInstance with the changed properties, and - where the server does not allow
modifying (CIM_ERR_NOT_SUPPORTED, as OpenPegasus for filters and destinations) - delete and
re-create, subscription first.

Every write is checked by reading back (:mod:`.verify`, :func:`.instances.compare_instance`):
a created object must be there with its keys and properties, a modified one with the new
values and all it had before, a deleted one must be gone. When a write fails or does not
verify after other writes succeeded, the error carries ``changed: true``, the actions done
and the objects created (``created``), and its message names what was written and what failed.
"""

import re

from .cim_obj import CIMInstance, CIMInstanceName
from .convert import instance_to_dict
from .exceptions import CIMError, WBEMValueError
from .info import find_interop
from .instances import (changed_properties, compare_instance, get_instance, send_modify,
                        verify_modify)
from .schema import INVALID_PARAMETER, json_value, key_property, paths_equal, typed_properties
from .verify import INSTANCE_LOST, NOT_APPLIED, NOT_DELETED, PROPERTIES_LOST, \
    WriteVerificationError, attach_written
from ..common.errors import HostsecError

PREFIX = 'hostsec'
FILTER_CLASS = 'CIM_IndicationFilter'
SUBSCRIPTION_CLASS = 'CIM_IndicationSubscription'
DESTINATION_BASE = 'CIM_ListenerDestination'
DESTINATION_CLASSES = ('CIM_ListenerDestinationCIMXML', 'CIM_IndicationHandlerCIMXML')
HANDLER_BASE = 'CIM_IndicationHandler'

PROTOCOLS = {'other': 1, 'cim-xml': 2, 'sm-clp': 3, 'ws-management': 4, 'wsdm': 5}
PERSISTENCE = {'other': 1, 'permanent': 2, 'transient': 3}
SUBSCRIPTION_STATES = {'enabled': 2, 'disabled': 4}
ON_FATAL_ERROR = {'ignore': 2, 'disable': 3, 'remove': 4}

CIM_ERR_NOT_SUPPORTED = 7
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._@-]*$')


def check_identifier(value, what):
    if not isinstance(value, str) or not _NAME.match(value):
        raise WBEMValueError('%s %r must start with a letter or digit and contain only letters, '
                             'digits, ".", "_", "@" and "-"' % (what, value),
                             error_name=INVALID_PARAMETER)
    return value


def owner_prefix(owner):
    return '%s:%s:' % (PREFIX, check_identifier(owner, 'owner'))


def object_name(owner, name):
    """The Name of the filter and of the destination of subscription ``name`` of ``owner``."""
    return owner_prefix(owner) + check_identifier(name, 'name')


class SubscriptionManager(object):
    """The owned subscriptions of one owner on one server (one module run)."""

    def __init__(self, conn, cache, owner, interop_namespace=None, check_mode=False,
                 list_owned=True):
        self.conn = conn
        self.list_owned = list_owned
        #: True once the three classes were enumerated (owned_names() knows all of them)
        self.listed = False
        self.cache = cache
        self.owner = owner
        self.prefix = owner_prefix(owner)
        self.check_mode = check_mode
        self._interop = interop_namespace.strip('/') if interop_namespace else None
        self._managers = None
        self.actions = []
        self.created = []
        self.warnings = []
        self._doing = None
        self.filters = self.destinations = self.subscriptions = None

    # ------------------------------------------------------------ reading

    @property
    def interop(self):
        if self._interop is None:
            self._interop, self._managers = find_interop(self.conn)
        return self._interop

    def _system_keys(self, interop=None):
        """SystemCreationClassName and SystemName of the server's object manager (what an
        earlier task of the run learned about the endpoint, else read in ``interop`` or the
        Interop namespace found: memory.py)."""
        known = getattr(self.conn, 'known_system', None)
        if known:
            return tuple(known)
        if self._managers is None:
            try:
                self._managers = self.conn.EnumerateInstances('CIM_ObjectManager',
                                                              namespace=interop or self.interop)
            except CIMError:
                self._managers = []
        for manager in self._managers:
            if manager.get('SystemName'):
                keys = (str(manager.get('SystemCreationClassName') or 'CIM_ComputerSystem'),
                        str(manager.get('SystemName')))
                self.conn.known_system = list(keys)
                return keys
        return 'CIM_ComputerSystem', self.conn.host.rsplit(':', 1)[0].strip('[]')

    def _enumerate(self, classname):
        return list(self.conn.IterEnumerateInstances(classname, namespace=self.interop,
                                                     DeepInheritance=True))

    def load(self):
        self.filters = self._enumerate(FILTER_CLASS)
        self.destinations = self._enumerate(DESTINATION_BASE)
        self.subscriptions = self._enumerate(SUBSCRIPTION_CLASS)
        self.listed = True

    def _in_place(self, object_name_, wanted, destination_class):
        """The read-only way of a run that changes nothing: filter, destination and subscription
        read by path (one GetInstance each) and compared with ``wanted``.

        ``(before, after)`` when all three are there as wanted; ``None`` when one is missing,
        differs, lacks a wanted property or cannot be read this way (another SystemName, a
        server that keys its references otherwise, an error): the caller then enumerates and
        goes the full way, which decides and reports. The desired values are typed as the
        properties of the instances read (no GetClass)."""
        try:
            interop = (self._interop or getattr(self.conn, 'known_interop', None)
                       or self.interop)
            system_class, system_name = self._system_keys(interop)
            ends = []
            for classname in (FILTER_CLASS, destination_class):
                path = CIMInstanceName(classname, [
                    ('SystemCreationClassName', system_class), ('SystemName', system_name),
                    ('CreationClassName', classname), ('Name', object_name_)],
                    namespace=interop)
                inst = get_instance(self.conn, path)
                # the namespace answered: the listing, if it comes to that, need not probe
                self._interop = interop
                if inst is None:
                    return None
                ends.append(inst)
            refs = []
            for role, end in zip(('Filter', 'Handler'), ends):
                ref = end.path.copy()
                ref.host = None
                ref.namespace = ref.namespace or interop
                refs.append((role, ref))
            sub = get_instance(self.conn, CIMInstanceName(SUBSCRIPTION_CLASS, refs,
                                                          namespace=interop))
        except (CIMError, WBEMValueError):
            return None
        if sub is None:
            return None
        filter_inst, dest = ends
        for inst, values in ((filter_inst, wanted['filter']), (dest, wanted['destination']),
                             (sub, wanted['subscription'])):
            values = dict((key, value) for key, value in values.items() if value is not None)
            if any(key not in inst.properties for key in values):
                return None
            try:
                desired = typed_properties(inst, values)
            except HostsecError:
                return None
            if changed_properties(desired, inst):
                return None
        self.filters, self.destinations, self.subscriptions = [filter_inst], [dest], [sub]
        view = self.describe(object_name_)
        return view, dict(view)

    def _owned(self, instances):
        return [inst for inst in instances
                if str(inst.get('Name') or '').startswith(self.prefix)]

    def _find(self, instances, name):
        for inst in instances:
            if inst.get('Name') == name:
                return inst
        return None

    def _is_owned_path(self, path, instances):
        return any(paths_equal(path, inst.path) for inst in self._owned(instances))

    def owned_subscriptions(self):
        """Subscriptions whose filter and destination both belong to this owner."""
        return [sub for sub in self.subscriptions
                if self._is_owned_path(sub.get('Filter'), self.filters)
                and self._is_owned_path(sub.get('Handler'), self.destinations)]

    def _bound(self, path, role):
        return [sub for sub in self.owned_subscriptions() if paths_equal(sub.get(role), path)]

    # ------------------------------------------------------------ writing

    def _record(self, action, inst_or_class, name, properties=None):
        classname = inst_or_class if isinstance(inst_or_class, str) else inst_or_class.classname
        entry = {'action': action, 'class': classname, 'name': name}
        if properties is not None:
            entry['properties'] = properties
        self.actions.append(entry)

    def _start(self, action, inst_or_class):
        """Remember the write about to be done, for the message if it fails."""
        classname = inst_or_class if isinstance(inst_or_class, str) else inst_or_class.classname
        self._doing = '%s %s' % (action, classname)

    def written_facts(self):
        """The result facts of the writes done so far (for an error after a write)."""
        return {'changed': True, 'actions': list(self.actions), 'created': list(self.created)}

    def _fail_after_writes(self, exc, object_name_):
        """``exc`` with what was written before it (when anything was)."""
        if self.check_mode or not any(a['action'] in ('create', 'modify', 'delete')
                                      for a in self.actions):
            return exc
        done = ', '.join('%s %s' % (a['action'], a['class']) for a in self.actions)
        return attach_written(exc, self.written_facts(),
                              '%s: written: %s; failed: %s' % (object_name_, done,
                                                               self._doing or 'reading back'))

    def _delete(self, inst, name):
        if not self.check_mode:
            self._start('delete', inst)
            self.conn.DeleteInstance(inst.path)
            if get_instance(self.conn, inst.path) is not None:
                raise WriteVerificationError(
                    'DeleteInstance of %s succeeded, but GetInstance still finds it'
                    % inst.path.to_wbem_uri(), error_name=NOT_DELETED)
        self._record('delete', inst, name)
        for collection in (self.filters, self.destinations, self.subscriptions):
            if inst in collection:
                collection.remove(inst)

    def _create(self, classname, keys, desired, name):
        klass = self.cache.get(classname, self.interop)
        props = [key_property(klass, key, value) for key, value in keys]
        props.extend(prop.copy() for prop in desired.values())
        new = CIMInstance(klass.classname, properties=props)
        if self.check_mode:
            self._record('create', classname, name, sorted(desired.keys()))
            return new
        self._start('create', classname)
        path = self.conn.CreateInstance(new, namespace=self.interop)
        if path.namespace is None:
            path.namespace = self.interop
        self._record('create', classname, name, sorted(desired.keys()))
        self.created.append({'class': klass.classname, 'name': name,
                             'path': path.to_wbem_uri()})
        self._doing = 'reading back the new %s' % klass.classname
        created = get_instance(self.conn, path)
        lost, differ = compare_instance(created, path, desired)
        if created is None:
            raise WriteVerificationError(
                'CreateInstance of %s succeeded, but GetInstance of the path it returned (%s) '
                'answers CIM_ERR_NOT_FOUND' % (klass.classname, path.to_wbem_uri()),
                error_name=INSTANCE_LOST)
        if lost or differ:
            raise WriteVerificationError(
                'CreateInstance of %s succeeded, but the instance read back %s'
                % (path.to_wbem_uri(), ' and '.join(
                    part for part in ('lacks %s' % ', '.join(lost) if lost else '',
                                      'has other values than written for %s'
                                      % ', '.join(differ) if differ else '') if part)),
                error_name=PROPERTIES_LOST if lost else NOT_APPLIED,
                details={'lost_properties': lost, 'differing_properties': differ})
        return created

    def _modify(self, inst, desired, names, name):
        """ModifyInstance with the changed properties, checked by reading back; the instance
        read back, or ``None`` when the server refuses (CIM_ERR_NOT_SUPPORTED)."""
        if self.check_mode:
            self._record('modify', inst, name, names)
            updated = inst.copy()
            for prop_name in names:
                updated.properties[prop_name] = desired[prop_name].copy()
            return updated
        changes = [desired[n] for n in names]
        self._start('modify', inst)
        try:
            operation = send_modify(self.conn, inst, inst.path, changes, names,
                                    'property_list')
        except CIMError as exc:
            if exc.status_code != CIM_ERR_NOT_SUPPORTED:
                raise
            self._record('modify refused (CIM_ERR_NOT_SUPPORTED)', inst, name, names)
            return None
        self._record('modify', inst, name, names)
        self._doing = 'reading back the modified %s' % inst.classname
        after, _restored, warnings = verify_modify(self.conn, inst, inst.path, changes,
                                                   operation, 'property_list')
        self.warnings.extend(warnings)
        return after

    def _ensure_end(self, kind, classname, existing, desired, name):
        """Filter or destination: create, modify, or replace (subscriptions first)."""
        if existing is not None and existing.classname.lower() != classname.lower():
            for sub in self._bound(existing.path, 'Filter' if kind == 'filter' else 'Handler'):
                self._delete(sub, name)
            self._delete(existing, name)
            existing = None
        if existing is None:
            system_class, system_name = self._system_keys()
            keys = [('SystemCreationClassName', system_class), ('SystemName', system_name),
                    ('CreationClassName', classname), ('Name', name)]
            return self._create(classname, keys, desired, name), True
        names = changed_properties(desired, existing)
        if not names:
            return existing, False
        updated = self._modify(existing, desired, names, name)
        if updated is not None:
            return updated, True
        for sub in self._bound(existing.path, 'Filter' if kind == 'filter' else 'Handler'):
            self._delete(sub, name)
        self._delete(existing, name)
        return self._ensure_end(kind, classname, None, desired, name)

    def _desired(self, classname, values):
        klass = self.cache.get(classname, self.interop)
        wanted = dict((key, value) for key, value in values.items()
                      if value is not None and key in klass.properties)
        return typed_properties(klass, wanted)

    # ------------------------------------------------------------ the unit

    def ensure(self, name, spec):
        """Ensure subscription ``name``: ``spec`` has query, query_language,
        source_namespaces, destination, protocol, persistence, destination_class,
        subscription_state, on_fatal_error_policy."""
        object_name_ = object_name(self.owner, name)
        namespaces = list(spec['source_namespaces'])
        wanted = {
            'filter': {'Query': spec['query'], 'QueryLanguage': spec['query_language'],
                       'SourceNamespaces': namespaces,
                       'SourceNamespace': namespaces[0] if namespaces else None},
            'destination': {'Destination': spec['destination'],
                            'Protocol': PROTOCOLS[spec.get('protocol') or 'cim-xml'],
                            'PersistenceType': PERSISTENCE[spec.get('persistence')
                                                           or 'permanent']},
            'subscription': {'SubscriptionState': SUBSCRIPTION_STATES[
                spec.get('subscription_state') or 'enabled']}}
        if spec.get('on_fatal_error_policy'):
            wanted['subscription']['OnFatalErrorPolicy'] = \
                ON_FATAL_ERROR[spec['on_fatal_error_policy']]
        destination_class = spec.get('destination_class') or DESTINATION_CLASSES[0]
        if self.filters is None and not self.list_owned:
            in_place = self._in_place(object_name_, wanted, destination_class)
            if in_place is not None:
                return in_place
        if not self.listed:
            self.load()
        before = self.describe(object_name_)
        filter_props = self._desired(FILTER_CLASS, wanted['filter'])
        dest_props = self._desired(destination_class, wanted['destination'])
        sub_props = self._desired(SUBSCRIPTION_CLASS, wanted['subscription'])

        try:
            self._write(object_name_, filter_props, dest_props, sub_props, destination_class)
        except HostsecError as exc:
            raise self._fail_after_writes(exc, object_name_)
        if self.actions and not self.check_mode:
            self.load()
        after = self.describe(object_name_) if not self.check_mode else \
            self._predicted(before, filter_props, dest_props, sub_props)
        return before, after

    def _write(self, object_name_, filter_props, dest_props, sub_props, destination_class):
        """The writes of :meth:`ensure`: filter, destination, subscription."""
        filter_inst, _changed = self._ensure_end(
            'filter', FILTER_CLASS, self._find(self.filters, object_name_), filter_props,
            object_name_)
        dest_inst, _changed = self._ensure_end(
            'destination', destination_class, self._find(self.destinations, object_name_),
            dest_props, object_name_)
        subscription = None
        if filter_inst.path is not None and dest_inst.path is not None:
            for sub in self.subscriptions:
                if paths_equal(sub.get('Filter'), filter_inst.path) and \
                        paths_equal(sub.get('Handler'), dest_inst.path):
                    subscription = sub
                    break
        if subscription is not None:
            names = changed_properties(sub_props, subscription)
            if names and self._modify(subscription, sub_props, names, object_name_) is None:
                self._delete(subscription, object_name_)
                subscription = None
        if subscription is None:
            klass = self.cache.get(SUBSCRIPTION_CLASS, self.interop)
            refs = []
            for role, end in (('Filter', filter_inst), ('Handler', dest_inst)):
                path = end.path.copy() if end.path is not None else None
                if path is not None:
                    path.host = None
                    path.namespace = path.namespace or self.interop
                refs.append((klass.properties[role].name, path))
            self._create(SUBSCRIPTION_CLASS, refs, sub_props, object_name_)

    def _predicted(self, before, filter_props, dest_props, sub_props):
        after = dict(before)
        for key, props in (('filter', filter_props), ('destination', dest_props),
                           ('subscription', sub_props)):
            view = dict(after.get(key) or {})
            view.update((prop.name, json_value(prop.value)) for prop in props.values())
            after[key] = view
        return after

    def remove(self, name=None):
        """Remove subscription ``name`` of this owner, or all of them (``name=None``)."""
        if not self.listed:
            self.load()
        if name is not None:
            wanted = object_name(self.owner, name)
            filters = [f for f in self._owned(self.filters) if f.get('Name') == wanted]
            destinations = [d for d in self._owned(self.destinations) if d.get('Name') == wanted]
        else:
            filters = self._owned(self.filters)
            destinations = self._owned(self.destinations)
        removed = sorted(set(inst.get('Name') for inst in filters + destinations))
        try:
            for sub in list(self.owned_subscriptions()):
                if any(paths_equal(sub.get('Filter'), f.path) for f in filters) or \
                        any(paths_equal(sub.get('Handler'), d.path) for d in destinations):
                    self._delete(sub, self._name_of(sub))
            for inst in filters + destinations:
                self._delete(inst, inst.get('Name'))
        except HostsecError as exc:
            raise self._fail_after_writes(exc, object_name(self.owner, name) if name
                                          else 'subscriptions of %s' % self.owner)
        return removed

    def _name_of(self, subscription):
        for inst in self.filters:
            if paths_equal(subscription.get('Filter'), inst.path):
                return inst.get('Name')
        return None

    def _objects_of(self, object_name_):
        """Filter, destination and the subscription binding them (each ``None`` when missing)."""
        filter_inst = self._find(self.filters, object_name_)
        dest = self._find(self.destinations, object_name_)
        sub = None
        if filter_inst is not None and dest is not None:
            for candidate in self.subscriptions:
                if paths_equal(candidate.get('Filter'), filter_inst.path) and \
                        paths_equal(candidate.get('Handler'), dest.path):
                    sub = candidate
        return filter_inst, dest, sub

    # ------------------------------------------------------------ results

    def describe(self, object_name_):
        """The managed properties of the three objects of a subscription (for the diff)."""
        filter_inst, dest, sub = self._objects_of(object_name_)
        view = {}
        for key, inst, names in (
                ('filter', filter_inst, ('Query', 'QueryLanguage', 'SourceNamespaces')),
                ('destination', dest, ('Destination', 'Protocol', 'PersistenceType')),
                ('subscription', sub, ('SubscriptionState', 'OnFatalErrorPolicy'))):
            if inst is not None:
                view[key] = dict((n, json_value(inst.get(n))) for n in names if n in inst)
                if key == 'destination':
                    view[key]['CreationClassName'] = inst.classname
        return view

    def instances(self, object_name_):
        """Instance dicts of filter, destination and subscription (``None`` when missing)."""
        filter_inst, dest, sub = self._objects_of(object_name_)
        return dict((key, instance_to_dict(inst) if inst is not None else None)
                    for key, inst in (('filter', filter_inst), ('destination', dest),
                                      ('subscription', sub)))

    def owned_names(self):
        """Names (without prefix) of this owner's filters and destinations on the server;
        ``None`` when the run did not list them (:meth:`_in_place`)."""
        if not self.listed:
            return None
        names = set(inst.get('Name') for inst in self._owned(self.filters) +
                    self._owned(self.destinations))
        return sorted(name[len(self.prefix):] for name in names)
