# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options that fall back to environment variables of the host the module runs on.

Every secret option has one, so that ad-hoc commands need not carry the secret on the command
line (``ansible -m ... -a 'password=...'``), where ansible-core shows the arguments of a
failed ad-hoc task. Use it in an argument spec as::

    password=dict(type='str', no_log=True,
                  fallback=env_fallback_nonempty_spec('HOSTSEC_PAM_PASSWORD'))

Ansible masks a value that came from a fallback like one given as an option (``no_log``).
"""

import os

from ansible.module_utils.basic import AnsibleFallbackNotFound


def env_fallback_nonempty(*names, **_kwargs):
    """Like Ansible's ``env_fallback``, but an empty variable counts as unset."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    raise AnsibleFallbackNotFound


def env_fallback_nonempty_spec(*names):
    """The ``fallback`` value of an argument spec entry for :func:`env_fallback_nonempty`."""
    return (env_fallback_nonempty, list(names))
