#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: wbem_info
short_description: Query CIM instances, classes, qualifiers and server facts from a WBEM server
version_added: 1.0.0
description:
  - Reads from a WBEM server over CIM-XML and returns the result as plain dictionaries with
    typed values (integers, booleans, lists, CIM datetime strings, path dictionaries); the
    format is described in the WBEM guide.
  - O(gather) selects what to read. Without it, the module enumerates the instances of
    O(class_name), or runs O(query) when that is given.
  - Enumerations use the pull operations (C(OpenEnumerateInstances) ...) when the server has
    them and the traditional operations otherwise; results are converted while they arrive.
  - The module never changes anything on the server.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.attributes.INFO_MODULE
  - hostsec.mgmt.wbem
options:
  gather:
    description:
      - What to read.
      - V(instances) enumerates the instances of O(class_name) (and its subclasses), with
        their properties; V(instance_names) only their paths; V(instance) reads the one
        instance given by O(class_name) and O(keys), or by O(path).
      - V(associators) and V(references) return the instances associated with the instance
        given by O(class_name) + O(keys) or O(path) (the association instances themselves for
        V(references)); V(associator_names) and V(reference_names) only their paths. Given only
        O(class_name), they return classes instead.
      - V(query) runs O(query) in O(query_language) (C(ExecQuery), or C(OpenQueryInstances)
        when the server has pull operations).
      - V(classes), V(class_names) the classes of the namespace (below O(class_name) when
        given), V(class) the definition of O(class_name); V(qualifiers) the qualifier
        declarations (only O(qualifier_name) when given).
      - V(namespaces), V(registered_profiles) and V(cimom) discover the server through its
        Interop namespace (C(CIM_Namespace), C(CIM_RegisteredProfile), C(CIM_ObjectManager)).
      - Defaults to V(query) when O(query) is set, else to V(instances); then O(class_name) is
        required.
    type: str
    choices: [instances, instance_names, instance, associators, associator_names, references,
              reference_names, query, classes, class_names, class, qualifiers, namespaces,
              registered_profiles, cimom]
  class_name:
    description:
      - The class to enumerate, of the instance to read, or to start the class queries from.
    type: str
    aliases: [classname]
  keys:
    description:
      - The key properties of the instance for O(gather=instance) and the association queries,
        name to value. A reference key takes a path dictionary or a WBEM URI.
    type: dict
  path:
    description:
      - The instance for O(gather=instance) and the association queries as a path dictionary
        (for example an element of RV(instance_names) or the C(path) of an element of
        RV(instances)) or as a WBEM URI string. Replaces O(class_name) and O(keys).
    type: raw
  property_list:
    description:
      - Return only these properties of instances (and of the class for O(gather=class)).
    type: list
    elements: str
  local_only:
    description:
      - Only the properties (and methods) defined or overridden in the class itself. Left to
        the server when not set (DSP0200 deprecates it for instances).
    type: bool
  deep_inheritance:
    description:
      - Include the properties of subclasses in the instances of subclasses (O(gather=instances)),
        or all subclasses rather than the direct ones (O(gather=classes), O(gather=class_names)).
        Left to the server when not set.
    type: bool
  include_qualifiers:
    description:
      - Return the qualifiers of instances (RV(instances[].qualifiers)) and classes.
        Left to the server when not set (for O(gather=class), V(true)).
    type: bool
  include_class_origin:
    description:
      - Return the class that defines each property (C(class_origin) of class properties).
    type: bool
  filter_query:
    description:
      - A filter for O(gather=instances) and O(gather=instance_names), in
        O(filter_query_language) (pull operations only; a server without them answers with an
        error).
    type: str
  filter_query_language:
    description:
      - The language of O(filter_query).
    type: str
    default: DMTF:FQL
  limit:
    description:
      - Return at most this many objects; RV(truncated) tells whether there were more. The
        enumeration is closed on the server as soon as enough objects arrived.
    type: int
  assoc_class:
    description:
      - Association queries follow only associations of this class.
    type: str
  result_class:
    description:
      - Association queries return only objects of this class.
    type: str
  role:
    description:
      - Association queries follow only associations in which the start object plays this
        role (the name of the reference property).
    type: str
  result_role:
    description:
      - O(gather=associators) and O(gather=associator_names) return only objects that play this
        role in the association.
    type: str
  query:
    description:
      - The query for O(gather=query), for example V(SELECT * FROM CIM_Processor WHERE
        LoadPercentage > 80).
    type: str
  query_language:
    description:
      - The language of O(query), V(WQL) or V(DMTF:CQL) for most servers.
    type: str
    default: WQL
  qualifier_name:
    description:
      - Read only this qualifier declaration (O(gather=qualifiers)).
    type: str
  interop_namespace:
    description:
      - The Interop namespace for O(gather=namespaces), O(gather=registered_profiles) and
        O(gather=cimom). By default the module tries V(interop), V(root/interop),
        V(root/PG_InterOp) and V(root/PG_Interop).
    type: str
  profile_organization:
    description:
      - Return only registered profiles of this organization (V(DMTF), V(SNIA) ...).
    type: str
  profile_name:
    description:
      - Return only registered profiles with this name (for example V(Indications)).
    type: str
