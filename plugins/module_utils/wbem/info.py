# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only queries of ``wbem_info``: one function per kind of information.

Every function takes the connection and the module parameters and returns the part of the
module result it produces (plain dicts of :mod:`.convert`). Enumerations use the ``Iter*``
methods of the client (pull operations with fallback), stop after ``limit`` objects and say
so in ``truncated``.
"""

from .cim_obj import CIMClassName, CIMInstanceName
from .convert import (class_to_dict, classname_to_dict, instance_to_dict, path_from_dict,
                      path_to_dict, qualifier_declaration_to_dict)
from .exceptions import CIMError, WBEMValueError

GATHER = ('instances', 'instance_names', 'instance', 'associators', 'associator_names',
          'references', 'reference_names', 'query', 'classes', 'class_names', 'class',
          'qualifiers', 'namespaces', 'registered_profiles', 'cimom')

#: Where WBEM servers keep their Interop namespace (DSP1033), tried in this order.
INTEROP_NAMESPACES = ('interop', 'root/interop', 'root/PG_InterOp', 'root/PG_Interop')

#: RegisteredOrganization values of CIM_RegisteredProfile (used when the class has no
#: ValueMap/Values qualifiers).
ORGANIZATIONS = {1: 'Other', 2: 'DMTF', 3: 'CompTIA', 4: 'Consortium for Service Innovation',
                 5: 'FAST', 6: 'GGF', 7: 'INTAP', 8: 'itSMF', 9: 'NAC', 10: 'Northwest Energy '
                 'Efficiency Alliance', 11: 'SNIA', 12: 'TM Forum', 13: 'The Open Group',
                 14: 'ANSI', 15: 'IEEE', 16: 'IETF', 17: 'INCITS', 18: 'ISO', 19: 'W3C',
                 20: 'OGF', 21: 'The Green Grid', 22: 'OASIS', 23: 'Other'}

_NO_NAMESPACE = (3, 5, 6)  # CIM_ERR_INVALID_NAMESPACE, CIM_ERR_INVALID_CLASS, CIM_ERR_NOT_FOUND
_FALLBACK = (5, 6, 7)  # ... CIM_ERR_INVALID_CLASS, CIM_ERR_NOT_FOUND, CIM_ERR_NOT_SUPPORTED


def _need(params, *names):
    for name in names:
        if not params.get(name):
            raise WBEMValueError('gather=%s needs the option %s' % (params['gather'], name),
                                 error_name='CIM_ERR_INVALID_PARAMETER')


def _take(iterable, limit):
    """(list of at most ``limit`` items, truncated) from an iterable; closes generators."""
    items = []
    truncated = False
    iterator = iter(iterable)
    try:
        for item in iterator:
            if limit is not None and len(items) >= limit:
                truncated = True
                break
            items.append(item)
    finally:
        close = getattr(iterator, 'close', None)
        if close is not None:
            close()
    return items, truncated


def _max_count(limit):
    return 1000 if limit is None else max(1, min(limit + 1, 1000))


def target_path(params, namespace):
    """The object the association queries start from: an instance path or a class name."""
    if params.get('path'):
        path = params['path']
        if isinstance(path, dict) and 'keybindings' not in path and not path.get('uri'):
            raise WBEMValueError('path must be a path dictionary (with keybindings) or a WBEM URI',
                                 error_name='CIM_ERR_INVALID_PARAMETER')
        result = path_from_dict(path, namespace=namespace)
        if result.namespace is None:
            result.namespace = namespace
        return result
    _need(params, 'class_name')
    if params.get('keys'):
        return path_from_dict({'classname': params['class_name'], 'keybindings': params['keys'],
                               'namespace': namespace})
    return CIMClassName(params['class_name'], namespace=namespace)


def _instances_result(items, truncated, params, key='instances'):
    return {key: [instance_to_dict(inst, include_qualifiers=bool(params.get('include_qualifiers')))
                  for inst in items], 'count': len(items), 'truncated': truncated}


# ---------------------------------------------------------------- instances

def gather_instances(conn, params, namespace):
    _need(params, 'class_name')
    limit = params.get('limit')
    iterator = conn.IterEnumerateInstances(
        params['class_name'], namespace=namespace, LocalOnly=params.get('local_only'),
        DeepInheritance=params.get('deep_inheritance'),
        IncludeQualifiers=params.get('include_qualifiers'),
        IncludeClassOrigin=params.get('include_class_origin'),
        PropertyList=params.get('property_list'),
        FilterQueryLanguage=params.get('filter_query_language') if params.get('filter_query')
        else None,
        FilterQuery=params.get('filter_query'), MaxObjectCount=_max_count(limit))
    items, truncated = _take(iterator, limit)
    return _instances_result(items, truncated, params)


def gather_instance_names(conn, params, namespace):
    _need(params, 'class_name')
    limit = params.get('limit')
    iterator = conn.IterEnumerateInstancePaths(
        params['class_name'], namespace=namespace,
        FilterQueryLanguage=params.get('filter_query_language') if params.get('filter_query')
        else None,
        FilterQuery=params.get('filter_query'), MaxObjectCount=_max_count(limit))
    items, truncated = _take(iterator, limit)
    return {'instance_names': [path_to_dict(path) for path in items], 'count': len(items),
            'truncated': truncated}


def gather_instance(conn, params, namespace):
    path = target_path(params, namespace)
    if not isinstance(path, CIMInstanceName):
        raise WBEMValueError('gather=instance needs keys (or path) of the instance',
                             error_name='CIM_ERR_INVALID_PARAMETER')
    inst = conn.GetInstance(path, LocalOnly=params.get('local_only'),
                            IncludeQualifiers=params.get('include_qualifiers'),
                            IncludeClassOrigin=params.get('include_class_origin'),
                            PropertyList=params.get('property_list'))
    return {'instance': instance_to_dict(inst, include_qualifiers=bool(
        params.get('include_qualifiers'))), 'count': 1, 'truncated': False}


# ---------------------------------------------------------------- associations

def _assoc_args(params, names):
    mapping = {'assoc_class': 'AssocClass', 'result_class': 'ResultClass', 'role': 'Role',
               'result_role': 'ResultRole'}
    return dict((mapping[name], params.get(name)) for name in names)


def _class_tuples_result(items, truncated):
    return {'classes': [class_to_dict(klass) for _path, klass in items], 'count': len(items),
            'truncated': truncated}


def gather_associators(conn, params, namespace, references=False):
    target = target_path(params, namespace)
    limit = params.get('limit')
    names = ('result_class', 'role') if references else \
        ('assoc_class', 'result_class', 'role', 'result_role')
    args = _assoc_args(params, names)
    common = dict(IncludeQualifiers=params.get('include_qualifiers'),
                  IncludeClassOrigin=params.get('include_class_origin'),
                  PropertyList=params.get('property_list'))
    if isinstance(target, CIMClassName):
        call = conn.References if references else conn.Associators
        items, truncated = _take(call(target, **dict(args, **common)), limit)
        return _class_tuples_result(items, truncated)
    call = conn.IterReferenceInstances if references else conn.IterAssociatorInstances
    items, truncated = _take(call(target, MaxObjectCount=_max_count(limit),
                                  **dict(args, **common)), limit)
    return _instances_result(items, truncated, params)


def gather_associator_names(conn, params, namespace, references=False):
    target = target_path(params, namespace)
    limit = params.get('limit')
    names = ('result_class', 'role') if references else \
        ('assoc_class', 'result_class', 'role', 'result_role')
    args = _assoc_args(params, names)
    if isinstance(target, CIMClassName):
        call = conn.ReferenceNames if references else conn.AssociatorNames
        items, truncated = _take(call(target, **args), limit)
        return {'class_names': [path.classname for path in items],
                'class_paths': [classname_to_dict(path) for path in items],
                'count': len(items), 'truncated': truncated}
    call = conn.IterReferenceInstancePaths if references else conn.IterAssociatorInstancePaths
    items, truncated = _take(call(target, MaxObjectCount=_max_count(limit), **args), limit)
    return {'instance_names': [path_to_dict(path) for path in items], 'count': len(items),
            'truncated': truncated}


# ---------------------------------------------------------------- queries

def gather_query(conn, params, namespace):
    _need(params, 'query')
    limit = params.get('limit')
    result = conn.IterQueryInstances(params.get('query_language') or 'WQL', params['query'],
                                     namespace=namespace, MaxObjectCount=_max_count(limit))
    items, truncated = _take(result.instances, limit)
    return _instances_result(items, truncated, params)


# ---------------------------------------------------------------- schema

def gather_classes(conn, params, namespace):
    classes = conn.EnumerateClasses(
        namespace=namespace, ClassName=params.get('class_name'),
        DeepInheritance=params.get('deep_inheritance'), LocalOnly=params.get('local_only'),
        IncludeQualifiers=params.get('include_qualifiers'),
        IncludeClassOrigin=params.get('include_class_origin'))
    items, truncated = _take(classes, params.get('limit'))
    return {'classes': [class_to_dict(klass) for klass in items], 'count': len(items),
            'truncated': truncated}


def gather_class_names(conn, params, namespace):
    names = conn.EnumerateClassNames(namespace=namespace, ClassName=params.get('class_name'),
                                     DeepInheritance=params.get('deep_inheritance'))
    items, truncated = _take(names, params.get('limit'))
    return {'class_names': items, 'count': len(items), 'truncated': truncated}


def gather_class(conn, params, namespace):
    _need(params, 'class_name')
    include_qualifiers = params.get('include_qualifiers')
    klass = conn.GetClass(params['class_name'], namespace=namespace,
                          LocalOnly=params.get('local_only'),
                          IncludeQualifiers=True if include_qualifiers is None
                          else include_qualifiers,
                          IncludeClassOrigin=params.get('include_class_origin'),
                          PropertyList=params.get('property_list'))
    return {'class': class_to_dict(klass), 'count': 1, 'truncated': False}


def gather_qualifiers(conn, params, namespace):
    if params.get('qualifier_name'):
        decls = [conn.GetQualifier(params['qualifier_name'], namespace=namespace)]
    else:
        decls = conn.EnumerateQualifiers(namespace=namespace)
    items, truncated = _take(decls, params.get('limit'))
    return {'qualifiers': [qualifier_declaration_to_dict(decl) for decl in items],
            'count': len(items), 'truncated': truncated}


# ---------------------------------------------------------------- server discovery

def find_interop(conn, given=None):
    """``(interop namespace, CIM_ObjectManager instances)``; tries the usual names.

    The instances are enumerated like those of ``gather: instances`` (pull operations when the
    server has them), so that their paths have the host as there: a plain EnumerateInstances
    answers paths without a host. The name found is kept as ``conn.known_interop`` and tried
    first when it is set (see memory.py).
    """
    known = getattr(conn, 'known_interop', None)  # what an earlier task found (memory.py)
    if given:
        candidates = [given]
    else:
        candidates = ([known] if known else []) + [name for name in INTEROP_NAMESPACES if name != known]
    for namespace in candidates:
        try:
            managers = list(conn.IterEnumerateInstances('CIM_ObjectManager',
                                                        namespace=namespace))
        except CIMError as exc:
            if given or exc.status_code not in _NO_NAMESPACE:
                raise
            continue
        if not given:
            conn.known_interop = namespace.strip('/')
        return namespace.strip('/'), managers
    raise WBEMValueError('the server has no Interop namespace with a CIM_ObjectManager among '
                         '%s; set interop_namespace' % ', '.join(INTEROP_NAMESPACES),
                         error_name='CIM_ERR_INVALID_NAMESPACE')


def gather_namespaces(conn, params, _namespace):
    interop, _managers = find_interop(conn, params.get('interop_namespace'))
    try:
        names = [inst.get('Name') for inst in
                 conn.EnumerateInstances('CIM_Namespace', namespace=interop,
                                         PropertyList=['Name'])]
    except CIMError as exc:
        if exc.status_code not in _FALLBACK:
            raise
        names = ['root/%s' % path.keybindings.get('Name')
                 for path in conn.EnumerateInstanceNames('__Namespace', namespace='root')]
    names = sorted(set(name.strip('/') for name in names if name))
    return {'namespaces': names, 'interop_namespace': interop, 'count': len(names),
            'truncated': False}


def _organization_names(conn, interop):
    """RegisteredOrganization value -> name, from the class qualifiers when it has them."""
    try:
        klass = conn.GetClass('CIM_RegisteredProfile', namespace=interop, LocalOnly=False,
                              IncludeQualifiers=True, PropertyList=['RegisteredOrganization'])
        prop = klass.properties.get('RegisteredOrganization')
        value_map = prop.qualifiers.get('ValueMap') if prop is not None else None
        values = prop.qualifiers.get('Values') if prop is not None else None
    except CIMError:
        value_map = values = None
    names = dict(ORGANIZATIONS)
    if value_map is not None and values is not None and value_map.value and values.value:
        for key, name in zip(value_map.value, values.value):
            if key.isdigit():
                names[int(key)] = name
    return names


def gather_registered_profiles(conn, params, _namespace):
    interop, _managers = find_interop(conn, params.get('interop_namespace'))
    organizations = _organization_names(conn, interop)
    wanted_org = (params.get('profile_organization') or '').lower()
    wanted_name = (params.get('profile_name') or '').lower()
    profiles = []
    for inst in conn.IterEnumerateInstances('CIM_RegisteredProfile', namespace=interop):
        code = inst.get('RegisteredOrganization')
        organization = inst.get('OtherRegisteredOrganization') if code == 1 else \
            organizations.get(code, str(code))
        profile = {'organization': organization,
                   'organization_code': int(code) if code is not None else None,
                   'name': inst.get('RegisteredName'),
                   'version': inst.get('RegisteredVersion'),
                   'instance_id': inst.get('InstanceID'),
                   'path': path_to_dict(inst.path)}
        if wanted_org and (organization or '').lower() != wanted_org:
            continue
        if wanted_name and (profile['name'] or '').lower() != wanted_name:
            continue
        profiles.append(profile)
    profiles.sort(key=lambda p: ((p['organization'] or '').lower(), (p['name'] or '').lower(),
                                 p['version'] or ''))
    items, truncated = _take(profiles, params.get('limit'))
    return {'registered_profiles': items, 'interop_namespace': interop, 'count': len(items),
            'truncated': truncated}


def gather_cimom(conn, params, _namespace):
    interop, managers = find_interop(conn, params.get('interop_namespace'))
    manager = managers[0] if managers else None
    cimom = {'url': conn.url, 'interop_namespace': interop, 'name': None, 'system_name': None,
             'element_name': None, 'description': None, 'object_manager': None}
    if manager is not None:
        cimom.update(name=manager.get('Name'), system_name=manager.get('SystemName'),
                     element_name=manager.get('ElementName'),
                     description=manager.get('Description'),
                     object_manager=instance_to_dict(manager))
    return {'cimom': cimom, 'count': len(managers), 'truncated': False}


def gather(conn, params):
    """The result part of ``wbem_info`` for ``params['gather']``."""
    namespace = (params.get('namespace') or conn.default_namespace).strip('/')
    kind = params['gather']
    if kind in ('associators', 'references'):
        return gather_associators(conn, params, namespace, references=kind == 'references')
    if kind in ('associator_names', 'reference_names'):
        return gather_associator_names(conn, params, namespace,
                                       references=kind == 'reference_names')
    function = _FUNCTIONS.get(kind)
    if function is None:
        raise WBEMValueError('unknown gather %r (one of %s)' % (kind, ', '.join(GATHER)),
                             error_name='CIM_ERR_INVALID_PARAMETER')
    return function(conn, params, namespace)


_FUNCTIONS = {
    'instances': gather_instances, 'instance_names': gather_instance_names,
    'instance': gather_instance, 'query': gather_query, 'classes': gather_classes,
    'class_names': gather_class_names, 'class': gather_class, 'qualifiers': gather_qualifiers,
    'namespaces': gather_namespaces, 'registered_profiles': gather_registered_profiles,
    'cimom': gather_cimom,
}
