#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: myproxy_logon
short_description: Retrieve a proxy credential from a MyProxy server into a file, when needed
version_added: 1.0.0
description:
  - Retrieves a proxy credential from a MyProxy server (the protocol's GET command, what
    C(myproxy-logon) does) and writes it to O(dest) in the usual layout (proxy certificate,
    private key, certificate chain), atomically and with mode C(0600) by default.
  - The key pair is generated on the managed host; only a certificate request is sent, the
    private key never leaves the host.
  - Idempotent. When O(dest) already holds a credential that is valid, the server is not
    contacted at all and nothing changes. O(force=true) always retrieves a new credential.
  - Valid means, following the rules of the Globus tools for proxy files - O(dest) is a regular
    file (not a symbolic link, one hard link) owned by O(owner) that group and others cannot
    access; its key matches its certificate; its chain verifies (each proxy signed by and named
    after the next certificate, the end-entity certificate against the CAs of O(ca_dir));
    it is of the expected O(identity) if one is given; and it has at least O(min_lifetime) left.
  - Anything else at O(dest) is never used, read through a link, chmodded or chowned; a new
    credential is retrieved and written to a temporary file that is renamed over O(dest).
  - Before the server is contacted the module checks that O(dest) can be written - its directory
    exists and the module may create files in it, O(dest) is not a directory, O(owner) and
    O(group) exist - so that a credential is never fetched for nothing.
  - The result describes the credential (subject, identity, end of validity); key material and
    the passphrase are never returned or logged.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.myproxy
  - hostsec.mgmt.files
