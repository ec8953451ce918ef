#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: krb5_ticket
short_description: Keep a Kerberos ticket-granting ticket in a credential cache, or destroy it
version_added: 1.0.0
description:
  - With O(state=present) makes sure the credential cache O(ccache) holds a valid
    ticket-granting ticket (TGT) for O(principal), idempotently. The module reads the cache
    first; only when the TGT is missing, belongs to another principal, is not renewable while
    O(renewable) is wanted, does not match a ticket option that is set (O(forwardable),
    O(proxiable), O(address_restricted), O(anonymous), O(canonicalize), O(start_time)), or has
    less than O(min_lifetime) left does it contact the KDC. A run that changes nothing contacts
    no KDC.
  - A TGT with less than O(min_lifetime) left is renewed when it is renewable and can be renewed
    for at least O(min_lifetime), else a new one is acquired with O(password) or O(keytab).
  - A new ticket is obtained with python-gssapi (acquire with a password, or from a client
    keytab) into a new cache in a private temporary directory next to the target, which is then
    written over the target atomically with O(mode), O(owner) and O(group). A failed acquisition
    (wrong password, KDC down) leaves the existing cache untouched.
  - With O(state=absent) destroys the cache; in a collection (V(DIR:), V(KEYRING:)) with
    O(principal) only the cache of that principal, without O(principal) every cache of a V(DIR:)
    collection; with O(all=true) every cache of any collection, like C(kdestroy -A).
  - Renewal uses libkrb5 (C(krb5_get_renewed_creds)), through pykrb5 when it is installed or
    the collection's own binding otherwise; like C(kinit -R) the renewed cache holds
    only the renewed TGT.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.krb5
  - hostsec.mgmt.files
