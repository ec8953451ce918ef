# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retrieve one proxy with the MyProxy client (module_utils), as myproxy-logon does.

JSON on stdin: ``server``, ``port``, ``ca_dir``, ``username``, ``passphrase``, ``lifetime``,
``key_size``, ``dest``. Writes the credential to ``dest`` (0600, atomically) and prints its
description (no key material). Used by benchmarks/myproxy_logon.py to compare process against
process. PYTHONPATH must contain build/collections.
"""

import json
import sys

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import HostsecError
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.files import write_atomic
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.client import MyProxyClient


def main():
    args = json.load(sys.stdin)
    try:
        client = MyProxyClient(args['server'], port=args['port'], ca_dir=args['ca_dir'])
        credential, _roots = client.get(args['username'], args['passphrase'],
                                        lifetime=args['lifetime'], key_size=args['key_size'])
        write_atomic(args['dest'], credential.to_pem(), mode=0o600)
        result = credential.describe()
    except HostsecError as exc:
        result = {'error': exc.to_dict()}
    json.dump(result, sys.stdout)
    return 1 if 'error' in result else 0


if __name__ == '__main__':
    sys.exit(main())
