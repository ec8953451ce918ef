#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: wbem_instance
short_description: Create, update or delete a CIM instance on a WBEM server
version_added: 1.0.0
description:
  - Makes sure that the instance of O(class_name) identified by O(keys) exists with the
    O(properties) given (O(state=present)), or does not exist (O(state=absent)).
  - The module reads the class once (C(GetClass)) and converts the plain YAML values to the
    CIM types the class declares, so V(5), V("5") or V(0x5) for a C(uint16) property, a list
    for an array, a CIM datetime string for a C(datetime) and a path dictionary or WBEM URI
    for a reference all work. Unknown properties, keys that are not the key properties of the
    class, and values that do not fit their type fail the task before anything is written.
  - It then reads the instance with exactly one C(GetInstance). When the instance is missing
    it is created (C(CreateInstance)); when it exists, only the properties that differ are
    sent (C(ModifyInstance) with a property list of just those properties); when nothing
    differs nothing is written.
  - Properties that are not in O(properties) are left as they are.
  - After every write the instance is read back. After a creation or a modification every
    key and every property given must be there with the value written, and every property the
    instance had must still be there; after a deletion the instance must be gone. Otherwise
    the task fails (C(WriteVerificationError)) naming what is missing, with C(changed=true)
    since something was written.
  - Some brokers keep only the properties named in the property list of C(ModifyInstance) and
    drop all others, keys included. The module then sends the complete instance without a
    property list to restore them; when that works the task succeeds with a warning, else it
    fails naming the lost properties (RV(lost_properties)). O(modify_method=full_instance)
    avoids the problem with such a broker.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.wbem
options:
  class_name:
    description:
      - The creation class of the instance, for example V(CIM_IndicationFilter).
    type: str
    required: true
    aliases: [classname]
  keys:
    description:
      - The key properties of the instance, name to value. All key properties of the class
        must be given, and nothing else.
      - A reference key takes a path dictionary (as RV(hostsec.mgmt.wbem_info#module:instances[].path)
        returns) or a WBEM URI string.
    type: dict
    required: true
  properties:
    description:
      - The non-key properties to set, name to value; V(null) sets a property to NULL.
      - Key properties may be repeated here only with the value they have in O(keys).
    type: dict
    default: {}
  modify_method:
    description:
      - How an existing instance is modified.
      - V(property_list) sends only the properties that differ, with a property list of just
        those (the other properties stay as they are on a server that follows DSP0200).
      - V(full_instance) sends the complete instance as read, with the changes, and no
        property list; for brokers that drop the properties a property list does not name.
    type: str
    choices: [property_list, full_instance]
    default: property_list
  state:
    description:
      - V(present) creates or updates the instance, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Some WBEM servers assign keys themselves (for example OpenPegasus replaces C(SystemName)
    of indication filters); RV(path) is the path the server returned. Use that path in later
    tasks.
  - A server may refuse to modify a property (C(CIM_ERR_NOT_SUPPORTED)); the task then fails
    with that status and the instance is unchanged.
seealso:
  - module: hostsec.mgmt.wbem_info
  - module: hostsec.mgmt.wbem_subscription
attributes:
  check_mode:
    support: full
    details: The class and the instance are read; nothing is written.
  diff_mode:
    support: full
    details: Shows the changed properties before and after (all properties on create and delete).
"""

EXAMPLES = r"""
- name: An indication filter on the CIMOM
  hostsec.mgmt.wbem_instance:
    server: https://cimom.example.org:5989
    username: admin
    password: "{{ vault_cim_password }}"
    namespace: root/interop
    class_name: CIM_IndicationFilter
    keys:
      CreationClassName: CIM_IndicationFilter
      Name: site-alerts
      SystemCreationClassName: CIM_ComputerSystem
      SystemName: cimom.example.org
    properties:
      Query: SELECT * FROM CIM_AlertIndication
      QueryLanguage: WQL
      SourceNamespace: root/cimv2
    state: present

- name: Set the owner of every BMC (connection options from module_defaults)
  hostsec.mgmt.wbem_instance:
    server: "https://{{ inventory_hostname }}"
    class_name: CIM_ComputerSystem
    keys:
      CreationClassName: CIM_ComputerSystem
      Name: "{{ bmc_system_name }}"
    properties:
      PrimaryOwnerName: HPC operations
      PrimaryOwnerContact: hpc-ops@example.org
  delegate_to: localhost

- name: Remove the filter again
  hostsec.mgmt.wbem_instance:
    namespace: root/interop
    class_name: CIM_IndicationFilter
    keys:
      CreationClassName: CIM_IndicationFilter
      Name: site-alerts
      SystemCreationClassName: CIM_ComputerSystem
      SystemName: cimom.example.org
    state: absent
"""

RETURN = r"""
action:
  description: What was done (in check mode, what would be done), or V(null) when nothing.
  returned: always
  type: str
  sample: modify
  choices: [create, modify, delete]
path:
  description:
    - The path of the instance (see the WBEM guide for the format). After a creation, the path
      the server returned.
  returned: always
  type: dict
  sample:
    classname: CIM_IndicationFilter
    namespace: root/interop
    host: null
    keybindings: {CreationClassName: CIM_IndicationFilter, Name: site-alerts,
                  SystemCreationClassName: CIM_ComputerSystem, SystemName: cimom.example.org}
    uri: /root/interop:CIM_IndicationFilter.CreationClassName="CIM_IndicationFilter",Name="site-alerts",...
instance:
  description:
    - The instance after the task (read back from the server after a change), V(null) when it
      does not exist. In check mode, the instance as it would be.
    - An instance dictionary with RV(instance.classname), RV(instance.path),
      RV(instance.properties) and RV(instance.property_types).
  returned: always
  type: dict
  contains:
    classname:
      description: The class of the instance.
      type: str
    path:
      description: The path dictionary of the instance.
      type: dict
    properties:
      description: Property name to value.
      type: dict
    property_types:
      description: Property name to CIM type (V(uint16), V(string[]) ...).
      type: dict
changed_properties:
  description: The properties that were (or would be) written; on creation all given ones.
  returned: always
  type: list
  elements: str
  sample: [Query]
lost_properties:
  description:
    - The properties the server dropped after the write. When the task succeeds, they were
      restored with a C(ModifyInstance) of the complete instance (see the warning); when it
      fails, they are missing on the server.
    - Names only, never values.
  returned: always
  type: list
  elements: str
  sample: [CreationClassName, Name, Query]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.instances import (
    MODIFY_METHODS, ensure_instance)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.module_args import (
    connection_from_module, exit_ensured, wbem_argument_spec)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.schema import ClassCache
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.verify import fail_on_error


def main():
    module = AnsibleModule(
        argument_spec=wbem_argument_spec(
            class_name=dict(type='str', required=True, aliases=['classname']),
            keys=dict(type='dict', required=True, no_log=False),
            properties=dict(type='dict', default={}),
            modify_method=dict(type='str', choices=list(MODIFY_METHODS),
                               default=MODIFY_METHODS[0]),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True)
    LXML.fail_if_missing(module)
    params = module.params
    with fail_on_error(module, changed=False):
        with connection_from_module(module) as conn:
            result = ensure_instance(conn, ClassCache(conn), params['class_name'],
                                     params['keys'], params['properties'],
                                     state=params['state'], namespace=params['namespace'],
                                     check_mode=module.check_mode,
                                     modify_method=params['modify_method'])
    exit_ensured(module, result, 'instance', result['path']['uri'],
                 up_to_date='present and up to date',
                 details=result['changed_properties'] if result['action'] == 'modify' else None)


if __name__ == '__main__':
    main()