options:
  state:
    description:
      - V(present) keeps a valid TGT in the cache, V(absent) destroys the cache.
    type: str
    choices: [present, absent]
    default: present
  principal:
    description:
      - The client principal, for example V(alice@EXAMPLE.ORG) or V(host/node1.example.org). Without a
        realm the default realm of krb5.conf is added.
      - Required with O(state=present) unless the cache already holds a ticket to keep (then its
        principal is used, and it can only be renewed).
    type: str
  password:
    description:
      - The principal's password, to acquire a new ticket. Never logged or returned.
      - Mutually exclusive with O(keytab).
      - If not set, E(HOSTSEC_KRB5_PASSWORD) is used (an empty variable counts as unset); it
        then counts as set, so do not export it for tasks that use O(keytab),
        O(pkinit_identity) or O(anonymous) (mutually exclusive with it too).
    type: str
  keytab:
    description:
      - A client keytab with the principal's keys, to acquire a new ticket (like C(kinit -k -t)).
      - Mutually exclusive with O(password).
    type: path
  lifetime:
    description:
      - The ticket lifetime to request, in seconds or as a duration such as V(10h), V(90m) or
        V(1d12h). The KDC may issue a shorter one (the principal's and the realm's maximum).
      - Defaults to C(ticket_lifetime) of krb5.conf.
      - Must be longer than O(min_lifetime).
      - Every lifetime option of the collection reads the same forms - seconds (V(3600)), units
        V(w), V(d), V(h), V(m), V(s) in any combination (V(1d12h), V(1h 30m)), or V(H:MM[:SS]).
    type: raw
  renewable:
    description:
      - Request a renewable ticket. A TGT that is not renewable is replaced by a new one.
      - Implied by O(renew_lifetime).
      - With V(false) and no O(renew_lifetime) a ticket that is not renewable is requested.
    type: bool
    default: false
  renew_lifetime:
    description:
      - The renewable lifetime to request (a duration as for O(lifetime)). Defaults to
        C(renew_lifetime) of krb5.conf when O(renewable=true).
    type: raw
  min_lifetime:
    description:
      - Below this remaining lifetime the TGT is renewed (if renewable) or a new one acquired
        (a duration as for O(lifetime)).
    type: raw
    default: 1h
  force:
    description:
      - Always acquire a new ticket (contacting the KDC, so the task always reports a change).
    type: bool
    default: false
  mode:
    description:
      - The mode of a file cache, octal (V('0600'), quoted in YAML) or symbolic (V(u=rw,g=r); applied
        to C(0000)).
      - A cache file that grants group or others more than this mode, or has another owner than
        O(owner), is not kept; it is replaced by a new cache, which needs O(password) or O(keytab).
    type: raw
    default: '0600'
  switch:
    description:
      - In a cache collection (V(DIR:), V(KEYRING:), V(KCM:)), make the principal's cache the
        primary cache of the collection (the one C(klist) and GSSAPI applications use), as
        C(kinit) does. A run where only this changes reports RV(action=switch).
      - With V(false) a new cache becomes the primary only when the collection has no primary
        cache yet; an existing primary cache is left as it is.
      - Fails for a cache that is not part of a collection (V(FILE:)).
      - Only with O(state=present).
    type: bool
    default: false
    version_added: 1.1.0
  all:
    description:
      - With O(state=absent), destroy every cache of the collection that O(ccache) names or
        belongs to, like C(kdestroy -A) (community.general.krb_ticket calls it C(kdestroy_all)).
        For V(DIR:/dir) or V(DIR::/dir/tktX) every C(tkt*) file of the directory, for
        V(KEYRING:persistent:1000) or V(KCM:) every cache the library lists for that collection
        (C(klist -l)), for a V(FILE:) cache that file.
      - Changed only when there was a cache to destroy; the caches are listed in RV(destroyed).
      - Takes no O(principal). Without O(all), a V(DIR:) collection without O(principal) loses
        every cache too, and a V(KEYRING:) or V(KCM:) collection only its primary cache.
    type: bool
    default: false
    version_added: 1.1.0
  forwardable:
    description:
      - Request a forwardable ticket (V(true), like C(kinit -f)) or one that is not (V(false),
        C(kinit -F)). Unset leaves it to C(forwardable) of krb5.conf.
      - When set, a cached TGT whose forwardable flag (C(F) of C(klist -f)) differs is replaced.
    type: bool
    version_added: 1.1.0
  proxiable:
    description:
      - Request a proxiable ticket (V(true), C(kinit -p)) or one that is not (V(false),
        C(kinit -P)). Unset leaves it to C(proxiable) of krb5.conf.
      - When set, a cached TGT whose proxiable flag (C(P)) differs is replaced.
    type: bool
    version_added: 1.1.0
  address_restricted:
    description:
      - Request a ticket restricted to this host's addresses (C(kinit -a)). By default the
        ticket is addressless (C(kinit -A), MIT's C(noaddresses) default), whatever
        C(noaddresses) of krb5.conf says.
      - A cache that this module filled records whether addresses were requested; a cache
        filled otherwise counts as addressless. A mismatch replaces the TGT.
    type: bool
    default: false
    version_added: 1.1.0
  anonymous:
    description:
      - Request an anonymous ticket with anonymous PKINIT (C(kinit -n)), where the KDC offers
        it. O(principal) is then unset (the default realm), V(@REALM) or
        V(WELLKNOWN/ANONYMOUS@REALM); the ticket's client is
        C(WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS). No password or keytab is needed, but the
        KDC's certificate must be trusted (O(pkinit_anchors) or C(pkinit_anchors) of krb5.conf).
    type: bool
    default: false
    version_added: 1.1.0
  canonicalize:
    aliases: [canonicalization]
    description:
      - Ask the KDC to canonicalize the client name (C(kinit -C)); the ticket's client may then
        differ from O(principal). Unset leaves it to C(canonicalize) of krb5.conf.
      - The cache records the requested name and this option; a cache with the same requested
        name is kept whatever client name the KDC returned.
    type: bool
    version_added: 1.1.0
  enterprise:
    description:
      - Treat O(principal) as an enterprise name (C(kinit -E)), for example
        V(alice@example.org) where C(example.org) is a UPN suffix, not a realm; the realm is the
        default realm. The KDC maps it to the account's principal.
    type: bool
    default: false
    version_added: 1.1.0
  start_time:
    description:
      - Request a postdated ticket (C(kinit -s)) that becomes valid at this time - a duration
        from now (V(5m), as for O(lifetime)) or an absolute UTC time
        (V(2026-03-01T08:00:00Z)). The ticket is invalid (flag C(i)) until then and must be
        validated (O(validate)).
      - A cached TGT that is postdated (flag C(d)) and still waiting for its start time is
        kept; one that is not postdated is replaced.
      - The principal must be allowed postdated tickets by the KDC.
    type: raw
    version_added: 1.1.0
  validate:
    description:
      - Validate a postdated TGT once its start time has passed (C(kinit -v)), which makes it
        usable; before that nothing is done. A TGT that is not postdated is not touched.
      - When the KDC refuses because the ticket is not valid yet by its own clock (behind this
        host's, within the allowed skew; C(KRB5KRB_AP_ERR_TKT_NYV)), nothing is written and the
        run reports RV(action=none) with that reason and a warning; a later run validates it.
    type: bool
    default: false
    version_added: 1.1.0
  pkinit_identity:
    description:
      - Acquire the ticket with PKINIT, with this client certificate and key (C(kinit -X
        X509_user_identity=...)) instead of a password or keytab - V(FILE:/path/cert.pem,/path/key.pem),
        V(PKCS12:/path/file.p12), V(DIR:/path) or V(PKCS11:...) as MIT's PKINIT plugin reads
        them. The key file must not be protected by a passphrase (there is no prompt).
      - The KDC needs the PKINIT plugin (Debian package C(krb5-pkinit)) on both sides.
      - The key is read by the Kerberos library only; the module never returns it.
    type: str
    version_added: 1.1.0
  pkinit_anchors:
    description:
      - The CA certificates that sign the KDC's certificate (C(kinit -X X509_anchors=...)), for
        example V(FILE:/etc/pki/kdc-ca.pem). Without it C(pkinit_anchors) of krb5.conf applies.
    type: str
    version_added: 1.1.0
notes:
  - O(owner), O(group) and O(mode) apply to file caches (V(FILE:), and the files of a V(DIR:)
    collection). An existing cache file is looked at without following a link, through one file
    descriptor. It is kept only when it is a regular file with one link, owned by O(owner) (by
    default the user the module runs as), and grants group and others no more than O(mode);
    then its mode and group are fixed through that descriptor (RV(action=attributes)). Anything
    else (a symbolic link, another owner's file, a file others could read) is replaced by a new
    cache, written to a temporary file and renamed over it, never written through a link.
  - The directory of a V(DIR:) collection is created when missing, with mode C(0700) and
    O(owner) and O(group). An existing directory must be a directory (not a link), belong to
    O(owner) or root, and be writable by its owner only, else the task fails with
    C(FileWriteError) - anyone who could write there could swap the cache files. O(mode),
    O(owner) and O(group) apply to the cache files in it (C(tkt*)); the C(primary) file, which
    holds only a file name, gets mode C(0644) and O(owner) and O(group).
  - In a collection, a new ticket replaces the principal's cache when there is one (found like
    C(kinit) does, C(krb5_cc_cache_match)), else it goes into a new cache of the collection.
    V(KEYRING:) and V(KCM:) caches are written by the Kerberos library in place, not atomically.
  - Check mode reads the cache and reports what would be done (RV(action)); it contacts no KDC,
    so the ticket times of a new ticket are not known then.
  - The requested lifetimes reach the Kerberos library through a temporary krb5.conf in front of
    the site's (C(ticket_lifetime) and C(renew_lifetime) of C([libdefaults])); GSSAPI has no
    parameter for them.
  - With a client keytab the library also records in the cache when it should be refreshed from
    the keytab (a C(refresh_time) configuration entry), as GSSAPI applications expect.
  - The options O(forwardable), O(proxiable), O(anonymous), O(canonicalize), O(enterprise),
    O(start_time), O(pkinit_identity) and O(pkinit_anchors) are passed to libkrb5
    (C(krb5_get_init_creds_password) or C(krb5_get_init_creds_keytab) with a
    C(krb5_get_init_creds_opt)) instead of GSSAPI; such a cache gets no C(refresh_time) entry,
    but a configuration entry that records the requested name, O(address_restricted) and
    O(canonicalize) (invisible to C(klist)), compared on the next run.
  - The mapping to M(community.general.krb_ticket) and to kinit is in the Kerberos guide.
seealso:
  - module: hostsec.mgmt.krb5_ticket_info
  - module: hostsec.mgmt.krb5_keytab_info
  - module: community.general.krb_ticket
    description: Wraps the kinit, klist and kdestroy commands; M(hostsec.mgmt.krb5_ticket) reads the
      cache itself, so a run that changes nothing contacts no KDC and shows no password on a
      command line.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the cache's principal, TGT times and renewability before and after.
"""

EXAMPLES = r"""
- name: Keep a renewable ticket for the backup robot from its keytab
  hostsec.mgmt.krb5_ticket:
    principal: backup@EXAMPLE.ORG
    keytab: /etc/security/keytabs/backup.keytab
    ccache: FILE:/var/lib/backup/krb5cc
    owner: backup
    lifetime: 10h
    renew_lifetime: 7d
    min_lifetime: 2h

- name: Ticket for a user, in the user's cache collection
  hostsec.mgmt.krb5_ticket:
    principal: alice@EXAMPLE.ORG
    password: "{{ vault_alice_password }}"
    ccache: DIR:/run/user/1000/krb5cc
    owner: alice

- name: Only renew the ticket that is there (fails if it cannot be renewed)
  hostsec.mgmt.krb5_ticket:
    ccache: FILE:/var/lib/backup/krb5cc

- name: Alice's ticket in her collection, as her primary cache
  hostsec.mgmt.krb5_ticket:
    principal: alice@EXAMPLE.ORG
    password: "{{ vault_alice_password }}"
    ccache: KEYRING:persistent:1000
    switch: true

- name: Log out of every cache of a collection (kdestroy -A)
  hostsec.mgmt.krb5_ticket:
    ccache: DIR:/run/user/1000/krb5cc
    state: absent
    all: true

- name: A forwardable, proxiable ticket for alice (a new one if the cached TGT is not)
  hostsec.mgmt.krb5_ticket:
    principal: alice@EXAMPLE.ORG
    password: "{{ vault_alice_password }}"
    forwardable: true
    proxiable: true

- name: A ticket with a client certificate (PKINIT)
  hostsec.mgmt.krb5_ticket:
    principal: alice@EXAMPLE.ORG
    pkinit_identity: FILE:/etc/pki/alice.pem,/etc/pki/private/alice.key
    pkinit_anchors: FILE:/etc/pki/kdc-ca.pem

- name: An anonymous ticket (anonymous PKINIT) for FAST armour
  hostsec.mgmt.krb5_ticket:
    anonymous: true
    principal: "@EXAMPLE.ORG"
    pkinit_anchors: FILE:/etc/pki/kdc-ca.pem
    ccache: FILE:/var/lib/armor/krb5cc

- name: A ticket postdated by ten minutes, validated by a later run once it is due
  hostsec.mgmt.krb5_ticket:
    principal: backup@EXAMPLE.ORG
    keytab: /etc/security/keytabs/backup.keytab
    ccache: FILE:/var/lib/backup/krb5cc
    start_time: 10m
    validate: true

- name: Log out
  hostsec.mgmt.krb5_ticket:
    ccache: FILE:/var/lib/backup/krb5cc
    state: absent
"""

RETURN = r"""
action:
  description:
    - What was done (or would be, in check mode) - V(none), V(acquire) (a new ticket from the KDC),
      V(renew), V(validate) (a postdated TGT validated, since 1.1.0), V(attributes) (only
      mode/owner/group of the cache file), V(switch) (only the primary cache of the collection,
      O(switch)) or V(destroy).
  returned: always
  type: str
  sample: acquire
reason:
  description: Why RV(action) was chosen.
  returned: always
  type: str
  sample: the TGT has 1200s left, less than min_lifetime
principal:
  description: The client principal (with its realm), V(null) for O(state=absent) without O(principal).
  returned: always
  type: str
  sample: alice@EXAMPLE.ORG
ccache:
  description: The full name of the cache (for a collection, the principal's cache in it).
  returned: always
  type: str
  sample: FILE:/tmp/krb5cc_1000
start:
  description: When the TGT became valid (ISO 8601, UTC); V(null) when not known (absent, check mode).
  returned: always
  type: str
  sample: '2025-03-01T08:00:00Z'
end:
  description: When the TGT expires (ISO 8601, UTC).
  returned: always
  type: str
  sample: '2025-03-01T18:00:00Z'
renew_till:
  description: Until when the TGT can be renewed (ISO 8601, UTC); V(null) when it is not renewable.
  returned: always
  type: str
  sample: '2025-03-08T08:00:00Z'
renewable:
  description: Whether the TGT is renewable.
  returned: always
  type: bool
  sample: true
expires_in:
  description: Seconds until RV(end).
  returned: always
  type: int
  sample: 36000
flags:
  description: The TGT's ticket flags.
  returned: always
  type: list
  elements: str
  sample: [renewable, initial, pre_authent]
destroyed:
  description: The caches destroyed (or that would be, in check mode).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [FILE:/tmp/krb5cc_1000]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.env import env_fallback_nonempty_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.file_args import file_options
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import acquire, deps, ticket
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.args import apply_common, krb5_argument_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.util import parse_duration, parse_start_time


def argument_spec():
    return krb5_argument_spec(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        principal=dict(type='str'),
        password=dict(type='str', no_log=True,
                      fallback=env_fallback_nonempty_spec('HOSTSEC_KRB5_PASSWORD')),
        keytab=dict(type='path', no_log=False),
        lifetime=dict(type='raw'),
        renewable=dict(type='bool', default=False),
        renew_lifetime=dict(type='raw'),
        min_lifetime=dict(type='raw', default='1h'),
        force=dict(type='bool', default=False),
        mode=dict(type='raw', default='0600'),
        switch=dict(type='bool', default=False),
        all=dict(type='bool', default=False),
        forwardable=dict(type='bool'),
        proxiable=dict(type='bool'),
        address_restricted=dict(type='bool', default=False),
        anonymous=dict(type='bool', default=False),
        canonicalize=dict(type='bool', aliases=['canonicalization']),
        enterprise=dict(type='bool', default=False),
        start_time=dict(type='raw'),
        validate=dict(type='bool', default=False),
        pkinit_identity=dict(type='str', no_log=False),
        pkinit_anchors=dict(type='str'),
    )


MUTUALLY_EXCLUSIVE = [('password', 'keytab'), ('anonymous', 'enterprise'),
                      ('pkinit_identity', 'password'), ('pkinit_identity', 'keytab'),
                      ('anonymous', 'password'), ('anonymous', 'keytab'),
                      ('anonymous', 'pkinit_identity')]


def ticket_options(params):
    """The ticket options beyond the lifetimes (acquire.TicketOptions)."""
    return acquire.TicketOptions(start_time=parse_start_time(params['start_time']),
                                 **{name: params[name] for name in acquire.TicketOptions.NAMES})


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=MUTUALLY_EXCLUSIVE, add_file_common_args=True)
    deps.fail_if_missing(module, deps.GSSAPI, deps.PYKRB5)
    params = module.params
    with fail_on_error(module, changed=False):
        apply_common(params)
        files = file_options(module, '0600')
        request = ticket.TicketRequest(
            principal=params['principal'], ccache=params['ccache'], password=params['password'],
            keytab=params['keytab'], lifetime=parse_duration(params['lifetime'], 'lifetime'),
            renewable=params['renewable'],
            renew_lifetime=parse_duration(params['renew_lifetime'], 'renew_lifetime'),
            min_lifetime=parse_duration(params['min_lifetime'], 'min_lifetime'),
            force=params['force'], mode=files.mode, owner=files.owner, group=files.group,
            prepare=files.prepare, replace=files.replace, switch=params['switch'],
            everything=params['all'], validate=params['validate'],
            options=ticket_options(params))
        if params['state'] == 'present':
            result = ticket.present(request, check_mode=module.check_mode)
        else:
            result = ticket.absent(request, check_mode=module.check_mode)
    for warning in files.warnings + result.pop('warnings'):
        module.warn(warning)
    diff = result.pop('diff')
    if module._diff:
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
