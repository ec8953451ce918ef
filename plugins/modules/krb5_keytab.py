#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: krb5_keytab
short_description: Keep a Kerberos keytab holding working keys for a list of principals (MIT kadmin)
version_added: 1.1.0
description:
  - With O(state=present), makes sure the keytab at O(path) holds, for every principal of
    O(principals), the keys the KDC uses now - the current key version number (kvno) of each
    enctype. The KDC's kvno and enctypes come from C(kadmin getprinc); with O(verify=true) a
    GSSAPI handshake (as M(hostsec.mgmt.krb5_keytab_info) does) also proves that the KDC accepts
    the keytab's key.
  - A missing, stale (older kvno) or rejected entry is fetched with the site's MIT C(kadmin)
    (C(ktadd), with C(-norandkey) unless O(norandkey=false)); every other entry of the keytab is
    kept byte for byte. A run that finds every key current changes no key on the KDC and writes
    nothing.
  - Rotation - O(rotate=true), or a key older than O(max_key_age) - has the KDC make new random
    keys (C(ktadd) without C(-norandkey), a new kvno) and keeps the O(keep_old_kvnos) previous
    generations of that principal in the keytab, so services keep accepting tickets issued
    before the rotation; older generations are removed.
  - With O(state=absent), removes every entry of the principals of O(principals); the keytab file
    stays, with the other principals' entries unchanged. kadmin is not used.
  - The keytab is read without following links and written as a whole file - a temporary file in
    the same directory, renamed over O(path) - with O(mode), O(owner) and O(group). A link, a
    file of another owner or a file with a second hard link at O(path) is not trusted; its
    entries are not kept and it is replaced by a new file, never written through.
  - Results and diffs list principals, kvnos and enctypes; key material never leaves the keytab.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.krb5
  - hostsec.mgmt.files
