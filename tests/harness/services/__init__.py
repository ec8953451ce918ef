# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The embedded local services the integration tests, molecule scenarios and the demo use.

Each service is a context manager with a working directory of its own::

    with PamWrapperService(tmpdir) as pam:
        run_playbook(..., extra_vars=pam.ansible_vars())

``ansible_vars()`` returns the variables a playbook needs to reach the service (URLs, ports,
CA files, environment for ``environment:``). :data:`DEMO_SERVICES` lists the services
``make demo`` starts, in order; each domain adds its own.
"""

import os


class Service(object):
    """Base class: ``start()``/``stop()`` and the variables a playbook needs."""

    name = 'service'

    def __init__(self, workdir):
        self.workdir = os.path.abspath(workdir)

    def start(self):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def ansible_vars(self):
        return {}

    def __enter__(self):
        os.makedirs(self.workdir, exist_ok=True)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False


def demo_services():
    """The service classes ``make demo`` starts, in order."""
    from .pam import PamWrapperService  # pylint: disable=import-outside-toplevel
    from .wbem import WbemService  # pylint: disable=import-outside-toplevel
    from .myproxy import MyProxyService  # pylint: disable=import-outside-toplevel
    from .krb5 import Krb5Service  # pylint: disable=import-outside-toplevel
    return [PamWrapperService, WbemService, MyProxyService, Krb5Service]
