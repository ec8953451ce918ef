# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every krb5 module shares (documented in doc_fragments/krb5.py).

Modules build their argument spec with :func:`krb5_argument_spec` and add only their own
options, then call :func:`apply_common` before the client touches the Kerberos library.
"""

import os

from ..common.errors import InvalidInputError


def krb5_common_argument_spec():
    """``krb5_config`` and ``ccache``: which Kerberos configuration and which cache."""
    return dict(
        krb5_config=dict(type='path'),
        ccache=dict(type='str'),
    )


def krb5_argument_spec(**module_options):
    """The shared options plus the module's own ``module_options``."""
    spec = krb5_common_argument_spec()
    spec.update(module_options)
    return spec


def apply_common(params):
    """Point the Kerberos library at ``krb5_config`` (for this module run only)."""
    config = params.get('krb5_config')
    if config:
        if not os.path.isfile(config):
            raise InvalidInputError('krb5_config %s does not exist' % config, error_name='ENOENT')
        os.environ['KRB5_CONFIG'] = config