seealso:
  - module: hostsec.mgmt.wbem_instance
  - module: hostsec.mgmt.wbem_method
"""

EXAMPLES = r"""
- name: The computer systems the CIMOM manages
  hostsec.mgmt.wbem_info:
    server: https://cimom.example.org:5989
    username: admin
    password: "{{ vault_cim_password }}"
    ca_certs: /etc/pki/site-ca.pem
    namespace: root/cimv2
    class_name: CIM_ComputerSystem      # default query: enumerate its instances
  register: systems

- name: Show their names and health
  ansible.builtin.debug:
    msg: "{{ item.properties.Name }}: {{ item.properties.HealthState }}"
  loop: "{{ systems.instances }}"
  loop_control:
    label: "{{ item.path.uri }}"

- name: Busy processors (connection from the WBEM_* environment variables)
  hostsec.mgmt.wbem_info:
    query: SELECT DeviceID, LoadPercentage FROM CIM_Processor WHERE LoadPercentage > 80
    query_language: WQL

- name: The processors of one system
  hostsec.mgmt.wbem_info:
    gather: associators
    class_name: CIM_ComputerSystem
    keys:
      CreationClassName: CIM_ComputerSystem
      Name: node01.example.org
    assoc_class: CIM_SystemDevice
    result_class: CIM_Processor

- name: Which DMTF profiles does the server implement?
  hostsec.mgmt.wbem_info:
    gather: registered_profiles
    profile_organization: DMTF
  register: profiles

- name: Poll every management controller of the inventory
  hostsec.mgmt.wbem_info:
    server: "https://{{ ansible_host }}"
    class_name: CIM_PowerSupply
    property_list: [DeviceID, HealthState, OperationalStatus]
  delegate_to: localhost
"""

RETURN = r"""
gather:
  description: What was read (the value of O(gather), or the default chosen).
  returned: always
  type: str
  sample: instances
namespace:
  description: The namespace the query ran in.
  returned: always
  type: str
  sample: root/cimv2
count:
  description: The number of objects returned.
  returned: always
  type: int
  sample: 3
truncated:
  description: Whether O(limit) cut the result short.
  returned: always
  type: bool
  sample: false
instances:
  description:
    - The instances (O(gather=instances), O(gather=associators), O(gather=references),
      O(gather=query) with an instance as start object).
  returned: when instances were asked for
  type: list
  elements: dict
  contains:
    classname:
      description: The class of the instance.
      type: str
      sample: CIM_ComputerSystem
    path:
      description:
        - The path of the instance, with the WBEM URI in C(uri) and the keys in C(keybindings).
          V(null) for query results without path.
      type: dict
      sample:
        classname: CIM_ComputerSystem
        namespace: root/cimv2
        host: cimom.example.org:5989
        keybindings: {CreationClassName: CIM_ComputerSystem, Name: node01.example.org}
        uri: //cimom.example.org:5989/root/cimv2:CIM_ComputerSystem.CreationClassName="CIM_ComputerSystem",Name="node01.example.org"
    properties:
      description: Property name to value, typed (integers, booleans, lists, datetime strings).
      type: dict
      sample: {Name: node01.example.org, EnabledState: 2, Roles: [Compute, Batch]}
    property_types:
      description: Property name to CIM type.
      type: dict
      sample: {Name: string, EnabledState: uint16, Roles: "string[]"}
    qualifiers:
      description: Qualifier name to value, with O(include_qualifiers=true).
      type: dict
instance_names:
  description: Paths (path dictionaries) for O(gather=instance_names), O(gather=associator_names), O(gather=reference_names).
  returned: when instance paths were asked for
  type: list
  elements: dict
  sample:
    - classname: CIM_Processor
      namespace: root/cimv2
      host: cimom.example.org:5989
      keybindings: {CreationClassName: CIM_Processor, DeviceID: CPU0, SystemCreationClassName: CIM_ComputerSystem,
                    SystemName: node01.example.org}
      uri: //cimom.example.org:5989/root/cimv2:CIM_Processor.CreationClassName="CIM_Processor",DeviceID="CPU0",...
instance:
  description: The instance for O(gather=instance), in the format of the elements of RV(instances).
  returned: when O(gather=instance)
  type: dict
classes:
  description:
    - Class definitions (O(gather=classes), and association queries from a class), each with
      C(classname), C(superclass), C(path), C(qualifiers), C(properties) and C(methods) as
      described in the WBEM guide.
  returned: when classes were asked for
  type: list
  elements: dict
