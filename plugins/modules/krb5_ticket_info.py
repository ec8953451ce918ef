#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: krb5_ticket_info
short_description: List the tickets of a Kerberos credential cache
version_added: 1.0.0
description:
  - Reads a credential cache on the managed host and returns its default principal and every
    ticket in it (client and server principal, start, end and renew-till times, flags, session
    key enctype), and whether it holds a valid ticket-granting ticket (TGT). Like C(klist -f -e).
  - Reading a cache contacts no KDC. A cache that does not exist is reported with
    RV(exists=false) and RV(state=absent), a file that is not a credential cache with
    RV(exists=false) and RV(state=invalid); neither is a failure unless O(fail_if_missing=true).
  - The module reads the cache with libkrb5 (GSSAPI has no call to list the tickets of a cache),
    through pykrb5 when it is installed or the collection's own binding otherwise.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes.INFO_MODULE
  - hostsec.mgmt.krb5
options:
  principal:
    description:
      - In a cache collection (V(DIR:/directory), V(KEYRING:...)), read the cache of this
        principal instead of the primary cache.
    type: str
  fail_if_missing:
    description:
      - Fail when there is no credential cache (RV(state) is not V(present)) - the cache does not
        exist, is not a credential cache, or (with O(principal)) there is no cache for the principal.
    type: bool
    default: false
  all:
    description:
      - Also list every cache of the collection that O(ccache) names or belongs to in
        RV(caches), like C(klist -l) and C(klist -A) - each with its name, principal, whether it
        is the primary cache, and its tickets. For V(DIR:) the C(tkt*) files of the directory
        (a link there is listed as RV(caches[].state=invalid), not followed), for V(KEYRING:) and
        V(KCM:) what the library lists, for a V(FILE:) cache that file when it exists.
      - The other return values still describe the one cache read as without O(all).
    type: bool
    default: false
    version_added: 1.1.0
seealso:
  - module: hostsec.mgmt.krb5_ticket
"""

EXAMPLES = r"""
- name: What does root's cache hold?
  hostsec.mgmt.krb5_ticket_info:
  register: tickets

- name: Fail unless the backup robot has a valid TGT
  ansible.builtin.assert:
    that: tickets.tgt_valid
    fail_msg: "no valid TGT in {{ tickets.ccache }}"

- name: Every cache of a collection (klist -A)
  hostsec.mgmt.krb5_ticket_info:
    ccache: KEYRING:persistent:1000
    all: true
  register: collection

- name: The principals with a valid TGT in it
  ansible.builtin.debug:
    msg: "{{ collection.caches | selectattr('tgt_valid') | map(attribute='principal') }}"

- name: The cache of alice in her collection
  hostsec.mgmt.krb5_ticket_info:
    ccache: DIR:/run/user/1000/krb5cc
    principal: alice@EXAMPLE.ORG
"""

RETURN = r"""
ccache:
  description: The full name of the cache read (for a collection, the cache chosen in it).
  returned: always
  type: str
  sample: FILE:/tmp/krb5cc_0
type:
  description: The cache type (C(FILE), C(DIR), C(KEYRING), ...).
  returned: always
  type: str
  sample: FILE
exists:
  description:
    - Whether a credential cache exists and could be read (RV(state=present)).
    - V(false) for a file that is not a credential cache (RV(state=invalid)), even though the file
      is there.
  returned: always
  type: bool
  sample: true
state:
  description:
    - V(present) (a readable credential cache), V(absent) (nothing there), or V(invalid) (something
      is there that is not a readable credential cache, see RV(read_error)).
  returned: always
  type: str
  sample: present
principal:
  description: The default principal of the cache, V(null) when it does not exist.
  returned: always
  type: str
  sample: alice@EXAMPLE.ORG
read_error:
  description: Why the cache could not be read, when RV(state=invalid).
  returned: when RV(state=invalid)
  type: str
  sample: "Bad format in credentials cache"
tgt_valid:
  description: Whether the cache holds a TGT for the principal's realm that has not expired.
  returned: always
  type: bool
  sample: true
tgt:
  description: The TGT (the element of RV(tickets) for C(krbtgt/REALM@REALM)), V(null) when there is none.
  returned: always
  type: dict
  sample: {server: krbtgt/EXAMPLE.ORG@EXAMPLE.ORG, end: '2025-03-01T18:00:00Z'}