options:
  path:
    description:
      - The keytab file.
    type: path
    required: true
    aliases: [keytab]
  principals:
    description:
      - The principals whose keys the keytab holds (O(state=present)) or loses
        (O(state=absent)), such as V(HTTP/www.example.org) or V(host/db1.example.org@EXAMPLE.ORG).
        A name without a realm is in O(realm), or else in the default realm.
    type: list
    elements: str
    required: true
  state:
    description:
      - Whether the keytab holds the principals' keys or none of them.
    type: str
    choices: [present, absent]
    default: present
  kadmin_principal:
    description:
      - The administrator kadmin authenticates as (C(kadmin -p)), such as
        V(keytab/admin@EXAMPLE.ORG). Its ACL on the admin server needs the C(i) (inquire)
        privilege, C(e) (extract) for C(-norandkey) and C(c) (change password) for new random
        keys.
      - Required with O(state=present).
    type: str
  kadmin_keytab:
    description:
      - A keytab with the key of O(kadmin_principal) (C(kadmin -k -t)).
    type: path
  kadmin_password:
    description:
      - The password of O(kadmin_principal). It is written to kadmin's standard input, never
        put on a command line or in the environment of kadmin. Never logged or returned.
      - If not set, E(HOSTSEC_KRB5_KADMIN_PASSWORD) is used (an empty variable counts as unset).
      - Without O(kadmin_keytab) and O(kadmin_password), kadmin uses the credential cache
        O(ccache) (C(kadmin -c)), or the default cache.
    type: str
  kadmin_server:
    description:
      - The admin server, C(host) or C(host:port) (C(kadmin -s)). Defaults to C(admin_server) of
        the realm in krb5.conf.
    type: str
    aliases: [admin_server]
  realm:
    description:
      - The realm of the principals without one, and of kadmin (C(kadmin -r)). Defaults to the
        default realm of krb5.conf.
    type: str
  enctypes:
    description:
      - The encryption types of the keys the keytab holds, such as V(aes256-cts-hmac-sha1-96).
        Defaults to every enctype the KDC has for the principal.
      - New random keys (rotation, O(norandkey=false)) are made of these enctypes
        (C(ktadd -e)); keys extracted with C(-norandkey) are filtered to them.
    type: list
    elements: str
  norandkey:
    description:
      - Fetch a missing or stale entry with C(ktadd -norandkey), the principal's current keys,
        unchanged - other keytabs of the principal keep working. Needs the C(e) privilege.
      - With V(false), C(ktadd) gives the principal new random keys (a new kvno) to fetch it;
        every other keytab of the principal then stops working.
    type: bool
    default: true
  rotate:
    description:
      - Give every principal new random keys (a new kvno) now, on every run. See
        O(keep_old_kvnos).
    type: bool
    default: false
  max_key_age:
    description:
      - Rotate a principal's keys when they are older than this (the principal's last key
        change on the KDC, C(getprinc)'s C(Last password change)). A duration such as V(90d),
        V(12h) or a number of seconds.
    type: raw
  keep_old_kvnos:
    description:
      - How many generations (kvnos) older than the new one a rotation keeps in the keytab
        for each rotated principal. Services keep accepting tickets issued before a rotation
        while those tickets live (up to the realm's maximum ticket life) only if this is at least
        V(1). Older generations are removed.
    type: int
    default: 1
  verify:
    description:
      - Prove with a GSSAPI handshake that the KDC accepts the keytab's key of every principal
        (O(state=present)). The initiator is O(kadmin_principal), with its password, keytab or
        cache. A current entry the KDC does not accept is fetched again; after a change the new
        keytab is verified and the task fails when a handshake fails (the keytab is written
        all the same, since the KDC has the new keys).
    type: bool
    default: true
  mode:
    description:
      - The mode of the keytab, octal (V('0600'), quoted in YAML) or symbolic (V(u=rw,g=r);
        applied to C(0000)).
    type: raw
    default: '0600'
notes:
  - Requires the MIT Kerberos C(kadmin) client on the managed host (Debian C(krb5-user), RHEL
    C(krb5-workstation)) for O(state=present).
  - Every kadmin query authenticates anew (one C(getprinc) per principal, one C(ktadd) per
    change). kadmin's own credential cache and the keytab C(ktadd) writes are in a private
    temporary directory that is removed afterwards.
  - Check mode runs C(getprinc) (and the handshake with O(verify)) but no C(ktadd); the entries
    it predicts for new random keys are the next kvno of each enctype.
  - Heimdal's kadmin and FreeIPA's C(ipa-getkeytab) are not supported.
seealso:
  - module: hostsec.mgmt.krb5_keytab_info
  - module: hostsec.mgmt.krb5_ticket
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff lists the keytab's entries (principal, kvno, enctype) and its mode and owner before and after, never keys.
"""

EXAMPLES = r"""
- name: The HTTP service's keytab holds its current keys (extracted, not changed)
  hostsec.mgmt.krb5_keytab:
    path: /etc/httpd/http.keytab
    principals:
      - HTTP/www.example.org
    kadmin_principal: keytab/admin@EXAMPLE.ORG
    kadmin_keytab: /etc/security/keytabs/keytab-admin.keytab
    owner: apache
    mode: '0400'

- name: New keys every 90 days, keeping the previous generation for tickets still in use
  hostsec.mgmt.krb5_keytab:
    path: /etc/krb5.keytab
    principals:
      - host/{{ inventory_hostname }}
      - nfs/{{ inventory_hostname }}
    max_key_age: 90d
    keep_old_kvnos: 1
    kadmin_principal: keytab/admin@EXAMPLE.ORG
    kadmin_password: "{{ vault_kadmin_password }}"

- name: Remove a retired service's keys (the other entries stay)
  hostsec.mgmt.krb5_keytab:
    path: /etc/krb5.keytab
    principals:
      - ftp/{{ inventory_hostname }}
    state: absent
"""

RETURN = r"""
keytab:
  description: The keytab's path.
  returned: always
  type: str
  sample: /etc/httpd/http.keytab
entries:
  description:
    - The entries of the keytab after the task, in keytab order (never key material).
    - In check mode, the entries new keys would be given have no C(timestamp).
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
      sample: '2026-03-01T08:00:00Z'
principals:
  description: What was done for each principal of O(principals).
  returned: always
  type: list
  elements: dict
  contains:
    principal:
      description: The principal's full name.
      type: str
      sample: HTTP/www.example.org@EXAMPLE.ORG
    action:
      description: V(none), V(fetch), V(rotate) or V(remove).
      type: str
      sample: fetch
    reason:
      description: Why.
      type: str
      sample: the keytab has kvno 1, the KDC kvno 2
    kdc_kvno:
      description: The principal's kvno on the KDC after the task (O(state=present)).
      type: int
      sample: 2
    key_age:
      description: Seconds since the principal's keys were changed, before the task (O(state=present)).
      type: int
      sample: 86400
    randomized:
      description: Whether the KDC gave (or, in check mode, would give) the principal new random keys (O(state=present)).
      type: bool
      sample: false
    added:
      description: The entries added (kvno and enctype).
      type: list
      elements: dict
      sample: [{kvno: 2, enctype: aes256-cts-hmac-sha1-96}]
    removed:
      description: The entries removed (kvno and enctype).
      type: list
      elements: dict
      sample: [{kvno: 1, enctype: aes256-cts-hmac-sha1-96}]
    added_kvnos:
      description: The distinct kvnos added.
      type: list
      elements: int
      sample: [2]
    removed_kvnos:
      description: The distinct kvnos removed.
      type: list
      elements: int
      sample: []
rotated:
  description: Whether any principal got new keys by rotation.
  returned: always
  type: bool
  sample: false
verification:
  description:
    - The GSSAPI handshakes with O(verify), one per principal, as C(verification) of
      M(hostsec.mgmt.krb5_keytab_info) returns them; empty without O(verify) and in check mode
      after a predicted change.
  returned: always
  type: list
  elements: dict
  sample: [{principal: HTTP/www.example.org@EXAMPLE.ORG, success: true, stage: complete}]
file:
  description:
    - What was done to the keytab file - C(changed), C(content_changed), C(attributes_changed),
      C(replaced), C(problem) (why an existing file was not kept) and C(before)/C(after)
      (C(exists), C(mode), C(owner), C(group)). V(null) when O(state=absent) and there is no keytab.
  returned: always
  type: dict
  sample: {changed: true, content_changed: true, problem: null, after: {exists: true, mode: '0600', owner: root, group: root}}
replaced_untrusted:
  description: Why the file at O(path) was not trusted and its entries not kept (V(symlink), V(other), V(not_owner), V(hard_link)).
  returned: when the file at O(path) was not trusted
  type: str
  sample: symlink
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.duration import parse_duration
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.env import env_fallback_nonempty_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import InvalidInputError, fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.file_args import file_options
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import deps, keytab_state
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.args import apply_common, krb5_argument_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.kadmin import Kadmin


def argument_spec():
    return krb5_argument_spec(
        path=dict(type='path', required=True, aliases=['keytab']),
        principals=dict(type='list', elements='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        kadmin_principal=dict(type='str'),
        kadmin_keytab=dict(type='path', no_log=False),
        kadmin_password=dict(type='str', no_log=True, fallback=env_fallback_nonempty_spec(
            'HOSTSEC_KRB5_KADMIN_PASSWORD')),
        kadmin_server=dict(type='str', aliases=['admin_server']),
        realm=dict(type='str'),
        enctypes=dict(type='list', elements='str'),
        norandkey=dict(type='bool', default=True),
        rotate=dict(type='bool', default=False),
        max_key_age=dict(type='raw', no_log=False),
        keep_old_kvnos=dict(type='int', default=1, no_log=False),
        verify=dict(type='bool', default=True),
        mode=dict(type='raw', default='0600'),
    )


def options(params):
    if params['keep_old_kvnos'] < 0:
        raise InvalidInputError('keep_old_kvnos cannot be negative')
    return {'enctypes': params['enctypes'], 'norandkey': params['norandkey'],
            'rotate': params['rotate'], 'keep_old_kvnos': params['keep_old_kvnos'],
            'max_key_age': parse_duration(params['max_key_age'], 'max_key_age', none_ok=True),
            'verify': params['verify']}


def run(module, params, files):
    if params['state'] == 'absent':
        return keytab_state.ensure_absent(params['path'], params['principals'], params['realm'],
                                          files, module.check_mode)
    kadmin = Kadmin(params['kadmin_principal'], keytab=params['kadmin_keytab'],
                    password=params['kadmin_password'], server=params['kadmin_server'],
                    realm=params['realm'], ccache=params['ccache'])
    initiator = {'principal': kadmin.principal, 'password': params['kadmin_password'],
                 'keytab': params['kadmin_keytab'], 'ccache': params['ccache']}
    return keytab_state.ensure_present(params['path'], params['principals'], kadmin,
                                       options(params), files, module.check_mode, initiator)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           add_file_common_args=True,
                           mutually_exclusive=[('kadmin_password', 'kadmin_keytab')],
                           required_if=[('state', 'present', ['kadmin_principal'])])
    params = module.params
    deps.fail_if_missing(module, deps.PYKRB5)
    if params['verify'] and params['state'] == 'present':
        deps.fail_if_missing(module, deps.GSSAPI)
    with fail_on_error(module, changed=False):
        apply_common(params)
        files = file_options(module, '0600')
        result = run(module, params, files)
    for warning in files.warnings:
        module.warn(warning)
    diff = result.pop('diff')
    if module._diff:
        result['diff'] = diff
    failures = [v for v in result['verification'] if not v['success']]
    if failures:
        first = failures[0]
        module.fail_json(msg='%s: %s: keytab %s failed verification for %s: %s' % (
            first['error_class'], first['error_name'], params['path'],
            ', '.join(v['principal'] for v in failures), first['message']),
            error={'class': first['error_class'], 'name': first['error_name'],
                   'message': first['message']}, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
