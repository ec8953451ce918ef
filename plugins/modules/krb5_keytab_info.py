#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: krb5_keytab_info
short_description: List the entries of a Kerberos keytab and prove with a GSSAPI handshake that it works
version_added: 1.0.0
description:
  - Returns the entries of a keytab (principal, key version number, enctype, timestamp; never
    key material), listed with libkrb5 (through pykrb5 when it is installed, else through the
    collection's own binding).
  - With O(verify=true) proves that the keytab works for each service principal in it (or the
    ones in O(service_principals)) with a real Kerberos GSSAPI handshake, in-process - initiator
    credentials (from O(ccache), or acquired with O(initiator_password) or O(initiator_keytab)) get a
    service ticket from the KDC and establish a security context, with mutual authentication,
    with acceptor credentials made from the keytab alone. This fails when the keytab lacks the
    key, kvno or enctype the KDC currently uses for the principal, exactly as a service using the
    keytab would.
  - The result of every handshake is returned - success, or the stage that failed with the
    Kerberos error name, the GSS major and minor status and the message. The task fails when a
    handshake fails, unless O(fail_on_verify_failure=false).
  - Nothing on the host changes - an initiator cache is copied into a private temporary cache
    first (the service ticket lands there) and the acceptor uses no replay cache.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes.INFO_MODULE
  - hostsec.mgmt.krb5
options:
  keytab:
    description:
      - The keytab, a path or a name such as V(FILE:/etc/krb5.keytab). Defaults to the
        default keytab (E(KRB5_KTNAME), C(default_keytab_name) of krb5.conf, C(/etc/krb5.keytab)).
    type: str
  verify:
    description:
      - Verify the keytab with a GSSAPI handshake, see the description.
    type: bool
    default: false
  service_principals:
    description:
      - The service principals to verify. Defaults to every principal in the keytab.
    type: list
    elements: str
  initiator_principal:
    description:
      - The client principal of the handshake. With O(ccache) only, the default principal of the
        cache is used when this is not set.
    type: str
  initiator_password:
    description:
      - The password of O(initiator_principal), to acquire initiator credentials (they stay in
        memory). Never logged or returned.
      - If not set, E(HOSTSEC_KRB5_INITIATOR_PASSWORD) is used (an empty variable counts as
        unset); it then counts as set, so do not export it for tasks that use
        O(initiator_keytab).
    type: str
  initiator_keytab:
    description:
      - A client keytab with the key of O(initiator_principal), to acquire initiator credentials.
    type: path
  fail_on_verify_failure:
    description:
      - Whether the task fails when a handshake fails.
    type: bool
    default: true
notes:
  - Without O(initiator_password) and O(initiator_keytab) the initiator credentials come from
    O(ccache) (or the default cache), which needs a valid TGT.
  - Verifying a service principal of a host-based service gets a service ticket from the KDC,
    which the KDC logs like any other.
seealso:
  - module: hostsec.mgmt.krb5_ticket
"""

EXAMPLES = r"""
- name: Which keys does the host keytab hold?
  hostsec.mgmt.krb5_keytab_info:
    keytab: /etc/krb5.keytab
  register: host_keytab

- name: Prove the HTTP keytab works, with a ticket for a monitoring principal
  hostsec.mgmt.krb5_keytab_info:
    keytab: /etc/httpd/http.keytab
    verify: true
    initiator_principal: monitor@EXAMPLE.ORG
    initiator_keytab: /etc/security/keytabs/monitor.keytab

- name: Verify with the TGT in a cache, report without failing
  hostsec.mgmt.krb5_keytab_info:
    keytab: /etc/krb5.keytab
    verify: true
    ccache: FILE:/var/lib/monitor/krb5cc
    fail_on_verify_failure: false
  register: check
"""

RETURN = r"""
keytab:
  description: The keytab's full name.
  returned: always
  type: str
  sample: FILE:/etc/krb5.keytab
entries:
  description: The keytab entries, in keytab order.
  returned: always
  type: list
  elements: dict
  contains:
    principal:
      description: The principal of the key.
      type: str
      sample: HTTP/www.example.org@EXAMPLE.ORG
    kvno:
      description: The key version number.
      type: int
      sample: 3
    enctype:
      description: The encryption type.
      type: str
      sample: aes256-cts-hmac-sha1-96
    enctype_number:
      description: The encryption type number.
      type: int
      sample: 18
    timestamp:
      description: When the key was written into the keytab (ISO 8601, UTC).
      type: str
      sample: '2025-03-01T08:00:00Z'
principals:
  description: The distinct principals of the keytab with their highest kvno and enctypes.
  returned: always
  type: list
  elements: dict
  sample: [{principal: HTTP/www.example.org@EXAMPLE.ORG, kvno: 3, enctypes: [aes256-cts-hmac-sha1-96]}]
verified:
  description: Whether every handshake succeeded; V(null) without O(verify).
  returned: always
  type: bool
  sample: true
verification:
  description: One result per verified service principal; empty without O(verify).
  returned: always
  type: list
  elements: dict
  contains:
    principal:
      description: The service principal.
      type: str
      sample: HTTP/www.example.org@EXAMPLE.ORG
    initiator:
      description: The client principal of the handshake.
      type: str
      sample: monitor@EXAMPLE.ORG
    success:
      description: Whether the security context was established.
      type: bool
      sample: false
    stage:
      description:
        - V(complete), or where it failed - V(initiator credentials), V(initiate) (getting the
          service ticket, making the token), V(acceptor credentials) (from the keytab) or V(accept).
      type: str
      sample: accept
    error_class:
      description: The class of the failure (as in C(error.class) of a failed task).
      type: str
      sample: KeytabError
    error_name:
      description: The Kerberos error name of the failure (or the GSS major status name).
      type: str
      sample: KRB5_KT_KVNONOTFOUND
    gss_major:
      description: The GSS major status.
      type: int
      sample: 851968
    gss_major_name:
      description: The name of the GSS major status.
      type: str
      sample: GSS_S_FAILURE
    gss_minor:
      description: The GSS minor status, the Kerberos error code (signed).
      type: int
      sample: -1765328340
    message:
      description: The message of the library.
      type: str
      sample: "accept for HTTP/www.example.org@EXAMPLE.ORG: Key version number for principal in key table is incorrect"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.env import env_fallback_nonempty_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import deps, keytab
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.args import apply_common, krb5_argument_spec


def principal_summary(entries):
    summary = {}
    for entry in entries:
        item = summary.setdefault(entry['principal'], {'principal': entry['principal'], 'kvno': 0,
                                                       'enctypes': []})
        item['kvno'] = max(item['kvno'], entry['kvno'])
        if entry['enctype'] not in item['enctypes']:
            item['enctypes'].append(entry['enctype'])
    return list(summary.values())


def main():
    module = AnsibleModule(argument_spec=krb5_argument_spec(
        keytab=dict(type='str', no_log=False),
        verify=dict(type='bool', default=False),
        service_principals=dict(type='list', elements='str'),
        initiator_principal=dict(type='str'),
        initiator_password=dict(type='str', no_log=True, fallback=env_fallback_nonempty_spec(
            'HOSTSEC_KRB5_INITIATOR_PASSWORD')),
        initiator_keytab=dict(type='path', no_log=False),
        fail_on_verify_failure=dict(type='bool', default=True),
    ), supports_check_mode=True, mutually_exclusive=[('initiator_password', 'initiator_keytab')],
        required_by={'initiator_password': 'initiator_principal'})
    params = module.params
    deps.fail_if_missing(module, deps.PYKRB5)
    if params['verify']:
        deps.fail_if_missing(module, deps.GSSAPI)
    with fail_on_error(module, changed=False):
        apply_common(params)
        name = keytab.keytab_name(params['keytab'])
        entries = keytab.list_entries(name)
        principals = principal_summary(entries)
        verification = []
        if params['verify']:
            wanted = params['service_principals'] or [p['principal'] for p in principals]
            initiator = {'principal': params['initiator_principal'], 'ccache': params['ccache'],
                         'password': params['initiator_password'],
                         'keytab': params['initiator_keytab']}
            verification = keytab.verify(name, wanted, initiator)
    result = dict(changed=False, keytab=name, entries=entries, principals=principals,
                  verification=verification,
                  verified=all(v['success'] for v in verification) if params['verify'] else None)
    failures = [v for v in verification if not v['success']]
    if failures and params['fail_on_verify_failure']:
        first = failures[0]
        module.fail_json(msg='keytab %s failed verification for %s: %s: %s: %s' % (
            name, ', '.join(v['principal'] for v in failures), first['error_class'],
            first['error_name'], first['message']),
            error={'class': first['error_class'], 'name': first['error_name'],
                   'message': first['message']}, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
