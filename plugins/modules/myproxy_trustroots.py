#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: myproxy_trustroots
short_description: Download a MyProxy server's trust roots into a CA directory
version_added: 1.0.0
description:
  - Asks a MyProxy server for the CA certificates and policy files it trusts (GET_TRUSTROOTS
    command, what C(myproxy-get-trustroots) does) and writes them into O(dest), mode C(0644) by
    default, each file atomically and only when its content or its attributes differ.
  - O(mode), O(owner) and O(group) apply to each file written (not to the directory). An
    existing file is looked at through a descriptor opened without following links; a link, a
    file of another owner than O(owner) or with several hard links is replaced by a new file,
    never chmodded or chowned through its path.
  - With O(remove_stale=true), files in O(dest) that the server did not send are removed, so
    that O(dest) mirrors the server's trust roots.
  - The connection is verified against the CA directory O(ca_dir) (default O(dest)). To get
    the very first trust roots, O(bootstrap=true) connects without verifying the server
    (trust on first use); afterwards the server must present a certificate that chains to the
    trust roots it sent, else nothing is written.
  - Verification comes first. O(bootstrap=true) only bootstraps when O(ca_dir) holds no CA
    certificate; when it does, the connection is verified against it, and a server that does
    not chain to it is refused (C(MyProxyServerIdentityError)) and O(dest) is left untouched.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
  - hostsec.mgmt.myproxy
  - hostsec.mgmt.files
options:
  dest:
    description:
      - The CA directory to write into; created (mode C(0755)) when missing.
      - Defaults to O(ca_dir), else E(X509_CERT_DIR), else C(/etc/grid-security/certificates)
        (C(~/.globus/certificates) for other users than root when it exists).
    type: path
  bootstrap:
    description:
      - Do not verify the server certificate for this download (trust on first use), when
        O(ca_dir) holds no CA certificate to verify it with. When it holds one, the
        connection is verified as without O(bootstrap), so a man in the middle cannot replace
        (or, with O(remove_stale=true), delete) trust roots that are already there.
      - An unverified download is reported with a warning and RV(bootstrapped=true).
      - Only use it when the network path to the server is trusted, typically once, when a
        host is set up. To move to a server with a new CA, empty O(ca_dir) (or point O(dest)
        and O(ca_dir) to a new directory) first.
    type: bool
    default: false
  mode:
    description:
      - The mode of each file written, octal (V('0644'), quoted in YAML) or symbolic
        (V(u=rw,go=r); applied to C(0000)).
    type: raw
    default: '0644'
  remove_stale:
    description:
      - Remove files (and symbolic links) from O(dest) that the server did not send.
        Subdirectories are left alone.
      - Do not use it on a directory that other sources (packages, other servers) also install
        CA files into.
    type: bool
    default: false
notes:
  - Check mode downloads the trust roots (a read-only request) and reports what would change.
seealso:
  - module: hostsec.mgmt.myproxy_logon
    description: Can fetch the trust roots together with a credential.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff lists the files of O(dest) with the SHA-256 of their content.
"""

EXAMPLES = r"""
- name: First contact with a new server (trust on first use)
  hostsec.mgmt.myproxy_trustroots:
    server: myproxy.example.org
    dest: /etc/grid-security/certificates
    bootstrap: true

- name: Keep the trust roots in sync afterwards (verified connection)
  hostsec.mgmt.myproxy_trustroots:
    server: myproxy.example.org
    dest: /etc/grid-security/certificates
    remove_stale: true
"""

RETURN = r"""
dest:
  description: The CA directory.
  returned: always
  type: str
  sample: /etc/grid-security/certificates
files:
  description: The file names the server sent.
  returned: success
  type: list
  elements: str
  sample: [3b1a5e2f.0, 3b1a5e2f.signing_policy]
added:
  description: Files created.
  returned: success
  type: list
  elements: str
  sample: [3b1a5e2f.0]
updated:
  description: Files whose content (or mode) changed.
  returned: success
  type: list
  elements: str
  sample: []
removed:
  description: Files removed (O(remove_stale=true)).
  returned: success
  type: list
  elements: str
  sample: []
unchanged:
  description: Files that already had the content the server sent.
  returned: success
  type: list
  elements: str
  sample: [3b1a5e2f.signing_policy]
server_subject:
  description: The subject of the server certificate.
  returned: success
  type: str
  sample: /O=Grid/OU=Example/CN=host/myproxy.example.org
bootstrapped:
  description:
    - Whether the server certificate was accepted without verification (O(bootstrap=true)
      with no CA certificate in O(ca_dir)).
  returned: always
  type: bool
  sample: false
server:
  description: The server (C(host:port)) that answered.
  returned: success
  type: str
  sample: myproxy.example.org:7512
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.file_args import file_options
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import deps
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.args import (
    client_from_params, myproxy_argument_spec)
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.credentials import default_cert_dir
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.trustroots import (
    check_bootstrap, has_trust_roots, sync_trustroots)


def main():
    argument_spec = myproxy_argument_spec()
    argument_spec.update(
        dest=dict(type='path'),
        bootstrap=dict(type='bool', default=False),
        remove_stale=dict(type='bool', default=False),
        mode=dict(type='raw', default='0644'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           add_file_common_args=True)
    deps.fail_if_missing(module)
    params = dict(module.params)
    dest = params['dest'] or params['ca_dir'] or default_cert_dir()
    params['ca_dir'] = params['ca_dir'] or dest
    bootstrap = params['bootstrap'] and not has_trust_roots(params['ca_dir'])
    result = {'changed': False, 'dest': dest, 'bootstrapped': bootstrap}
    with fail_on_error(module, **result):
        files = file_options(module, '0644')
        for warning in files.warnings:
            module.warn(warning)
        client = client_from_params(params, authenticate='optional')
        if bootstrap:
            module.warn('bootstrap: %s holds no trust roots, so the server certificate is not '
                        'verified for this download (trust on first use)' % params['ca_dir'])
        roots, chain, subject = client.get_trustroots(bootstrap=bootstrap)
        if bootstrap:
            check_bootstrap(roots, chain, subject)
        sync = sync_trustroots(dest, roots, remove_stale=params['remove_stale'],
                               check_mode=module.check_mode, mode=files.mode, owner=files.owner,
                               group=files.group, prepare=files.prepare, replace=files.replace)
        result.update(changed=sync['changed'], files=sync['files'], added=sync['added'],
                      updated=sync['updated'], removed=sync['removed'],
                      unchanged=sync['unchanged'], server_subject=subject,
                      server=client.last_server)
        if module._diff:
            result['diff'] = {'before': {'files': sync['before']},
                              'after': {'files': sync['after']}}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