class_names:
  description: Class names for O(gather=class_names) and association name queries from a class.
  returned: when class names were asked for
  type: list
  elements: str
  sample: [CIM_ComputerSystem, CIM_Processor]
class_paths:
  description: Class paths (C(classname), C(namespace), C(host), C(uri)) of association name queries from a class.
  returned: when O(gather=associator_names) or O(gather=reference_names) start from a class
  type: list
  elements: dict
class:
  description: The class definition for O(gather=class).
  returned: when O(gather=class)
  type: dict
  sample:
    classname: CIM_IndicationFilter
    superclass: CIM_ManagedElement
    qualifiers: {Description: A query that selects the indications of interest.}
    properties:
      Query: {type: string, default: null, qualifiers: {Required: true}}
    methods: {}
qualifiers:
  description: Qualifier declarations for O(gather=qualifiers).
  returned: when O(gather=qualifiers)
  type: list
  elements: dict
  sample:
    - name: Key
      type: boolean
      value: false
      array_size: null
      scopes: [PROPERTY, REFERENCE]
      overridable: false
      tosubclass: true
      toinstance: false
      translatable: false
namespaces:
  description: The namespaces of the server, for O(gather=namespaces).
  returned: when O(gather=namespaces)
  type: list
  elements: str
  sample: [root/cimv2, root/interop]
interop_namespace:
  description: The Interop namespace the discovery used.
  returned: when O(gather) is V(namespaces), V(registered_profiles) or V(cimom)
  type: str
  sample: root/interop
registered_profiles:
  description: The management profiles the server advertises (C(CIM_RegisteredProfile)).
  returned: when O(gather=registered_profiles)
  type: list
  elements: dict
  contains:
    organization:
      description: The organization that defines the profile (name from the C(RegisteredOrganization) value map).
      type: str
      sample: DMTF
    organization_code:
      description: The numeric C(RegisteredOrganization).
      type: int
      sample: 2
    name:
      description: The profile name.
      type: str
      sample: Indications
    version:
      description: The profile version.
      type: str
      sample: 1.2.0
    instance_id:
      description: C(InstanceID) of the registration.
      type: str
      sample: DMTF:Indications:1.2.0
    path:
      description: The path dictionary of the C(CIM_RegisteredProfile) instance.
      type: dict
cimom:
  description: The object manager (C(CIM_ObjectManager)) of the server, for O(gather=cimom).
  returned: when O(gather=cimom)
  type: dict
  contains:
    url:
      description: The URL the module connected to.
      type: str
      sample: https://cimom.example.org:5989
    interop_namespace:
      description: The Interop namespace.
      type: str
      sample: root/interop
    name:
      description: C(Name) of the object manager.
      type: str
      sample: Pegasus
    system_name:
      description: C(SystemName), the name of the system the object manager runs on.
      type: str
      sample: cimom.example.org
    element_name:
      description: C(ElementName), usually the product.
      type: str
      sample: OpenPegasus
    description:
      description: C(Description), usually product and version.
      type: str
    object_manager:
      description: The whole C(CIM_ObjectManager) instance (instance dictionary).
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.info import GATHER, gather
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.module_args import (
    connection_from_module, wbem_argument_spec)


def main():
    module = AnsibleModule(
        argument_spec=wbem_argument_spec(
            gather=dict(type='str', choices=list(GATHER)),
            class_name=dict(type='str', aliases=['classname']),
            keys=dict(type='dict', no_log=False),
            path=dict(type='raw'),
            property_list=dict(type='list', elements='str'),
            local_only=dict(type='bool'),
            deep_inheritance=dict(type='bool'),
            include_qualifiers=dict(type='bool'),
            include_class_origin=dict(type='bool'),
            filter_query=dict(type='str'),
            filter_query_language=dict(type='str', default='DMTF:FQL'),
            limit=dict(type='int'),
            assoc_class=dict(type='str'),
            result_class=dict(type='str'),
            role=dict(type='str'),
            result_role=dict(type='str'),
            query=dict(type='str'),
            query_language=dict(type='str', default='WQL'),
            qualifier_name=dict(type='str'),
            interop_namespace=dict(type='str'),
            profile_organization=dict(type='str'),
            profile_name=dict(type='str'),
        ),
        supports_check_mode=True)
    params = module.params
    if params['gather'] is None:
        if params['query']:
            params['gather'] = 'query'
        elif params['class_name']:
            params['gather'] = 'instances'
        else:
            module.fail_json(msg='set class_name (to enumerate its instances), query, or gather')
    if params['limit'] is not None and params['limit'] < 0:
        module.fail_json(msg='limit must not be negative')
    LXML.fail_if_missing(module)
    with fail_on_error(module, changed=False, gather=params['gather']):
        with connection_from_module(module) as conn:
            result = gather(conn, params)
    module.exit_json(changed=False, gather=params['gather'],
                     namespace=(params['namespace'] or 'root/cimv2').strip('/'), **result)


if __name__ == '__main__':
    main()
