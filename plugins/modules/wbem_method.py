#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: wbem_method
short_description: Invoke a CIM method on an instance or a class of a WBEM server
version_added: 1.0.0
description:
  - Calls the extrinsic method O(method) of O(class_name) (C(InvokeMethod)), on the instance
    given by O(keys) or O(path), or on the class itself (static methods) when neither is given.
  - The input parameters in O(params) are plain YAML values; the module reads the class once
    and converts them to the types the method declaration gives (C(uint16), arrays,
    references as path dictionaries or WBEM URIs, embedded instances as instance
    dictionaries ...). Unknown parameters, output-only parameters and values that do not fit
    fail the task before the method is called.
  - Returns the return value and the output parameters, typed as in every WBEM result.
  - A method call is assumed to change something, so the task reports C(changed) unless
    O(read_only=true).
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.wbem
options:
  class_name:
    description:
      - The class that declares the method (for an instance, its class).
    type: str
    required: true
    aliases: [classname]
  method:
    description:
      - The name of the method, for example V(RequestStateChange).
    type: str
    required: true
    aliases: [method_name]
  keys:
    description:
      - The key properties of the instance to invoke the method on, name to value.
      - Without O(keys) and O(path) the method is invoked on the class.
    type: dict
  path:
    description:
      - The instance as a path dictionary (for example the C(path) of an element of
        RV(hostsec.mgmt.wbem_info#module:instances)) or a WBEM URI. Replaces O(keys).
    type: raw
  params:
    description:
      - The input parameters, name to value. V(null) sends a NULL value.
    type: dict
    default: {}
  param_types:
    description:
      - CIM types of parameters (V(uint32), V(string[]), V(reference) ...) for parameters the
        class declaration does not type (some servers return method declarations without
        parameters). Normally not needed.
    type: dict
    default: {}
  read_only:
    description:
      - Set V(true) for a method that changes nothing (a query such as C(GetStatistics)); the
        task then never reports C(changed), and the method is called in check mode too.
    type: bool
    default: false
  expect_return:
    description:
      - The return value the method must return (for example V(0) for success of most DMTF
        methods). The task fails when it returns something else; RV(return_value) and
        RV(out_params) are returned in that case too.
    type: raw
notes:
  - Many DMTF methods report failure through their return value, not through a CIM error;
    use O(expect_return) to make such a failure fail the task.
  - A method that starts a job returns a reference to a C(CIM_ConcreteJob) in an output
    parameter (often C(Job)); poll it with M(hostsec.mgmt.wbem_info) and C(until).
seealso:
  - module: hostsec.mgmt.wbem_info
attributes:
  check_mode:
    support: partial
    details: In check mode the method is not called (the task reports what it would call), unless O(read_only=true).
  diff_mode:
    support: none
    details: A method call has no before and after the module could know.
"""

EXAMPLES = r"""
- name: Power off a compute node through its BMC (RequestedState 3 = Disabled)
  hostsec.mgmt.wbem_method:
    server: https://bmc-node042.example.org
    class_name: CIM_ComputerSystem
    keys:
      CreationClassName: CIM_ComputerSystem
      Name: node042
    method: RequestStateChange
    params:
      RequestedState: 3
    expect_return: 0
  delegate_to: localhost

- name: Start a service (instance from an earlier wbem_info result)
  hostsec.mgmt.wbem_method:
    class_name: CIM_Service
    path: "{{ services.instances[0].path }}"
    method: StartService
    expect_return: 0

- name: A static, read-only method
  hostsec.mgmt.wbem_method:
    class_name: Vendor_Diagnostics
    method: GetCapabilities
    read_only: true
  register: caps
"""

RETURN = r"""
method:
  description: The method, as the class declares it.
  returned: always
  type: str
  sample: RequestStateChange
target:
  description: The path dictionary of the instance, or the class path (C(classname), C(namespace), C(host), C(uri)).
  returned: always
  type: dict
invoked:
  description: Whether the method was called (V(false) in check mode unless O(read_only=true)).
  returned: always
  type: bool
  sample: true
return_value:
  description: The return value of the method, V(null) when it was not called.
  returned: always
  type: raw
  sample: 0
return_type:
  description: The CIM type of the return value.
  returned: always
  type: str
  sample: uint32
out_params:
  description: The output parameters, name to value (references as path dictionaries).
  returned: always
  type: dict
  sample: {Job: null}
out_param_types:
  description: The CIM types of the output parameters.
  returned: always
  type: dict
  sample: {Job: reference}
expected_return:
  description: The value of O(expect_return).
  returned: always
  type: raw
  sample: 0
matched:
  description: Whether the return value matched O(expect_return); V(null) without it or when the method was not called.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.methods import invoke_method
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.module_args import (
    connection_from_module, wbem_argument_spec)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.schema import ClassCache


def main():
    module = AnsibleModule(
        argument_spec=wbem_argument_spec(
            class_name=dict(type='str', required=True, aliases=['classname']),
            method=dict(type='str', required=True, aliases=['method_name']),
            keys=dict(type='dict', no_log=False),
            path=dict(type='raw'),
            params=dict(type='dict', default={}),
            param_types=dict(type='dict', default={}),
            read_only=dict(type='bool', default=False),
            expect_return=dict(type='raw'),
        ),
        mutually_exclusive=[('keys', 'path')],
        supports_check_mode=True)
    LXML.fail_if_missing(module)
    params = module.params
    with fail_on_error(module, changed=False):
        with connection_from_module(module) as conn:
            result = invoke_method(conn, ClassCache(conn), params,
                                   check_mode=module.check_mode)
    target = result['target']['uri']
    if not result['invoked']:
        module.exit_json(msg='check mode: method %s of %s not invoked'
                         % (result['method'], target), **result)
    msg = 'method %s of %s returned %s' % (result['method'], target, result['return_value'])
    if result['matched'] is False:
        module.fail_json(msg='%s, expected %s' % (msg, params['expect_return']), **result)
    module.exit_json(msg=msg, **result)


if __name__ == '__main__':
    main()
