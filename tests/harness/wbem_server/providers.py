# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pywbem_mock user providers of the test CIMOM: methods and indication subscriptions.

Method providers
    ``RequestStateChange`` (CIM_EnabledLogicalElement) on systems, processors and services,
    ``StartService``/``StopService`` on services, and the test methods of HOSTSEC_AllTypes:
    the static ``Echo`` (returns its input parameters as output parameters) and the instance
    method ``Increment``.

Indication subscription providers (Interop namespace only, DMTF DSP1054 behaviour)
    CIM_IndicationFilter, CIM_ListenerDestinationCIMXML / CIM_IndicationHandlerCIMXML and
    CIM_IndicationSubscription: validation of the required properties, of the query and of the
    destination URL, default values the way real WBEM servers fill them in, no deletion of a
    filter or destination that a subscription still references (CIM_ERR_FAILED). Two quirks
    change them (see quirks.py): ``readonly_indications`` (filters and destinations cannot be
    modified, only SubscriptionState of subscriptions, as in OpenPegasus) and
    ``override_indication_keys`` (the server replaces SystemName and SystemCreationClassName
    of new filters and destinations by its own, as OpenPegasus does).
"""

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

from pywbem import (CIMError, CIMDateTime, CIMInstanceName, CIMParameter, Uint16, Uint32,
                    CIM_ERR_FAILED, CIM_ERR_INVALID_PARAMETER, CIM_ERR_NOT_SUPPORTED,
                    CIM_ERR_METHOD_NOT_AVAILABLE, CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED,
                    CIM_ERR_INVALID_QUERY)
from pywbem_mock import InstanceWriteProvider, MethodProvider

from . import query as query_engine

SYSTEM_CREATION_CLASS_NAME = 'CIM_ComputerSystem'

# RequestStateChange: requested state -> resulting EnabledState (None: not supported, 1).
_STATE_RESULTS = {2: 2, 3: 3, 4: 3, 6: 6, 10: 2, 11: 2, 7: None, 8: None, 9: None}


def _now():
    return CIMDateTime.now()


def _param_value(params, name):
    param = params.get(name)
    return None if param is None else param.value


class StateChangeProvider(MethodProvider):
    """RequestStateChange, StartService and StopService on the concrete managed classes."""

    provider_classnames = ['CIM_ComputerSystem', 'CIM_Processor', 'HOSTSEC_TestService',
                           'CIM_IndicationService', 'CIM_ObjectManager']

    def InvokeMethod(self, methodname, localobject, params):  # pylint: disable=invalid-name
        if isinstance(localobject, CIMInstanceName):
            name = methodname.lower()
            if name == 'requeststatechange':
                return self._request_state_change(localobject, params)
            if name in ('startservice', 'stopservice'):
                return self._start_stop(localobject, name == 'startservice')
        raise CIMError(CIM_ERR_METHOD_NOT_AVAILABLE,
                       'method %s is not implemented for %s' % (methodname, localobject.classname))

    def _update(self, path, change):
        store = self.cimrepository.get_instance_store(path.namespace)
        instance = store.get(path)
        change(instance)
        store.update(path, instance)

    def _request_state_change(self, path, params):
        job = CIMParameter('Job', 'reference', value=None)
        requested = _param_value(params, 'RequestedState')
        if requested is None or int(requested) not in _STATE_RESULTS:
            return (Uint32(5), [job])
        if _param_value(params, 'TimeoutPeriod') is not None:
            return (Uint32(4098), [job])
        result = _STATE_RESULTS[int(requested)]
        if result is None:
            return (Uint32(1), [job])

        def change(instance):
            if instance.get('EnabledState') != result:
                instance['TimeOfLastStateChange'] = _now()
            instance['EnabledState'] = Uint16(result)
            instance['RequestedState'] = Uint16(int(requested))
            if 'Started' in instance:
                instance['Started'] = result == 2

        self._update(path, change)
        return (Uint32(0), [job])

    def _start_stop(self, path, start):
        store = self.cimrepository.get_instance_store(path.namespace)
        if 'Started' not in store.get(path):
            return (Uint32(1), [])

        def change(instance):
            if bool(instance.get('Started')) != start:
                instance['TimeOfLastStateChange'] = _now()
            instance['Started'] = start
            instance['EnabledState'] = Uint16(2 if start else 3)

        self._update(path, change)
        return (Uint32(0), [])


class AllTypesMethodProvider(MethodProvider):
    """HOSTSEC_AllTypes.Echo (static) and HOSTSEC_AllTypes.Increment."""

    provider_classnames = 'HOSTSEC_AllTypes'

    def InvokeMethod(self, methodname, localobject, params):  # pylint: disable=invalid-name
        name = methodname.lower()
        if name == 'echo':
            out = [CIMParameter(p.name, p.type, value=p.value, embedded_object=p.embedded_object,
                                is_array=p.is_array) for p in params.values()]
            return (Uint32(len(out)), out)
        if name == 'increment':
            if not isinstance(localobject, CIMInstanceName):
                raise CIMError(CIM_ERR_INVALID_PARAMETER, 'Increment must be invoked on an instance')
            increment = _param_value(params, 'Increment')
            if increment is None:
                raise CIMError(CIM_ERR_INVALID_PARAMETER, 'Increment is required')
            store = self.cimrepository.get_instance_store(localobject.namespace)
            instance = store.get(localobject)
            value = int(instance.get('PUint32') or 0) + int(increment)
            if value > 0xFFFFFFFF:
                raise CIMError(CIM_ERR_INVALID_PARAMETER, 'PUint32 would overflow')
            instance['PUint32'] = Uint32(value)
            store.update(localobject, instance)
            return (Uint32(0), [CIMParameter('Value', 'uint32', value=Uint32(value))])
        raise CIMError(CIM_ERR_METHOD_NOT_AVAILABLE, 'method %s is not implemented' % methodname)


def _require(instance, names, namespace):
    for name in names:
        value = instance.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise CIMError(CIM_ERR_INVALID_PARAMETER,
                           'cannot create %s in %s: property %s is required'
                           % (instance.classname, namespace, name))


class _IndicationProviderBase(InstanceWriteProvider):
    """Common checks of the three indication subscription providers."""

    #: Properties a client may change with ModifyInstance (None: every non-key property).
    modifiable = None
    #: What stays modifiable under the readonly_indications quirk.
    modifiable_readonly = ()

    def __init__(self, cimrepository, quirks, system_name):
        super().__init__(cimrepository)
        self.quirks = quirks
        self.system_name = system_name

    def _check_interop(self, namespace, classname):
        if not self.is_interop_namespace(namespace):
            raise CIMError(CIM_ERR_NOT_SUPPORTED,
                           '%s instances can only be created in the Interop namespace (%s), not in %s'
                           % (classname, ', '.join(self.interop_namespace_names), namespace))

    def _fix_keys(self, instance):
        classname = instance.classname
        given = instance.get('CreationClassName')
        if given is not None and given.lower() != classname.lower():
            raise CIMError(CIM_ERR_INVALID_PARAMETER, 'CreationClassName %r does not match the class %s'
                           % (given, classname))
        instance['CreationClassName'] = classname
        override = self.quirks('override_indication_keys')
        if override or instance.get('SystemCreationClassName') is None:
            instance['SystemCreationClassName'] = SYSTEM_CREATION_CLASS_NAME
        if override or instance.get('SystemName') is None:
            instance['SystemName'] = override if isinstance(override, str) else self.system_name

    def _referencing_subscriptions(self, path):
        store = self.cimrepository.get_instance_store(path.namespace)
        found = []
        for inst in store.iter_values(copy=False):
            if inst.classname.lower() != 'cim_indicationsubscription':
                continue
            for name in ('Filter', 'Handler'):
                ref = inst.get(name)
                if ref is not None and _same_path(ref, path):
                    found.append(inst.path)
        return found

    def _check_modifiable(self, modified_instance):
        readonly = self.quirks('readonly_indications')
        allowed = self.modifiable_readonly if readonly else self.modifiable
        class_store = self.cimrepository.get_class_store(modified_instance.path.namespace)
        klass = class_store.get(modified_instance.classname, copy=False)
        current = self.cimrepository.get_instance_store(modified_instance.path.namespace).get(
            modified_instance.path, copy=False)
        for name, prop in modified_instance.properties.items():
            cls_prop = klass.properties.get(name)
            if cls_prop is not None and cls_prop.qualifiers.get('Key') is not None:
                continue
            if current.get(name) == prop.value:
                continue
            if allowed is not None and name.lower() not in [a.lower() for a in allowed]:
                raise CIMError(CIM_ERR_NOT_SUPPORTED if readonly else CIM_ERR_INVALID_PARAMETER,
                               'property %s of %s instances cannot be modified' % (name, modified_instance.classname))

    def DeleteInstance(self, InstanceName):  # pylint: disable=invalid-name
        subscriptions = self._referencing_subscriptions(InstanceName)
        if subscriptions:
            raise CIMError(CIM_ERR_FAILED, 'the instance %s is referenced by %d subscription(s); delete them first'
                           % (InstanceName, len(subscriptions)))
        return super().DeleteInstance(InstanceName)


def _same_path(left, right):
    if not isinstance(left, CIMInstanceName) or not isinstance(right, CIMInstanceName):
        return False
    left = left.copy()
    right = right.copy()
    left.host = right.host = None
    if left.namespace is None or right.namespace is None:
        left.namespace = right.namespace = None
    return left == right


class IndicationFilterProvider(_IndicationProviderBase):
    """CIM_IndicationFilter: Name, Query and QueryLanguage required; the query is checked."""

    provider_classnames = 'CIM_IndicationFilter'
    modifiable_readonly = ()

    def _check_query(self, instance, namespace):
        language = instance.get('QueryLanguage')
        if language.upper() not in query_engine.QUERY_LANGUAGES:
            raise CIMError(CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED,
                           'query language %r is not supported (supported: %s)'
                           % (language, ', '.join(query_engine.QUERY_LANGUAGES)))
        try:
            classname = query_engine.select_classname(instance.get('Query'))
        except query_engine.QueryError as exc:
            raise CIMError(CIM_ERR_INVALID_QUERY, 'invalid filter query: %s' % exc)
        class_store = self.cimrepository.get_class_store(namespace)
        if not class_store.object_exists(classname):
            raise CIMError(CIM_ERR_INVALID_QUERY, 'invalid filter query: class %s does not exist' % classname)
        klass = class_store.get(classname, copy=False)
        indication = klass.qualifiers.get('Indication')
        if indication is None or not indication.value:
            raise CIMError(CIM_ERR_INVALID_QUERY, 'invalid filter query: %s is not an indication class' % classname)

    def CreateInstance(self, namespace, new_instance):  # pylint: disable=invalid-name
        self._check_interop(namespace, new_instance.classname)
        _require(new_instance, ('Name', 'Query', 'QueryLanguage'), namespace)
        self._check_query(new_instance, namespace)
        self._fix_keys(new_instance)
        if new_instance.get('IndividualSubscriptionSupported') is None:
            new_instance['IndividualSubscriptionSupported'] = True
        return super().CreateInstance(namespace, new_instance)

    def ModifyInstance(self, modified_instance, IncludeQualifiers=None):  # pylint: disable=invalid-name
        self._check_modifiable(modified_instance)
        namespace = modified_instance.path.namespace
        current = self.cimrepository.get_instance_store(namespace).get(modified_instance.path)
        merged = current.copy()
        for name, prop in modified_instance.properties.items():
            merged[name] = prop.value
        _require(merged, ('Query', 'QueryLanguage'), namespace)
        self._check_query(merged, namespace)
        return super().ModifyInstance(modified_instance, IncludeQualifiers=IncludeQualifiers)


class ListenerDestinationProvider(_IndicationProviderBase):
    """CIM-XML listener destinations: Name and an http(s) Destination URL required."""

    provider_classnames = ['CIM_ListenerDestinationCIMXML', 'CIM_IndicationHandlerCIMXML']
    modifiable_readonly = ()

    @staticmethod
    def _check_destination(instance):
        destination = instance.get('Destination')
        parts = urlsplit(destination or '')
        if parts.scheme.lower() not in ('http', 'https') or not parts.hostname:
            raise CIMError(CIM_ERR_INVALID_PARAMETER,
                           'Destination %r is not an http:// or https:// URL of a CIM-XML listener' % destination)

    def CreateInstance(self, namespace, new_instance):  # pylint: disable=invalid-name
        self._check_interop(namespace, new_instance.classname)
        _require(new_instance, ('Name', 'Destination'), namespace)
        self._check_destination(new_instance)
        self._fix_keys(new_instance)
        if new_instance.get('Protocol') is None:
            new_instance['Protocol'] = Uint16(2)
        if new_instance.get('PersistenceType') is None:
            new_instance['PersistenceType'] = Uint16(2)
        return super().CreateInstance(namespace, new_instance)

    def ModifyInstance(self, modified_instance, IncludeQualifiers=None):  # pylint: disable=invalid-name
        self._check_modifiable(modified_instance)
        if 'Destination' in modified_instance:
            self._check_destination(modified_instance)
        return super().ModifyInstance(modified_instance, IncludeQualifiers=IncludeQualifiers)


class IndicationSubscriptionProvider(_IndicationProviderBase):
    """CIM_IndicationSubscription: Filter and Handler must reference existing instances."""

    provider_classnames = 'CIM_IndicationSubscription'
    modifiable = ('SubscriptionState', 'OtherSubscriptionState', 'OnFatalErrorPolicy',
                  'OtherOnFatalErrorPolicy', 'FailureTriggerTimeInterval', 'SubscriptionDuration',
                  'RepeatNotificationPolicy')
    modifiable_readonly = ('SubscriptionState',)

    def CreateInstance(self, namespace, new_instance):  # pylint: disable=invalid-name
        self._check_interop(namespace, new_instance.classname)
        _require(new_instance, ('Filter', 'Handler'), namespace)
        for name in ('Filter', 'Handler'):
            ref = new_instance[name]
            if ref.namespace is not None and not self.is_interop_namespace(ref.namespace):
                raise CIMError(CIM_ERR_INVALID_PARAMETER, '%s must reference an instance in the Interop namespace' % name)
            store = self.cimrepository.get_instance_store(namespace)
            probe = ref.copy()
            probe.namespace = namespace
            probe.host = None
            if not store.object_exists(probe):
                raise CIMError(CIM_ERR_INVALID_PARAMETER, '%s references an instance that does not exist: %s' % (name, ref))
        now = _now()
        new_instance['SubscriptionStartTime'] = now
        new_instance['TimeOfLastStateChange'] = now
        for name, default in (('SubscriptionState', 2), ('OnFatalErrorPolicy', 2),
                              ('RepeatNotificationPolicy', 2)):
            if new_instance.get(name) is None:
                new_instance[name] = Uint16(default)
        if new_instance.get('SubscriptionDuration') is not None:
            new_instance['SubscriptionTimeRemaining'] = new_instance['SubscriptionDuration']
        return super().CreateInstance(namespace, new_instance)

    def ModifyInstance(self, modified_instance, IncludeQualifiers=None):  # pylint: disable=invalid-name
        self._check_modifiable(modified_instance)
        current = self.cimrepository.get_instance_store(modified_instance.path.namespace).get(
            modified_instance.path, copy=False)
        if 'SubscriptionState' in modified_instance and \
                modified_instance['SubscriptionState'] != current.get('SubscriptionState'):
            modified_instance['TimeOfLastStateChange'] = _now()
        if modified_instance.get('SubscriptionDuration') is not None:
            modified_instance['SubscriptionTimeRemaining'] = modified_instance['SubscriptionDuration']
        return super().ModifyInstance(modified_instance, IncludeQualifiers=IncludeQualifiers)

    def DeleteInstance(self, InstanceName):  # pylint: disable=invalid-name
        return InstanceWriteProvider.DeleteInstance(self, InstanceName)
