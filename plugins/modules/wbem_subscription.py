#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: wbem_subscription
short_description: Manage owned CIM indication subscriptions (filter, listener destination, subscription)
version_added: 1.0.0
description:
  - Makes sure that a WBEM server sends the indications selected by O(query) to the listener
    at O(destination) (O(state=present)), or that it no longer does (O(state=absent)).
  - A subscription is three instances in the Interop namespace, handled as one unit, namely a
    C(CIM_IndicationFilter) with the query, a listener destination (C(CIM_ListenerDestinationCIMXML)
    or O(destination_class)) with the URL, and the C(CIM_IndicationSubscription) that binds
    them.
  - Filter and destination are named C(hostsec:OWNER:NAME) after O(owner) and O(name). The
    module only ever changes or deletes objects with its owner's prefix, and a subscription
    only when both its filter and its destination belong to the owner; subscriptions of the
    server vendor, of other tools and of other owners are left alone.
  - The module reads the three classes and their instances; it creates what is missing,
    modifies only the properties that differ, and writes nothing when everything is in place.
    With O(list_owned=false) it first reads just the three objects of the subscription by
    their paths (one C(GetInstance) each) and stops there when all three are in place.
    When the server refuses to modify a filter or destination (C(CIM_ERR_NOT_SUPPORTED), as
    OpenPegasus does), the subscription is deleted and created again with the new values.
  - Every write is checked by reading back; a created or modified object must have the
    values written (and a modified one all the properties it had), a deleted one must be
    gone. When a write fails or does not verify after other writes succeeded (for example the
    server creates the filter and the destination but refuses the subscription), the task
    fails with C(changed=true), RV(actions) and RV(created) list what was written, and the
    message names what was written and what failed.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.wbem
