#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: myproxy_credential
short_description: Store, delegate, re-protect or remove a credential on a MyProxy server
version_added: 1.0.0
description:
  - Makes sure a MyProxy server holds (O(state=present)) or does not hold (O(state=absent)) a
    credential for O(username) and, optionally, O(credname).
  - With O(method=store) (what C(myproxy-store) does) the end-entity certificate and its
    private key are uploaded (STORE command); the key travels encrypted with O(passphrase).
  - With O(method=put) (what C(myproxy-init) does) a new RFC 3820 proxy certificate is signed
    here with the user's credential and delegated to the server (PUT command); the user's own
    private key never leaves the host.
  - A credential already stored, owned by the authenticating client, with the same
    certificate (O(method=store)) or with at least O(min_lifetime) left (O(method=put)), with
    the same description and policies (where given), the same O(max_proxy_lifetime) and
    opened by the passphrase given, is left alone, no upload happens and nothing is written.
  - The passphrase and O(max_proxy_lifetime) of a stored credential are not in the server's
    INFO reply. The module finds them out by retrieving a short proxy from it (GET, nothing
    changes on the server; the proxy is discarded); the passphrase works or not, and the
    server issues at most the stored maximum lifetime. When that retrieval is not allowed
    (for example a O(retrievers) policy that excludes the owner), a warning says so and the
    two are not compared.
  - O(new_passphrase) changes the passphrase of the stored credential (CHANGE_PASSWORD).
  - Removal uses the DESTROY command and only happens when the credential exists. A
    credential of another owner is not removed; the task fails with
    C(MyProxyAuthorizationError) / C(NOT_OWNER).
  - Every operation needs a client credential (O(client_proxy) or O(client_cert)); the server
    records its identity as the owner, and only the owner may replace or remove the
    credential.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.myproxy
