#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: wbem_class
short_description: Create, update or delete a CIM class definition on a WBEM server
version_added: 1.0.0
description:
  - Makes sure that a class definition, given as MOF text in O(mof) or as a dictionary in
    O(definition), exists in the namespace as given (O(state=present)), or that the class
    O(class_name) does not exist (O(state=absent)).
  - The module reads the class (C(GetClass)) and compares what the class defines itself, that is its
    superclass and qualifiers, the properties and methods it declares or overrides with their
    types, reference classes, array sizes, default values, parameters and qualifiers. It
    creates the class (C(CreateClass)) when it is missing, replaces the definition
    (C(ModifyClass)) when something differs, and writes nothing otherwise.
  - Qualifier values get their CIM type from the qualifier declarations of the namespace (one
    C(EnumerateQualifiers) per run); a qualifier that is not declared fails the task. Declare
    site-specific qualifiers first with M(hostsec.mgmt.wbem_qualifier).
  - After a write the class is read back. When it does not compare equal to the definition
    sent, or is still there after a deletion, the task fails (C(WriteVerificationError)) with
    C(changed=true) and RV(class_definition) as read back.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.wbem
options:
  class_name:
    description:
      - The name of the class. Required for O(state=absent) without O(mof) or O(definition);
        otherwise it must match the class of the definition when given.
    type: str
    aliases: [classname]
  mof:
    description:
      - The class as MOF text (DSP0004), exactly one C(class) declaration, with qualifier lists,
        properties, references and methods.
      - Supported is the subset of MOF that declares classes. Not supported are C(instance of)
        declarations, aliases, default values of references and parameters, C(#pragma include),
        and the MOF 3 C(structure), C(enumeration), C(association) and C(indication) keywords
        (use C([Association]) and C([Indication]) qualifiers); flavors written after a
        qualifier value are ignored.
    type: str
  definition:
    description:
      - The class as a dictionary, in the format RV(hostsec.mgmt.wbem_info#module:class)
        returns, with C(classname), C(superclass), C(qualifiers) (name to value), C(properties)
        (name to C(type), C(default), C(reference_class), C(array_size), C(qualifiers)) and
        C(methods) (name to C(return_type), C(parameters), C(qualifiers)).
      - Types are CIM type names, V(reference) for references, with V([]) for arrays
        (V(uint16[])).
    type: dict
  state:
    description:
      - V(present) creates or updates the class, V(absent) deletes it.
      - Servers refuse to delete or modify a class that has subclasses or instances
        (C(CIM_ERR_CLASS_HAS_CHILDREN), C(CIM_ERR_CLASS_HAS_INSTANCES)); the task then fails
        with that status.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Elements that the class inherits and that the definition does not repeat are not
    compared. Qualifier flavors are not compared; the qualifier declarations define them.
seealso:
  - module: hostsec.mgmt.wbem_qualifier
  - module: hostsec.mgmt.wbem_info
attributes:
  check_mode:
    support: full
    details: The class and the qualifier declarations are read; nothing is written.
  diff_mode:
    support: full
    details: Shows what the class defines itself before and after.
"""

EXAMPLES = r"""
- name: A site class for rack inventory
  hostsec.mgmt.wbem_class:
    namespace: root/site
    mof: |
      [Version ("1.0.0"), Description ("A rack of the machine room.")]
      class SITE_Rack : CIM_ManagedElement {
          [Key, Override ("InstanceID")]
        string InstanceID;
          [MaxLen (64)]
        string Room;
        uint16 Units = 42;
      };

- name: The same class as a dictionary
  hostsec.mgmt.wbem_class:
    namespace: root/site
    definition:
      classname: SITE_Rack
      superclass: CIM_ManagedElement
      qualifiers: {Version: 1.0.0, Description: A rack of the machine room.}
      properties:
        InstanceID: {type: string, qualifiers: {Key: true, Override: InstanceID}}
        Room: {type: string, qualifiers: {MaxLen: 64}}
        Units: {type: uint16, default: 42}

- name: Remove it
  hostsec.mgmt.wbem_class:
    namespace: root/site
    class_name: SITE_Rack
    state: absent
"""

RETURN = r"""
action:
  description: What was done (in check mode, what would be done), or V(null) when nothing.
  returned: always
  type: str
  sample: modify
classname:
  description: The class name.
  returned: always
  type: str
  sample: SITE_Rack
class_definition:
  description:
    - What the class defines itself after the task (read back from the server after a change),
      V(null) when the class does not exist. C(classname), C(superclass), C(qualifiers)
      (name to value), C(properties) and C(methods) as in O(definition).
  returned: always
  type: dict
  sample:
    classname: SITE_Rack
    superclass: CIM_ManagedElement
    qualifiers: {Version: 1.0.0}
    properties:
      Units: {type: uint16, default: 42, reference_class: null, array_size: null, qualifiers: {}}
    methods: {}
differences:
  description: The parts of the class that differed (C(superclass), C(qualifiers), C(property NAME), C(method NAME)).
  returned: always
  type: list
  elements: str
  sample: [property Units]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.classes import (
    definition_from_input, ensure_class)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.module_args import (
    connection_from_module, exit_ensured, wbem_argument_spec)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.schema import ClassCache
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.verify import fail_on_error


def main():
    module = AnsibleModule(
        argument_spec=wbem_argument_spec(
            class_name=dict(type='str', aliases=['classname']),
            mof=dict(type='str'),
            definition=dict(type='dict'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        mutually_exclusive=[('mof', 'definition')],
        required_if=[('state', 'present', ('mof', 'definition'), True)],
        required_one_of=[('class_name', 'mof', 'definition')],
        supports_check_mode=True)
    LXML.fail_if_missing(module)
    params = module.params
    with fail_on_error(module, changed=False):
        definition = None
        if params['mof'] or params['definition']:
            definition = definition_from_input(params['mof'], params['definition'], 'class')
        with connection_from_module(module) as conn:
            result = ensure_class(conn, ClassCache(conn), definition, state=params['state'],
                                  namespace=params['namespace'], check_mode=module.check_mode,
                                  classname=params['class_name'])
    exit_ensured(module, result, 'class', result['classname'], details=result['differences'])


if __name__ == '__main__':
    main()
