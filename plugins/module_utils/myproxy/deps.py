# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Python packages the myproxy modules need on the managed host."""

from ..common.deps import OptionalDependency

CRYPTOGRAPHY = OptionalDependency(
    'cryptography', pip='cryptography', deb='python3-cryptography', rpm='python3-cryptography',
    reason='to build keys, certificate requests and proxy certificates for MyProxy')
PYOPENSSL = OptionalDependency(
    'pyOpenSSL', pip='pyOpenSSL', deb='python3-openssl', rpm='python3-pyOpenSSL',
    reason='to talk TLS to the MyProxy server')

try:
    import cryptography  # noqa: F401  pylint: disable=unused-import
except ImportError as exc:
    CRYPTOGRAPHY.failed(exc)

try:
    import OpenSSL  # noqa: F401  pylint: disable=unused-import
except ImportError as exc:
    PYOPENSSL.failed(exc)

ALL = (CRYPTOGRAPHY, PYOPENSSL)


def fail_if_missing(module, dependencies=ALL):
    """``fail_json`` naming the first missing dependency (pip, Debian and RHEL package)."""
    for dependency in dependencies:
        dependency.fail_if_missing(module)


def require(dependencies=ALL):
    """Raise :class:`MissingDependencyError` for the first missing dependency."""
    for dependency in dependencies:
        dependency.require()