options:
  username:
    description:
      - The MyProxy account name to store the credential under.
    type: str
    required: true
  credname:
    description:
      - The credential name, to keep several credentials under one O(username). Without it the
        default credential of O(username) is managed.
    type: str
  state:
    description:
      - Whether the credential should be stored or not.
    type: str
    choices: [present, absent]
    default: present
  method:
    description:
      - How to upload. V(store) sends the end-entity certificate with its encrypted key,
        V(put) delegates a new proxy certificate.
    type: str
    choices: [store, put]
    default: store
  passphrase:
    description:
      - The passphrase that protects the stored credential; clients retrieving proxies must give
        it. Required with O(state=present). At least 6 characters; the server's passphrase
        policy may require more. Never returned or logged.
      - With O(new_passphrase), the current passphrase.
      - The empty string V('') stores a credential without a passphrase (C(myproxy-init -n));
        no client can retrieve proxies from it with a passphrase; only renewal (O(renewers),
        M(hostsec.mgmt.myproxy_logon) with
        O(hostsec.mgmt.myproxy_logon#module:renew_with)) and O(trusted_retrievers) get
        proxies from it. The server keeps the private key unencrypted then. Whether a stored
        credential has a passphrase cannot be seen from the server, so a stored credential is
        not uploaded again only to remove its passphrase, and O(max_proxy_lifetime) is not
        compared either (version 1.1.0 and later).
      - If not set, E(HOSTSEC_MYPROXY_PASSPHRASE) is used (an empty variable counts as unset).
    type: str
  new_passphrase:
    description:
      - Change the passphrase of the stored credential to this one. When the server accepts
        O(new_passphrase) already, nothing changes. When a credential has to be uploaded it is
        uploaded with O(new_passphrase) directly. Never returned or logged.
      - If not set, E(HOSTSEC_MYPROXY_NEW_PASSPHRASE) is used (an empty variable counts as
        unset); export it only for the task that changes the passphrase.
    type: str
  certificate:
    description:
      - The certificate to store (O(method=store)) or to sign the delegated proxy with
        (O(method=put)); the file may contain the key and issuing certificates too.
      - Defaults to the client credential (O(client_proxy), else O(client_cert)).
    type: path
  private_key:
    description:
      - The private key of O(certificate), when it is in a separate file.
    type: path
  private_key_passphrase:
    description:
      - The passphrase of an encrypted O(private_key). Never returned or logged.
      - If not set, E(HOSTSEC_MYPROXY_PRIVATE_KEY_PASSPHRASE) is used (an empty variable
        counts as unset).
    type: str
  lifetime:
    description:
      - O(method=put) only. The lifetime of the delegated proxy, as seconds or a duration
        such as V(7d) or V(168h). It cannot outlive the credential that signs it.
    type: raw
    default: 7d
  min_lifetime:
    description:
      - O(method=put) only. A stored proxy with less time than this left is delegated again.
    type: raw
    default: 1d
  max_proxy_lifetime:
    description:
      - The longest lifetime of the proxies the server will issue from this credential (the
        C(-t) option of C(myproxy-init)). Same format as O(lifetime).
      - Compared with the stored one to two minutes. When the server caps the lifetime of
        every proxy below this value, it cannot be verified; the module then warns after the
        upload.
    type: raw
    default: 12h
  description:
    description:
      - A description stored with the credential.
    type: str
  retrievers:
    description:
      - The credential's retriever policy, a MyProxy DN expression of the clients allowed to
        retrieve proxies with the passphrase, for example V(*) (anyone with the passphrase) or
        V(*/CN=portal.example.org).
    type: str
  renewers:
    description:
      - The credential's renewer policy (DN expression of clients that may renew a proxy).
      - Renewal (M(hostsec.mgmt.myproxy_logon) with
        O(hostsec.mgmt.myproxy_logon#module:renew_with), C(myproxy-logon -a)) also needs
        a credential stored without a passphrase (O(passphrase=''), C(myproxy-init -n -R)) and
        the server's C(authorized_renewers) policy to match the renewing client.
    type: str
  key_retrievers:
    description:
      - O(method=store) only. The DN expression of clients allowed to retrieve the key itself
        (RETRIEVE command, C(myproxy-retrieve)).
    type: str
  trusted_retrievers:
    description:
      - The DN expression of clients that may retrieve without further authentication.
    type: str
notes:
  - The server's INFO reply shows the owner, the end of validity, the description and the
    policies; the passphrase and O(max_proxy_lifetime) are compared through a proxy
    retrieval. A stored credential that neither O(passphrase) nor O(new_passphrase) opens is
    uploaded again (reason V(passphrase_differs)).
  - The server shows a client only the credentials it owns. With O(state=absent) a
    credential stored by another client makes the task fail (C(MyProxyAuthorizationError) /
    C(NOT_OWNER)); with O(state=present) the server refuses to replace it (same error).
  - In check mode nothing is uploaded, changed or removed; the server is asked for INFO, and
    proxies are retrieved and discarded to compare the passphrase and O(max_proxy_lifetime)
    and, with O(state=absent), to tell a missing credential from one of another owner.
seealso:
  - module: hostsec.mgmt.myproxy_info
  - module: hostsec.mgmt.myproxy_logon
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the stored credential's owner, end of validity, description and policies.
"""

EXAMPLES = r"""
- name: Store alice's user credential (certificate and key) for portals to use
  hostsec.mgmt.myproxy_credential:
    server: myproxy.example.org
    username: alice
    passphrase: "{{ vault_alice_myproxy_passphrase }}"
    client_cert: /home/alice/.globus/usercert.pem
    client_key: /home/alice/.globus/userkey.pem
    client_key_passphrase: "{{ vault_alice_key_passphrase }}"
    retrievers: "*/CN=portal.example.org"
    description: alice's long-term credential

- name: Delegate a one-week proxy (myproxy-init style), renewed when less than a day is left
  hostsec.mgmt.myproxy_credential:
    server: myproxy.example.org
    username: alice
    credname: batch
    method: put
    passphrase: "{{ vault_alice_myproxy_passphrase }}"
    client_proxy: /tmp/x509up_u1000
    lifetime: 7d
    min_lifetime: 1d
    max_proxy_lifetime: 12h

- name: Rotate the passphrase
  hostsec.mgmt.myproxy_credential:
    server: myproxy.example.org
    username: alice
    passphrase: "{{ vault_alice_old_passphrase }}"
    new_passphrase: "{{ vault_alice_myproxy_passphrase }}"
    client_proxy: /tmp/x509up_u1000

- name: Remove the batch credential
  hostsec.mgmt.myproxy_credential:
    server: myproxy.example.org
    username: alice
    credname: batch
    state: absent
    client_proxy: /tmp/x509up_u1000
"""

RETURN = r"""
action:
  description:
    - What was (or in check mode would be) done. V(stored), V(delegated), V(destroyed),
      V(passphrase_changed) or V(none).
  returned: always
  type: str
  sample: delegated
reason:
  description:
    - Why. V(absent), V(expiring), V(expired), V(certificate_differs), V(owner_differs),
      V(description_differs), V(retrievers_differs) ..., V(max_proxy_lifetime_differs),
      V(passphrase_differs) for uploads; V(up_to_date) when nothing had to be uploaded;
      V(new_passphrase) for a passphrase change; V(present) for a removal; V(not_present) when
      there was nothing to remove.
  returned: always
  type: str
  sample: up_to_date
credential:
  description:
    - The stored credential as the server describes it after the task (before it, in check
      mode); V(null) when there is none.
  returned: always
  type: dict
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
    remaining:
      description: Seconds of validity left.
      type: int
      sample: 604500
    description:
      description: The stored description.
      type: str
      sample: alice's long-term credential
    retrievers:
      description: The retriever policy.
      type: str
      sample: '*/CN=portal.example.org'
    renewers:
      description: The renewer policy.
      type: str
      sample: null
    key_retrievers:
      description: The key retriever policy.
      type: str
      sample: null
    trusted_retrievers:
      description: The trusted retriever policy.
      type: str
      sample: null
server:
  description: The server (C(host:port)) that answered.
  returned: always
  type: str
  sample: myproxy.example.org:7512
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.env import env_fallback_nonempty_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import deps
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.args import (
    client_from_params, myproxy_argument_spec, parse_duration)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import read_credential_file
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.errors import MyProxyInputError
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.manage import (
    POLICY_FIELDS, change_passphrase, describe_credential, destroy_unlisted, plan_upload,
    probe_stored, stored_credential)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import protocol
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import x509 as mx509


def local_credential(params, client):
    """The credential to store or to sign with."""
    if params['certificate']:
        return read_credential_file(params['certificate'], params['private_key'] or None,
                                    passphrase=params['private_key_passphrase'])
    return client.credential


def main():
    argument_spec = myproxy_argument_spec()
    argument_spec.update(
        username=dict(type='str', required=True),
        credname=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        method=dict(type='str', choices=['store', 'put'], default='store'),
        passphrase=dict(type='str', no_log=True,
                        fallback=env_fallback_nonempty_spec('HOSTSEC_MYPROXY_PASSPHRASE')),
        new_passphrase=dict(type='str', no_log=True,
                            fallback=env_fallback_nonempty_spec('HOSTSEC_MYPROXY_NEW_PASSPHRASE')),
        certificate=dict(type='path'),
        private_key=dict(type='path', no_log=False),
        private_key_passphrase=dict(type='str', no_log=True, fallback=env_fallback_nonempty_spec(
            'HOSTSEC_MYPROXY_PRIVATE_KEY_PASSPHRASE')),
        lifetime=dict(type='raw', default='7d'),
        min_lifetime=dict(type='raw', default='1d'),
        max_proxy_lifetime=dict(type='raw', default='12h'),
        description=dict(type='str'),
        retrievers=dict(type='str'),
        renewers=dict(type='str'),
        key_retrievers=dict(type='str', no_log=False),
        trusted_retrievers=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[('state', 'present', ['passphrase'])])
    deps.fail_if_missing(module)
    params = module.params
    result = {'changed': False, 'action': 'none', 'credential': None, 'server': None}

    with fail_on_error(module, **result):
        username = protocol.check_value('username', params['username'])
        credname = protocol.check_value('credname', params['credname'])
        lifetime = parse_duration(params['lifetime'], 'lifetime')
        min_lifetime = parse_duration(params['min_lifetime'], 'min_lifetime', allow_zero=True)
        max_proxy_lifetime = parse_duration(params['max_proxy_lifetime'], 'max_proxy_lifetime')
        if params['method'] == 'put' and min_lifetime >= lifetime:
            raise MyProxyInputError('min_lifetime must be shorter than lifetime')
        if params['state'] == 'present' and params['passphrase'] == '':
            # A credential without a passphrase: only renewal or trusted retrievers get it.
            if params['new_passphrase']:
                raise MyProxyInputError('new_passphrase cannot be used with an empty passphrase')
        elif params['state'] == 'present':
            protocol.check_value('passphrase', params['passphrase'])
            if params['new_passphrase']:
                protocol.check_passphrase('new_passphrase', params['new_passphrase'])
            else:
                protocol.check_passphrase('passphrase', params['passphrase'])
        client = client_from_params(params, authenticate='required')
        owner = client.credential.identity
        stored = stored_credential(client, username, credname)
        result['server'] = client.last_server
        before = describe_credential(stored)
        result['credential'] = before

        if params['state'] == 'absent':
            if stored is None:
                # INFO lists only our own credentials: one of another owner must fail.
                if destroy_unlisted(client, username, credname, check_mode=module.check_mode):
                    result.update(changed=True, action='destroyed', reason='present')
                else:
                    result['reason'] = 'not_present'
                module.exit_json(**result)
            result.update(changed=True, action='destroyed', reason='present')
            if not module.check_mode:
                client.destroy(username, credname)
                result['credential'] = None
            if module._diff:
                result['diff'] = {'before': before, 'after': None}
            module.exit_json(**result)

        source = local_credential(params, client)
        if source.key is None:
            raise MyProxyInputError('the credential to %s has no private key'
                                    % ('store' if params['method'] == 'store' else 'sign with'))
        wanted = {field: params[field] for field in POLICY_FIELDS}
        local_end = None
        if params['method'] == 'store':
            local_end = int(min([mx509.not_after(source.cert)]
                                + [mx509.not_after(cert) for cert in source.chain]).timestamp())
            if mx509.is_proxy(source.cert):
                raise MyProxyInputError('method=store uploads an end-entity credential; %s is '
                                        'a proxy (use method=put to delegate from it)'
                                        % (params['certificate'] or 'the client credential'))
        plan = dict(local_end=local_end, min_lifetime=min_lifetime, owner=owner)
        upload, reason = plan_upload(stored, wanted, params['method'], **plan)
        probe = None
        if not upload and params['passphrase'] != '':
            # What INFO does not show: the passphrase in effect and max_proxy_lifetime.
            probe = probe_stored(client, username, credname, params['passphrase'],
                                 params['new_passphrase'], max_proxy_lifetime, stored)
            if probe['error']:
                module.warn('cannot compare the passphrase and max_proxy_lifetime of the stored '
                            'credential: retrieving a proxy from it failed (%s)' % probe['error'])
            upload, reason = plan_upload(stored, wanted, params['method'], probe=probe, **plan)
        result['reason'] = reason
        new_secret = params['new_passphrase'] or params['passphrase']
        if upload:
            result.update(changed=True,
                          action='stored' if params['method'] == 'store' else 'delegated')
            if not module.check_mode:
                policies = dict(credname=credname, description=params['description'],
                                retrievers=params['retrievers'], renewers=params['renewers'],
                                trusted_retrievers=params['trusted_retrievers'])
                if params['method'] == 'store':
                    client.store(username, source, new_secret,
                                 max_proxy_lifetime=max_proxy_lifetime,
                                 key_retrievers=params['key_retrievers'], **policies)
                else:
                    client.put(username, new_secret, lifetime=lifetime,
                               max_proxy_lifetime=max_proxy_lifetime, signer=source, **policies)
        elif params['new_passphrase'] and params['new_passphrase'] != params['passphrase']:
            in_effect = probe['passphrase'] if probe else None
            if in_effect == 'current':
                if not module.check_mode:
                    client.change_passphrase(username, params['passphrase'],
                                             params['new_passphrase'], credname)
                result.update(changed=True, action='passphrase_changed', reason='new_passphrase')
            elif in_effect is None and change_passphrase(
                    client, username, credname, params['passphrase'], params['new_passphrase'],
                    check_mode=module.check_mode, warn=module.warn):
                result.update(changed=True, action='passphrase_changed', reason='new_passphrase')
        if result['changed'] and not module.check_mode:
            stored = stored_credential(client, username, credname)
            result['credential'] = describe_credential(stored)
            if reason == 'max_proxy_lifetime_differs' and stored is not None:
                again = probe_stored(client, username, credname, new_secret, None,
                                     max_proxy_lifetime, stored)
                if again['max_proxy_lifetime'] == 'shorter':
                    module.warn('the server issues proxies of at most %ss from this credential, '
                                'less than max_proxy_lifetime (%ds): it caps the lifetime, and '
                                'every run will upload again; set max_proxy_lifetime to at most '
                                'that' % (again['issued'], max_proxy_lifetime))
        if module._diff:
            after = result['credential']
            if module.check_mode and upload:
                after = dict(before or {}, owner=owner,
                             **{k: v for k, v in wanted.items() if v is not None})
                after['end_time'] = '(new)'
            result['diff'] = {'before': before, 'after': after}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