options:
  state:
    description:
      - V(present) keeps a valid credential in O(dest), retrieving one when needed.
      - V(absent) removes O(dest), as C(grid-proxy-destroy) does - a regular file of the module's
        user is overwritten with zeros before its name is removed; a symbolic link is removed,
        never followed. The server is not contacted; the credential stored on the server is
        left alone (M(hostsec.mgmt.myproxy_credential) removes that).
    type: str
    choices: [present, absent]
    default: present
  username:
    description:
      - The MyProxy account name the credential is stored under.
      - Required with O(state=present).
    type: str
  passphrase:
    description:
      - The passphrase of the stored credential. Never returned or logged.
      - May be omitted only when the server lets the authenticating client (O(client_proxy) or
        O(client_cert)) retrieve without a passphrase (C(trusted_retrievers) policy).
      - If not set, E(HOSTSEC_MYPROXY_PASSPHRASE) is used (an empty variable counts as unset).
    type: str
  credname:
    description:
      - The name of the credential, when several are stored under O(username).
    type: str
  dest:
    description:
      - The file to write the credential to.
      - Defaults to the Globus default proxy path of the user the module runs as,
        E(X509_USER_PROXY) if set, else C(/tmp/x509up_u<uid>).
      - The directory must exist and be writable.
    type: path
  lifetime:
    description:
      - The lifetime to request for the new proxy, as seconds or a duration such as V(12h),
        V(1d12h) or V(30m). The server may issue a shorter one (its own and the credential's
        maximum).
    type: raw
    default: 12h
  min_lifetime:
    description:
      - A credential in O(dest) with less time than this left is replaced. Same format as
        O(lifetime), and shorter than it.
      - When the server issues a credential with less than this (it caps the lifetime), the
        module warns, since every run would retrieve again.
    type: raw
    default: 1h
  identity:
    description:
      - The end-entity identity (DN) the credential must belong to, for example
        V(/O=Grid/OU=Example/CN=Alice Example).
      - A credential of another identity in O(dest) is replaced, and a retrieved credential of
        another identity makes the task fail without writing it.
    type: str
  renew_with:
    description:
      - Renew instead of giving a passphrase, as C(myproxy-logon -a) does - the path of a
        credential file (proxy, key and chain, as written by this module) of the identity the
        stored credential belongs to, usually the proxy about to expire. Set it to the same
        path as O(dest) to renew the proxy in O(dest) with itself; then the file is only used
        when it is one O(dest) could be kept as but for its lifetime or identity (a regular
        file of O(owner) that only the owner can read, with a chain that verifies against
        O(ca_dir)) - a link or a foreign file at O(dest) never renews (error name
        V(RENEWAL_CREDENTIAL_UNUSABLE)).
      - The server sends a challenge that is signed with the key of this credential; no
        passphrase is sent. The connection authenticates with O(client_proxy) or
        O(client_cert) when set (a service renewing a user's proxy with its own identity),
        else with this credential itself.
      - The server must allow it - its C(authorized_renewers) policy and the stored
        credential's renewers policy (see O(hostsec.mgmt.myproxy_credential#module:renewers);
        the server's C(default_renewers) when the credential has none) must match the
        identity of the connection, renewing with the credential's own identity needs
        C(allow_self_authorization true) in the server configuration, and the stored
        credential must have no passphrase
        (O(hostsec.mgmt.myproxy_credential#module:passphrase=''), C(myproxy-init -n)). A
        refused renewal fails with error name V(RENEWAL_REFUSED), the server's error text and
        these conditions; O(dest) is left as it was.
      - When O(passphrase) is also given, it is used instead when the renewal credential is
        missing, unreadable, unusable or expired (the first retrieval); otherwise that fails
        with error name V(RENEWAL_CREDENTIAL_EXPIRED), V(RENEWAL_CREDENTIAL_UNUSABLE) or the
        error of reading the file.
      - Whether a new credential is needed at all is decided as without this option - a
        valid O(dest) with more than O(min_lifetime) left is kept and the server is not
        contacted.
    type: path
    version_added: 1.1.0
  force:
    description:
      - Retrieve a new credential even when the one in O(dest) is still good.
    type: bool
    default: false
  trust_roots:
    description:
      - Also ask the server for its trust roots (C(TRUSTED_CERTS)) and write them into
        O(ca_dir), writing only files whose content changed. Only happens when a credential is
        retrieved; use M(hostsec.mgmt.myproxy_trustroots) to keep them in sync independently.
    type: bool
    default: false
  key_type:
    description:
      - The type of the key pair to generate.
    type: str
    choices: [rsa, ec]
    default: rsa
  key_size:
    description:
      - Bits of the key, V(2048), V(3072) or V(4096) for RSA; V(256), V(384) or V(521) for EC
        (the NIST P curves).
    type: int
    default: 2048
  mode:
    description:
      - The mode of O(dest), octal (V('0600'), quoted in YAML) or symbolic (V(u=rw); applied to
        C(0000)).
      - Only modes for the owner are allowed (V('0600'), V('0400')) since the Globus tools refuse a
        proxy file that group or others can read.
    type: raw
    default: '0600'
notes:
  - In check mode the module inspects O(dest) only and reports whether a credential would be
    retrieved; the server is not contacted.
  - Without O(identity) any valid credential in O(dest) counts as current; set O(identity)
    when the file may hold someone else's credential.
  - The chain of a credential in O(dest) is verified against O(ca_dir); when O(ca_dir) is not
    set, against the same default CA directory the connection to the server is verified with
    (E(X509_CERT_DIR), else C(/etc/grid-security/certificates), or C(~/.globus/certificates)
    for other users than root when it exists). When that directory does not exist no
    credential in O(dest) counts as valid and a new one is retrieved (and the connection to the
    server then fails the same way).
  - The P(hostsec.mgmt.myproxy_client#role) role uses this module to keep a proxy fresh.
  - When O(client_proxy) or O(client_cert) (or their environment variables) point to a valid
    credential, the module authenticates with it; otherwise it connects anonymously, as
    C(myproxy-logon) does.
seealso:
  - module: hostsec.mgmt.myproxy_credential
  - module: hostsec.mgmt.myproxy_trustroots
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the identity and end of validity of the credential, never its content.
"""

EXAMPLES = r"""
- name: Keep a proxy for alice in the default location (12 hours, renewed below 1 hour)
  hostsec.mgmt.myproxy_logon:
    server: myproxy.example.org
    username: alice
    passphrase: "{{ vault_alice_myproxy_passphrase }}"

- name: A proxy for a service account, owned by it, renewed when less than 4 hours are left
  hostsec.mgmt.myproxy_logon:
    server: myproxy.example.org
    username: ingest-robot
    passphrase: "{{ vault_robot_passphrase }}"
    identity: /O=Grid/OU=Example/CN=robot/ingest.example.org
    dest: /var/lib/ingest/proxy.pem
    owner: ingest
    lifetime: 24h
    min_lifetime: 4h

- name: Retrieve with the server's trust roots written into the CA directory
  hostsec.mgmt.myproxy_logon:
    server: myproxy.example.org
    username: alice
    passphrase: "{{ vault_alice_myproxy_passphrase }}"
    trust_roots: true
    ca_dir: /etc/grid-security/certificates
  register: proxy

- name: Show when it ends
  ansible.builtin.debug:
    msg: "{{ proxy.identity }} until {{ proxy.not_after }}"

- name: Renew the proxy of a service with itself before it expires (no passphrase)
  hostsec.mgmt.myproxy_logon:
    server: myproxy.example.org
    username: ingest-robot
    dest: /var/lib/ingest/proxy.pem
    renew_with: /var/lib/ingest/proxy.pem
    min_lifetime: 4h

- name: A portal renews a user's proxy with its own host certificate
  hostsec.mgmt.myproxy_logon:
    server: myproxy.example.org
    username: alice
    dest: /var/lib/portal/alice.pem
    renew_with: /var/lib/portal/alice.pem
    client_cert: /etc/grid-security/portal/hostcert.pem
    client_key: /etc/grid-security/portal/hostkey.pem

- name: Remove the proxy file of a retired service (the stored credential stays on the server)
  hostsec.mgmt.myproxy_logon:
    state: absent
    dest: /var/lib/ingest/proxy.pem
"""

RETURN = r"""
path:
  description: The credential file.
  returned: always
  type: str
  sample: /tmp/x509up_u1000
reason:
  description:
    - Why a credential was (or would be) retrieved, or V(valid) when the one in RV(path) was
      kept. One of V(valid), V(missing), V(unreadable), V(corrupt), V(key_mismatch),
      V(expired), V(expiring), V(identity_mismatch), V(forced); V(attributes) when only the
      mode or group of the file was corrected (through the file descriptor that was checked).
    - Reasons about the file itself, for which the file is replaced and never used - V(symlink),
      V(not_a_file), V(not_owner) (another owner than O(owner)), V(hard_link), V(exposed) (group
      or others may read it). V(untrusted) when its chain does not verify against O(ca_dir).
    - With O(state=absent), V(removed) (a file was removed), V(removed_symlink) or V(removed_other)
      (a link or another non-regular file was removed, never followed), or V(absent) (nothing
      was there).
  returned: always
  type: str
  sample: expiring
retrieved:
  description: Whether a credential was retrieved from the server (always V(false) in check mode).
  returned: always
  type: bool
  sample: true
renewed:
  description:
    - Whether the credential was retrieved by renewal with O(renew_with) rather than with a
      passphrase (always V(false) in check mode).
  returned: always
  type: bool
  sample: false
  version_added: 1.1.0
server:
  description: The server (C(host:port)) the credential came from; V(null) when none was contacted.
  returned: always
  type: str
  sample: myproxy.example.org:7512
subject:
  description: The subject of the proxy certificate in RV(path) (OpenSSL one-line form).
  returned: when RV(path) holds a readable credential
  type: str
  sample: /O=Grid/OU=Example/CN=Alice Example/CN=1385647291
issuer:
  description: The issuer of the proxy certificate.
  returned: when RV(path) holds a readable credential
  type: str
  sample: /O=Grid/OU=Example/CN=Alice Example
identity:
  description: The end-entity identity the proxy stands for.
  returned: when RV(path) holds a readable credential
  type: str
  sample: /O=Grid/OU=Example/CN=Alice Example
proxy_type:
  description:
    - V(rfc3820), V(rfc3820_limited), V(gsi3), V(legacy) ... or V(end_entity) when the server
      issued an end-entity certificate (MyProxy CA).
  returned: when RV(path) holds a readable credential
  type: str
  sample: rfc3820
not_before:
  description: Start of validity of the proxy certificate (UTC, ISO 8601).
  returned: when RV(path) holds a readable credential
  type: str
  sample: '2024-05-01T08:55:00Z'
not_after:
  description: When the credential stops working (the earliest end in its chain; UTC, ISO 8601).
  returned: when RV(path) holds a readable credential
  type: str
  sample: '2024-05-01T21:00:00Z'
remaining:
  description: Seconds of validity left.
  returned: when RV(path) holds a readable credential
  type: int
  sample: 43190
key_type:
  description: The key type of the credential.
  returned: when RV(path) holds a readable credential
  type: str
  sample: rsa
key_size:
  description: The key size in bits.
  returned: when RV(path) holds a readable credential
  type: int
  sample: 2048
serial_number:
  description: The serial number of the proxy certificate (decimal).
  returned: when RV(path) holds a readable credential
  type: str
  sample: '1385647291'
chain_length:
  description: How many certificates follow the proxy certificate in the file.
  returned: when RV(path) holds a readable credential
  type: int
  sample: 1
trust_roots:
  description: What writing the trust roots into O(ca_dir) did, when O(trust_roots=true) and a credential was retrieved.
  returned: when trust roots were retrieved
  type: dict
  contains:
    ca_dir:
      description: The directory.
      type: str
      sample: /etc/grid-security/certificates
    added:
      description: Files created.
      type: list
      elements: str
      sample: [3b1a5e2f.0, 3b1a5e2f.signing_policy]
    updated:
      description: Files whose content changed.
      type: list
      elements: str
      sample: []
    unchanged:
      description: Files that already had the content the server sent.
      type: list
      elements: str
      sample: []
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.env import env_fallback_nonempty_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.file_args import file_options
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.files import (
    check_destination, ensure_file, write_atomic)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import deps
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.args import (
    ca_dir, client_credential, client_from_params, myproxy_argument_spec, parse_duration,
    renewal_credential)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import default_proxy_path
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.errors import (
    MyProxyInputError, MyProxyServerError)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.manage import (
    attributes_differ, inspect_proxy_file, remove_proxy)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.trustroots import sync_trustroots
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509

FILE_MODE = '0600'


def _diff_view(path, facts):
    if not facts:
        return {'path': path, 'exists': os.path.lexists(path)}
    return {'path': path, 'exists': True, 'identity': facts['identity'],
            'subject': facts['subject'], 'not_after': facts['not_after']}


def main():
    argument_spec = myproxy_argument_spec()
    argument_spec.update(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        username=dict(type='str'),
        passphrase=dict(type='str', no_log=True,
                        fallback=env_fallback_nonempty_spec('HOSTSEC_MYPROXY_PASSPHRASE')),
        credname=dict(type='str'),
        dest=dict(type='path'),
        lifetime=dict(type='raw', default='12h'),
        min_lifetime=dict(type='raw', default='1h'),
        identity=dict(type='str'),
        force=dict(type='bool', default=False),
        renew_with=dict(type='path'),
        trust_roots=dict(type='bool', default=False),
        key_type=dict(type='str', choices=list(mx509.KEY_TYPES), default='rsa'),
        key_size=dict(type='int', default=2048),
        mode=dict(type='raw', default=FILE_MODE),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           add_file_common_args=True,
                           required_if=[('state', 'present', ('username',))])
    params = module.params
    result = {'changed': False, 'retrieved': False, 'renewed': False, 'server': None}
    if params['state'] == 'absent':
        with fail_on_error(module, **result):
            result.update(remove_proxy(params['dest'] or default_proxy_path(), module.check_mode,
                                       module._diff))
        module.exit_json(**result)
    deps.fail_if_missing(module)

    with fail_on_error(module, **result):
        lifetime = parse_duration(params['lifetime'], 'lifetime')
        min_lifetime = parse_duration(params['min_lifetime'], 'min_lifetime', allow_zero=True)
        if min_lifetime >= lifetime:
            raise MyProxyInputError('min_lifetime must be shorter than lifetime')
        if params['identity']:
            mx509.parse_dn(params['identity'])
        if params['key_type'] == 'rsa' and params['key_size'] not in mx509.RSA_SIZES or \
                params['key_type'] == 'ec' and params['key_size'] not in mx509.EC_CURVES:
            raise MyProxyInputError('key_size %s is not valid for key_type %s'
                                    % (params['key_size'], params['key_type']))
        files = file_options(module, FILE_MODE, owner_only=True)
        for warning in files.warnings:
            module.warn(warning)
        dest = params['dest'] or default_proxy_path()
        result['path'] = dest
        # Everything that would keep the credential from being written fails now, before the
        # server is contacted.
        check_destination(dest, files.owner, files.group)

        state = inspect_proxy_file(dest, min_lifetime, params['identity'], ca_dir=ca_dir(params),
                                   mode=files.mode, owner=files.owner, group=files.group)
        before = _diff_view(dest, state['credential'])
        reason = 'forced' if params['force'] else state['reason']
        need_fetch = params['force'] or not state['usable']

        if not need_fetch:
            result['reason'] = 'valid'
            result.update(state['credential'])
            replace = bool(files.replace and files.replace(dest))
            if replace or attributes_differ(state, files.mode, files.owner, files.group):
                result['changed'] = True
                result['reason'] = 'attributes'
                if not module.check_mode:
                    ensure_file(dest, state['content'], mode=files.mode, owner=files.owner,
                                group=files.group, secret=True, prepare=files.prepare,
                                replace=replace)
            module.exit_json(**result)

        result['reason'] = reason
        result['changed'] = True
        if module.check_mode:
            if state['credential']:
                result.update(state['credential'])
            if module._diff:
                result['diff'] = {'before': before,
                                  'after': {'path': dest, 'exists': True,
                                            'identity': params['identity'] or '(retrieved)',
                                            'not_after': '(retrieved)'}}
            module.exit_json(**result)

        renew_dest = bool(params['renew_with']) and \
            os.path.abspath(params['renew_with']) == os.path.abspath(dest)
        renewal = renewal_credential(params['renew_with'], fallback=bool(params['passphrase']),
                                     dest_state=state if renew_dest else None)
        client = client_from_params(params, 'optional', credential=(
            client_credential(params, 'optional') or renewal) if renewal else None)
        if not params['passphrase'] and client.credential is None:
            raise MyProxyInputError('passphrase is required unless a client credential '
                                    '(client_proxy or client_cert) or renew_with is used')
        credential, roots = client.get(
            params['username'], params['passphrase'] or '', lifetime=lifetime,
            credname=params['credname'], key_type=params['key_type'],
            key_size=params['key_size'], want_trustroots=params['trust_roots'],
            renewal=renewal)
        result['server'] = client.last_server
        result['renewed'] = renewal is not None
        facts = credential.describe()
        if params['identity'] and not mx509.dn_equal(facts['identity'], params['identity']):
            raise MyProxyServerError(
                'the server returned a credential for %s, not for the expected identity %s; '
                'nothing was written' % (facts['identity'], params['identity']),
                error_name='IDENTITY_MISMATCH')
        write_atomic(dest, credential.to_pem(), mode=files.mode, owner=files.owner,
                     group=files.group, prepare=files.prepare)
        result['retrieved'] = True
        result.update(facts)
        if facts['remaining'] < min_lifetime:
            module.warn('the server issued a credential with %ds left, less than min_lifetime '
                        '(%ds): it caps the lifetime (its own or the stored credential\'s '
                        'maximum), so every run will retrieve again; set min_lifetime below that'
                        % (facts['remaining'], min_lifetime))
        if roots is not None:
            directory = ca_dir(params)
            sync = sync_trustroots(directory, roots)
            result['trust_roots'] = {'ca_dir': directory, 'added': sync['added'],
                                     'updated': sync['updated'], 'unchanged': sync['unchanged']}
        if module._diff:
            result['diff'] = {'before': before, 'after': _diff_view(dest, facts)}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
