# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Never report success for what did not happen.

Every write of the WBEM state layer (``wbem_instance``, ``wbem_class``, ``wbem_qualifier``,
``wbem_subscription``) is followed by a read of what was written, and the read-back is
compared with what must be there. When it is not there, :class:`WriteVerificationError` says
what was written and what is missing; its ``error_name`` tells what happened:

``PROPERTIES_LOST``
    properties that were there before the write, or were written, are gone (a broker that
    keeps only the properties of the PropertyList of a ModifyInstance);
``INSTANCE_LOST``
    the object is gone after a create or a modify (GetInstance answers CIM_ERR_NOT_FOUND);
``NOT_APPLIED``
    the object is there but does not have the values written;
``NOT_DELETED``
    the object is still there after a successful delete.

Any error after a write (a refused CreateInstance after two successful ones, a verification
that fails ...) carries the facts of what was written: :func:`attach_written` stores them on
the exception (``changed: true`` and the objects written), and :func:`fail_on_error` - the
modules' replacement for the common one - returns them with the failure. Only names and
paths are reported, never property values.
"""

from contextlib import contextmanager

from ..common.errors import HostsecError, fail_from_error
from ..common.errors import fail_on_error as _fail_on_error
from .exceptions import WBEMError

PROPERTIES_LOST = 'PROPERTIES_LOST'
INSTANCE_LOST = 'INSTANCE_LOST'
NOT_APPLIED = 'NOT_APPLIED'
NOT_DELETED = 'NOT_DELETED'


class WriteVerificationError(WBEMError):
    """The server accepted a write, but reading back shows that it did not happen as sent."""

    default_name = NOT_APPLIED


def attach_written(exc, result, prefix=None):
    """Remember on ``exc`` the result facts of the writes done before it (``changed: true``
    ...), and put ``prefix`` (what was written) in front of its message; returns ``exc``.

    The first attachment wins: the innermost code knows best what it wrote.
    """
    if getattr(exc, 'written_result', None) is None:
        exc.written_result = dict(result, changed=True)
        if prefix and isinstance(exc, HostsecError):
            exc.message = '%s: %s' % (prefix, exc.message)
    return exc


@contextmanager
def fail_on_error(module, **result):
    """:func:`..common.errors.fail_on_error`, and the facts of what was written before an
    error (see :func:`attach_written`) are returned with the failure (``changed: true``)."""
    with _fail_on_error(module, **result):
        try:
            yield
        except HostsecError as exc:
            written = getattr(exc, 'written_result', None)
            if written is None:
                raise
            fail_from_error(module, exc, **dict(result, **written))


def missing_names(expected, actual, equal):
    """Names in ``expected`` (name -> value, values not None) that ``actual`` (a NocaseDict
    name -> value, or None) lacks (``lost``) or has with a different value (``differ``)."""
    lost, differ = [], []
    for name, value in expected.items():
        now = actual.get(name) if actual is not None else None
        if now is None:
            lost.append(name)
        elif not equal(value, now):
            differ.append(name)
    return lost, differ
