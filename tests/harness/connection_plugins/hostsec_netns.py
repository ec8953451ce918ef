# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only connection: the local connection, with every command run inside the network
namespace named by $HOSTSEC_NETNS (``ip netns exec``). A host reached through it is a
"managed host" whose 127.0.0.1 is not the controller's: a CIM server listening there is
reachable by a module running on that host, never by code running on the controller."""

DOCUMENTATION = r"""
name: hostsec_netns
short_description: Run commands in a network namespace of the controller (hostsec.mgmt test harness)
description:
  - Like the local connection, but commands run under C(ip netns exec) in the network namespace
    named by E(HOSTSEC_NETNS). Files are shared with the controller.
author: hostsec.mgmt developers (@hostsec)
options:
  become_success_timeout:
    type: int
    default: 10
    description: As for the local connection.
  become_strip_preamble:
    type: bool
    default: true
    description: As for the local connection.
extends_documentation_fragment:
  - connection_pipelining
"""

import os
import shlex

from ansible.errors import AnsibleError
from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    """Local connection inside a network namespace."""

    transport = 'hostsec_netns'

    def exec_command(self, cmd, in_data=None, sudoable=True):
        namespace = os.environ.get('HOSTSEC_NETNS')
        if not namespace:
            raise AnsibleError('hostsec_netns: set HOSTSEC_NETNS to the network namespace')
        wrapped = 'ip netns exec %s /bin/sh -c %s' % (shlex.quote(namespace), shlex.quote(cmd))
        return super().exec_command(wrapped, in_data=in_data, sudoable=sudoable)