caches:
  description:
    - Every cache of the collection, in the order the library lists them (the primary first,
      for the collection types of MIT Kerberos 1.20) or, for V(DIR:), by file name.
  returned: when O(all=true)
  type: list
  elements: dict
  version_added: 1.1.0
  contains:
    ccache:
      description: The full name of the cache.
      type: str
      sample: DIR::/run/user/1000/krb5cc/tktA1b2C3
    type:
      description: The cache type.
      type: str
      sample: DIR
    primary:
      description: Whether this is the primary cache of the collection.
      type: bool
      sample: true
    state:
      description: V(present), V(absent) or V(invalid), as RV(state).
      type: str
      sample: present
    exists:
      description: Whether the cache could be read, as RV(exists).
      type: bool
      sample: true
    principal:
      description: The default principal of the cache.
      type: str
      sample: alice@EXAMPLE.ORG
    read_error:
      description: Why the cache could not be read, when RV(caches[].state=invalid).
      type: str
      sample: "not a safe credential cache: it is a symbolic link"
    tgt_valid:
      description: Whether the cache holds a valid TGT, as RV(tgt_valid).
      type: bool
      sample: true
    tgt:
      description: The TGT, as RV(tgt).
      type: dict
      sample: {server: krbtgt/EXAMPLE.ORG@EXAMPLE.ORG, end: '2025-03-01T18:00:00Z'}
    tickets:
      description: Every ticket in the cache, with the fields of RV(tickets).
      type: list
      elements: dict
      sample: [{server: krbtgt/EXAMPLE.ORG@EXAMPLE.ORG, end: '2025-03-01T18:00:00Z'}]
tickets:
  description: Every ticket in the cache, in the order the cache holds them.
  returned: always
  type: list
  elements: dict
  contains:
    client:
      description: The client principal.
      type: str
      sample: alice@EXAMPLE.ORG
    server:
      description: The service principal.
      type: str
      sample: krbtgt/EXAMPLE.ORG@EXAMPLE.ORG
    auth_time:
      description: When the client authenticated initially (ISO 8601, UTC).
      type: str
      sample: '2025-03-01T08:00:00Z'
    start:
      description: When the ticket became valid (ISO 8601, UTC).
      type: str
      sample: '2025-03-01T08:00:00Z'
    end:
      description: When the ticket expires (ISO 8601, UTC).
      type: str
      sample: '2025-03-01T18:00:00Z'
    renew_till:
      description: Until when the ticket can be renewed; V(null) when it is not renewable.
      type: str
      sample: '2025-03-08T08:00:00Z'
    start_epoch:
      description: RV(tickets[].start) in seconds since the epoch.
      type: int
      sample: 1740816000
    end_epoch:
      description: RV(tickets[].end) in seconds since the epoch.
      type: int
      sample: 1740852000
    renew_till_epoch:
      description: RV(tickets[].renew_till) in seconds since the epoch, V(null) when not renewable.
      type: int
      sample: 1741420800
    expired:
      description: Whether the ticket has expired.
      type: bool
      sample: false
    flags:
      description: The ticket flags by name.
      type: list
      elements: str
      sample: [forwardable, renewable, initial, pre_authent]
    flag_letters:
      description: The flags as C(klist -f) shows them.
      type: str
      sample: FRIA
    enctype:
      description: The enctype of the session key.
      type: str
      sample: aes256-cts-hmac-sha1-96
    is_tgt:
      description: Whether this is the TGT of the principal's realm.
      type: bool
      sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import ccache, deps
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.args import apply_common, krb5_argument_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.errors import CcacheNotFoundError


def main():
    module = AnsibleModule(argument_spec=krb5_argument_spec(
        principal=dict(type='str'),
        fail_if_missing=dict(type='bool', default=False),
        all=dict(type='bool', default=False),
    ), supports_check_mode=True)
    deps.fail_if_missing(module, deps.PYKRB5)
    params = module.params
    with fail_on_error(module, changed=False):
        apply_common(params)
        ref = ccache.resolve_name(params['ccache'])
        principal = params['principal']
        if principal:
            principal = ccache.canonical_principal(principal)
        info = ccache.read_cache(ref, principal)
        if params['fail_if_missing'] and info['state'] == 'invalid':
            raise CcacheNotFoundError('%s is not a credential cache: %s' % (
                ref.name, info['read_error']), error_name=info['read_error_name'])
        if params['fail_if_missing'] and not info['exists']:
            raise CcacheNotFoundError('no credential cache %s%s' % (
                ref.name, ' for %s' % principal if principal else ''), error_name='KRB5_FCC_NOFILE')
        if params['all']:
            info['caches'] = [ccache.public(member) for member in ccache.read_collection(ref)]
    module.exit_json(changed=False, **ccache.public(info))


if __name__ == '__main__':
    main()
