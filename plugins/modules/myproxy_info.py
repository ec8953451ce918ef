#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: myproxy_info
short_description: Show the credentials a MyProxy server holds for a user
version_added: 1.0.0
description:
  - Asks a MyProxy server (INFO command, what C(myproxy-info) does) which credentials it
    holds for O(username), each credential's name, owner, start and end of validity,
    description and retrieval and renewal policies.
  - The server only lists credentials owned by the authenticating client, so a client
    credential (O(client_proxy) or O(client_cert)) is required.
  - A user without any credential is not an error, RV(credentials) is then empty.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.attributes.INFO_MODULE
  - hostsec.mgmt.myproxy
options:
  username:
    description:
      - The MyProxy account name.
    type: str
    required: true
  credname:
    description:
      - Only this credential (leave O(credname) out to list all).
    type: str
seealso:
  - module: hostsec.mgmt.myproxy_credential
"""

EXAMPLES = r"""
- name: What does the server hold for alice?
  hostsec.mgmt.myproxy_info:
    server: myproxy.example.org
    username: alice
    client_proxy: /tmp/x509up_u1000
  register: held

- name: Warn about credentials that end within a week
  ansible.builtin.debug:
    msg: "{{ item.name | default('default', true) }} ends {{ item.end_time }}"
  loop: "{{ held.credentials | selectattr('remaining', 'lt', 604800) }}"
"""

RETURN = r"""
exists:
  description: Whether at least one credential (matching O(credname) if given) is stored.
  returned: always
  type: bool
  sample: true
credentials:
  description: The stored credentials, the default one (if any) first.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The credential name, V(null) for the default credential.
      type: str
      sample: batch
    owner:
      description: The identity that stored it.
      type: str
      sample: /O=Grid/OU=Example/CN=Alice Example
    start_time:
      description: Start of validity (UTC, ISO 8601).
      type: str
      sample: '2024-05-01T08:55:00Z'
    end_time:
      description: End of validity (UTC, ISO 8601).
      type: str
      sample: '2024-05-08T09:00:00Z'
    start_epoch:
      description: Start of validity, seconds since the epoch.
      type: int
      sample: 1714553700
    end_epoch:
      description: End of validity, seconds since the epoch.
      type: int
      sample: 1715158800
    remaining:
      description: Seconds of validity left (0 when expired).
      type: int
      sample: 604500
    description:
      description: The description stored with it.
      type: str
      sample: batch jobs
    retrievers:
      description: Its retriever policy (DN expression), V(null) when the server default applies.
      type: str
      sample: '*'
    renewers:
      description: Its renewer policy.
      type: str
      sample: null
    key_retrievers:
      description: Its key retriever policy.
      type: str
      sample: null
    trusted_retrievers:
      description: Its trusted retriever policy.
      type: str
      sample: null
    lock_message:
      description: The administrator's lock message when the credential is locked, else V(null).
      type: str
      sample: null
server:
  description: The server (C(host:port)) that answered.
  returned: always
  type: str
  sample: myproxy.example.org:7512
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import deps
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.args import (
    client_from_module, myproxy_argument_spec)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.errors import (
    MyProxyCredentialNotFoundError)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.manage import describe_credential
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import protocol
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509


def main():
    argument_spec = myproxy_argument_spec()
    argument_spec.update(
        username=dict(type='str', required=True),
        credname=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    deps.fail_if_missing(module)
    result = {'changed': False, 'exists': False, 'credentials': [], 'server': None}
    with fail_on_error(module, **result):
        username = protocol.check_value('username', module.params['username'])
        credname = protocol.check_value('credname', module.params['credname'])
        client = client_from_module(module, authenticate='required')
        try:
            creds = client.info(username, credname)
        except MyProxyCredentialNotFoundError:
            creds = []
        now = mx509.now()
        result['server'] = client.last_server
        result['credentials'] = [describe_credential(cred, now, epochs=True) for cred in creds]
        result['exists'] = bool(creds)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
