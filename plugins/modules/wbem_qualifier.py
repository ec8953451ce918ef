#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: wbem_qualifier
short_description: Create, update or delete a qualifier declaration on a WBEM server
version_added: 1.0.0
description:
  - Makes sure that the qualifier type O(name) is declared in the namespace with the type,
    default value, scopes and flavors given (O(state=present)), or is not declared
    (O(state=absent)).
  - The declaration is given by the options or as one MOF C(Qualifier) declaration in O(mof).
  - The module reads the declaration (C(GetQualifier)), compares type, array size, default
    value, scopes and flavors, and writes it (C(SetQualifier)) only when something differs;
    O(state=absent) deletes it (C(DeleteQualifier)) when it exists.
  - After a write the declaration is read back. When it differs from what was sent, or is
    still there after a deletion, the task fails (C(WriteVerificationError)) with
    C(changed=true) and RV(qualifier) as read back.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.wbem
options:
  name:
    description:
      - The name of the qualifier type. Required unless O(mof) is given.
    type: str
  type:
    description:
      - The CIM type of the qualifier (V(boolean), V(string), V(uint32) ...), with V([]) for
        arrays (V(string[])). Required for O(state=present) unless O(mof) is given.
    type: str
  value:
    description:
      - The default value (a list for array types); V(null) when not set.
    type: raw
  array_size:
    description:
      - The fixed size of an array type.
    type: int
  scopes:
    description:
      - Where the qualifier may be used. V(any) means all of them. Required for
        O(state=present) unless O(mof) is given.
    type: list
    elements: str
    choices: [class, association, indication, property, reference, method, parameter, any]
  overridable:
    description:
      - Whether subclasses may override the value (C(EnableOverride)); V(false) is
        C(DisableOverride).
    type: bool
    default: true
  tosubclass:
    description:
      - Whether the qualifier propagates to subclasses (C(ToSubclass)); V(false) is
        C(Restricted).
    type: bool
    default: true
  toinstance:
    description:
      - The deprecated C(ToInstance) flavor.
    type: bool
    default: false
  translatable:
    description:
      - Whether the value may be localized (C(Translatable)).
    type: bool
    default: false
  mof:
    description:
      - The declaration as MOF text, one C(Qualifier) declaration (see the examples).
        Replaces the other options that describe the declaration; flavors not named in it get
        their DSP0004 defaults.
    type: str
  state:
    description:
      - V(present) declares or updates the qualifier type, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Servers usually refuse to delete or change a qualifier type that classes use; the task
    then fails with the CIM status the server sends.
seealso:
  - module: hostsec.mgmt.wbem_class
attributes:
  check_mode:
    support: full
    details: The declaration is read; nothing is written.
  diff_mode:
    support: full
    details: Shows the declaration before and after.
"""

EXAMPLES = r"""
- name: A site qualifier for the owner of classes and properties
  hostsec.mgmt.wbem_qualifier:
    namespace: root/site
    name: SiteOwner
    type: string
    scopes: [class, property]
    translatable: false

- name: The same in MOF
  hostsec.mgmt.wbem_qualifier:
    namespace: root/site
    mof: 'Qualifier SiteOwner : string = null, Scope(class, property);'

- name: Remove it
  hostsec.mgmt.wbem_qualifier:
    namespace: root/site
    name: SiteOwner
    state: absent
"""

RETURN = r"""
action:
  description: What was done (in check mode, what would be done), or V(null) when nothing.
  returned: always
  type: str
  sample: create
name:
  description: The name of the qualifier type.
  returned: always
  type: str
  sample: SiteOwner
qualifier:
  description: The declaration after the task, V(null) when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: The name.
      type: str
      sample: SiteOwner
    type:
      description: The CIM type, with V([]) for arrays.
      type: str
      sample: string
    value:
      description: The default value.
      type: raw
      sample: null
    array_size:
      description: The fixed array size, or V(null).
      type: int
      sample: null
    scopes:
      description: The scopes, upper case.
      type: list
      elements: str
      sample: [CLASS, PROPERTY]
    overridable:
      description: C(EnableOverride).
      type: bool
      sample: true
    tosubclass:
      description: C(ToSubclass).
      type: bool
      sample: true
    toinstance:
      description: C(ToInstance).
      type: bool
      sample: false
    translatable:
      description: C(Translatable).
      type: bool
      sample: false
differences:
  description: The fields of the declaration that differed.
  returned: always
  type: list
  elements: str
  sample: [translatable]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.classes import (
    definition_from_input, ensure_qualifier)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.module_args import (
    connection_from_module, exit_ensured, wbem_argument_spec)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.verify import fail_on_error

SCOPE_CHOICES = ['class', 'association', 'indication', 'property', 'reference', 'method',
                 'parameter', 'any']


def main():
    module = AnsibleModule(
        argument_spec=wbem_argument_spec(
            name=dict(type='str'),
            type=dict(type='str'),
            value=dict(type='raw'),
            array_size=dict(type='int'),
            scopes=dict(type='list', elements='str', choices=SCOPE_CHOICES),
            overridable=dict(type='bool', default=True),
            tosubclass=dict(type='bool', default=True),
            toinstance=dict(type='bool', default=False),
            translatable=dict(type='bool', default=False),
            mof=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        required_one_of=[('name', 'mof')],
        mutually_exclusive=[('mof', 'type'), ('mof', 'value'), ('mof', 'scopes'),
                            ('mof', 'array_size')],
        supports_check_mode=True)
    LXML.fail_if_missing(module)
    params = module.params
    if params['state'] == 'present' and not params['mof']:
        missing = [name for name in ('type', 'scopes') if not params[name]]
        if missing:
            module.fail_json(msg='state=present needs %s (or mof)' % ' and '.join(missing))
    with fail_on_error(module, changed=False):
        if params['mof']:
            data = definition_from_input(params['mof'], kind='qualifier')
            if params['name'] and params['name'].lower() != data['name'].lower():
                module.fail_json(msg='name %s does not match the qualifier %s of the MOF text'
                                 % (params['name'], data['name']))
        else:
            data = dict((key, params[key]) for key in (
                'name', 'type', 'value', 'array_size', 'scopes', 'overridable', 'tosubclass',
                'toinstance', 'translatable'))
        with connection_from_module(module) as conn:
            result = ensure_qualifier(conn, data, state=params['state'],
                                      namespace=params['namespace'],
                                      check_mode=module.check_mode)
    exit_ensured(module, result, 'qualifier', result['name'], details=result['differences'],
                 verbs={'create': 'declared'})


if __name__ == '__main__':
    main()
