# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Python packages of the krb5 domain, imported defensively.

- python-gssapi (``gssapi``): acquiring credentials with a password or a client keytab,
  storing them into a credential cache, inquiring them, and the security-context handshake
  that verifies a keytab;
- pykrb5 (``krb5``) when it is installed, else :mod:`.libkrb5`, our ctypes binding of the same
  calls in MIT's ``libkrb5.so.3``: what GSSAPI has no call for: listing every ticket of a cache
  with its times and flags, renewing a ticket, listing keytab entries, finding a principal's
  cache in a collection and destroying caches. ``deps.krb5`` is either one (same API);
  ``BACKEND`` says which (``pykrb5``, ``libkrb5`` or ``None``).

pykrb5 is not packaged by Debian or Ubuntu (and PEP 668 forbids pip in their system Python), so
a stock host uses the binding: only distro packages are needed (``python3-gssapi``, which
pulls in libkrb5 and libgssapi_krb5).
"""

from ..common.deps import OptionalDependency

GSSAPI = OptionalDependency(
    'gssapi', pip='gssapi', deb='python3-gssapi', rpm='python3-gssapi',
    reason='to acquire, store and inquire Kerberos credentials (python-gssapi)')
PYKRB5 = OptionalDependency(
    'krb5', pip='krb5', deb='libkrb5-3', rpm='krb5-libs',
    reason='to read credential caches and keytabs and to renew tickets (pykrb5, or else MIT '
           'libkrb5.so.3 through the collection\'s own binding)')

try:
    import gssapi  # noqa: F401  pylint: disable=unused-import
    import gssapi.raw  # noqa: F401  pylint: disable=unused-import
    # The credential store and password extensions (absent from very old GSSAPI builds).
    from gssapi.raw import acquire_cred_from, store_cred_into  # noqa: F401  pylint: disable=unused-import
    from gssapi.raw import acquire_cred_with_password  # noqa: F401  pylint: disable=unused-import
except ImportError as exc:
    gssapi = None
    GSSAPI.failed(exc)

BACKEND = None
try:
    import krb5  # noqa: F401  pylint: disable=unused-import
    BACKEND = 'pykrb5'
except ImportError:
    krb5 = None
if krb5 is None:
    try:
        from . import libkrb5 as krb5
        krb5.load()
        BACKEND = 'libkrb5'
    except (ImportError, OSError) as exc:
        krb5 = None
        PYKRB5.failed(exc)


def require(*dependencies):
    """Raise MissingDependencyError for the first missing dependency."""
    for dependency in dependencies:
        dependency.require()


def fail_if_missing(module, *dependencies):
    for dependency in dependencies:
        dependency.fail_if_missing(module)