options:
  owner:
    description:
      - Who owns the subscription, for example the name of the playbook or team; part of the
        names of the filter and the destination. Letters, digits, C(.), C(_), C(@) and C(-).
    type: str
    required: true
  name:
    description:
      - The name of the subscription within O(owner). Letters, digits, C(.), C(_), C(@) and
        C(-).
      - Required for O(state=present). With O(state=absent) and no O(name), every
        subscription of O(owner) is removed.
    type: str
  query:
    description:
      - The query that selects the indications, for example
        V(SELECT * FROM CIM_AlertIndication WHERE PerceivedSeverity >= 5). Required for
        O(state=present).
    type: str
  query_language:
    description:
      - The language of O(query) (V(WQL), V(DMTF:CQL) ...).
    type: str
    default: WQL
  source_namespaces:
    description:
      - The namespaces whose indications the filter selects. Defaults to O(namespace).
    type: list
    elements: str
  destination:
    description:
      - The URL of the listener, for example V(https://mgmt.example.org:5999/cimlistener).
        Required for O(state=present).
    type: str
  protocol:
    description:
      - The protocol the server uses to deliver the indications.
    type: str
    choices: [cim-xml, ws-management, sm-clp, wsdm, other]
    default: cim-xml
  persistence:
    description:
      - Whether the destination survives a restart of the server (V(permanent)) or not.
    type: str
    choices: [permanent, transient, other]
    default: permanent
  destination_class:
    description:
      - The class of the listener destination. Older OpenPegasus and SFCB releases only have
        the legacy V(CIM_IndicationHandlerCIMXML).
    type: str
    choices: [CIM_ListenerDestinationCIMXML, CIM_IndicationHandlerCIMXML]
    default: CIM_ListenerDestinationCIMXML
  subscription_state:
    description:
      - Whether the subscription delivers indications.
    type: str
    choices: [enabled, disabled]
    default: enabled
  on_fatal_error_policy:
    description:
      - What the server does when delivery fails fatally. Left to the server when not set.
    type: str
    choices: [ignore, disable, remove]
  interop_namespace:
    description:
      - The Interop namespace. By default the module tries V(interop), V(root/interop),
        V(root/PG_InterOp) and V(root/PG_Interop).
    type: str
  list_owned:
    description:
      - Whether to list all subscriptions of O(owner) on the server for RV(owned), which
        takes one enumeration of each of the three classes.
      - With V(false) and O(state=present), a run that finds the filter, the destination
        and the subscription in place reads just those three objects by their paths (one
        C(GetInstance) each, after reading the server's C(CIM_ObjectManager) once per endpoint
        and run for their keys) and returns no RV(owned). When anything is missing or differs
        the module lists them anyway and goes the usual way.
    type: bool
    default: true
    version_added: 1.1.0
  state:
    description:
      - V(present) creates or updates the subscription, V(absent) removes it (or, without
        O(name), all subscriptions of O(owner)).
    type: str
    choices: [present, absent]
    default: present
notes:
  - The keys C(SystemCreationClassName) and C(SystemName) of new filters and destinations are
    those of the server's C(CIM_ObjectManager); some servers replace them with their own
    anyway. Objects are found again by their C(Name).
  - A filter of this owner that a foreign subscription uses cannot be deleted; the server then
    refuses (C(CIM_ERR_FAILED)) and the task fails.
seealso:
  - module: hostsec.mgmt.wbem_info
  - module: hostsec.mgmt.wbem_instance
  - name: DMTF DSP1054 (Indications profile)
    description: How filters, listener destinations and subscriptions work together.
    link: https://www.dmtf.org/sites/default/files/standards/documents/DSP1054_1.2.2.pdf
attributes:
  check_mode:
    support: full
    details: The instances are read; nothing is written.
  diff_mode:
    support: full
    details: Shows the managed properties of filter, destination and subscription before and after.
"""

EXAMPLES = r"""
- name: Send the site's alerts to the central listener
  hostsec.mgmt.wbem_subscription:
    server: https://cimom.example.org:5989
    username: admin
    password: "{{ vault_cim_password }}"
    owner: site-monitoring
    name: alerts
    query: SELECT * FROM CIM_AlertIndication WHERE PerceivedSeverity >= 5
    source_namespaces: [root/cimv2]
    destination: https://mgmt.example.org:5999/cimlistener

- name: An OpenPegasus 2.12 host (legacy handler class)
  hostsec.mgmt.wbem_subscription:
    owner: site-monitoring
    name: alerts
    query: SELECT * FROM CIM_AlertIndication
    destination: https://mgmt.example.org:5999/cimlistener
    destination_class: CIM_IndicationHandlerCIMXML
    interop_namespace: root/PG_InterOp

- name: Remove everything site-monitoring subscribed to
  hostsec.mgmt.wbem_subscription:
    owner: site-monitoring
    state: absent
"""

RETURN = r"""
owner:
  description: The owner.
  returned: always
  type: str
  sample: site-monitoring
object_name:
  description: The C(Name) of the filter and of the destination, V(null) for O(state=absent) without O(name).
  returned: always
  type: str
  sample: hostsec:site-monitoring:alerts
interop_namespace:
  description: The Interop namespace the objects are in.
  returned: always
  type: str
  sample: root/interop
actions:
  description:
    - What was done (in check mode, what would be done), in order.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: V(create), V(modify), V(delete), or V(modify refused (CIM_ERR_NOT_SUPPORTED)) before a re-creation.
      type: str
      sample: create
    class:
      description: The class of the instance.
      type: str
      sample: CIM_IndicationFilter
    name:
      description: The C(Name) of the filter or destination (of the filter for a subscription).
      type: str
      sample: hostsec:site-monitoring:alerts
    properties:
      description: The properties written.
      type: list
      elements: str
      sample: [Query]
created:
  description:
    - The objects created (not in check mode), in order; also returned when the task fails
      after creating some of them.
  returned: always
  type: list
  elements: dict
  contains:
    class:
      description: The class of the instance.
      type: str
      sample: CIM_IndicationFilter
    name:
      description: The C(Name) of the filter or destination (of the filter for a subscription).
      type: str
      sample: hostsec:site-monitoring:alerts
    path:
      description: The WBEM URI of the instance the server returned.
      type: str
      sample: /root/interop:CIM_IndicationFilter.CreationClassName="CIM_IndicationFilter",Name="hostsec:site-monitoring:alerts",...
filter:
  description: The filter after the task (instance dictionary; in check mode as it is now), V(null) when there is none.
  returned: always
  type: dict
destination:
  description: The listener destination after the task (instance dictionary; in check mode as it is now), V(null) when there is none.
  returned: always
  type: dict
subscription:
  description: The subscription after the task (instance dictionary; in check mode as it is now), V(null) when there is none.
  returned: always
  type: dict
removed:
  description: The names of the filters and destinations removed (O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [hostsec:site-monitoring:alerts]
owned:
  description: The names (without the owner prefix) of this owner's subscriptions on the server after the task.
  returned: unless O(list_owned=false) and the subscription was found in place by its paths
  type: list
  elements: str
  sample: [alerts]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.module_args import (
    connection_from_module, wbem_argument_spec)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.schema import ClassCache
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.subscriptions import (
    DESTINATION_CLASSES, ON_FATAL_ERROR, PERSISTENCE, PROTOCOLS, SUBSCRIPTION_STATES,
    SubscriptionManager, object_name)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.verify import fail_on_error


def main():
    module = AnsibleModule(
        argument_spec=wbem_argument_spec(
            owner=dict(type='str', required=True),
            name=dict(type='str'),
            query=dict(type='str'),
            query_language=dict(type='str', default='WQL'),
            source_namespaces=dict(type='list', elements='str'),
            destination=dict(type='str'),
            protocol=dict(type='str', choices=list(PROTOCOLS), default='cim-xml'),
            persistence=dict(type='str', choices=list(PERSISTENCE), default='permanent'),
            destination_class=dict(type='str', choices=list(DESTINATION_CLASSES),
                                   default=DESTINATION_CLASSES[0]),
            subscription_state=dict(type='str', choices=list(SUBSCRIPTION_STATES),
                                    default='enabled'),
            on_fatal_error_policy=dict(type='str', choices=list(ON_FATAL_ERROR)),
            interop_namespace=dict(type='str'),
            list_owned=dict(type='bool', default=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        required_if=[('state', 'present', ('name', 'query', 'destination'))],
        supports_check_mode=True)
    LXML.fail_if_missing(module)
    params = module.params
    with fail_on_error(module, changed=False):
        name = object_name(params['owner'], params['name']) if params['name'] else None
        with connection_from_module(module) as conn:
            manager = SubscriptionManager(conn, ClassCache(conn), params['owner'],
                                          interop_namespace=params['interop_namespace'],
                                          check_mode=module.check_mode,
                                          list_owned=params['list_owned'])
            removed = []
            if params['state'] == 'present':
                spec = dict((key, params[key]) for key in (
                    'query', 'query_language', 'destination', 'protocol', 'persistence',
                    'destination_class', 'subscription_state', 'on_fatal_error_policy'))
                spec['source_namespaces'] = params['source_namespaces'] or \
                    [(params['namespace'] or 'root/cimv2').strip('/')]
                before, after = manager.ensure(params['name'], spec)
            else:
                manager.load()
                before = manager.describe(name) if name else {}
                removed = manager.remove(params['name'])
                if manager.actions and not module.check_mode:
                    manager.load()
                after = {}
            objects = manager.instances(name) if name else \
                {'filter': None, 'destination': None, 'subscription': None}
            if module.check_mode and params['state'] == 'absent':
                objects = {'filter': None, 'destination': None, 'subscription': None}
            owned = manager.owned_names()
            if module.check_mode and removed and owned is not None:
                prefix_len = len(params['owner']) + len('hostsec::')
                gone = set(n[prefix_len:] for n in removed)
                owned = [n for n in owned if n not in gone]
    changed = bool(manager.actions)
    result = dict(changed=changed, owner=params['owner'], object_name=name,
                  interop_namespace=manager.interop, actions=manager.actions,
                  created=manager.created, removed=removed, **objects)
    if owned is not None:
        result['owned'] = owned
    if manager.warnings:
        result['warnings'] = manager.warnings
    if module._diff and changed:
        result['diff'] = {'before': before, 'after': after,
                          'before_header': name or params['owner'],
                          'after_header': name or params['owner']}
    if not changed:
        msg = 'subscription %s is %s' % (name or 'of %s' % params['owner'],
                                         'in place' if params['state'] == 'present'
                                         else 'absent')
    else:
        done = ', '.join('%s %s' % (a['action'], a['class']) for a in manager.actions)
        if module.check_mode:
            msg = 'check mode: would %s (%s)' % (done, name or params['owner'])
        else:
            msg = '%s: %s' % (name or params['owner'], done)
    module.exit_json(msg=msg, **result)


if __name__ == '__main__':
    main()
