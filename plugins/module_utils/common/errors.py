# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Error classes shared by every domain, and their translation into ``fail_json``.

Every client in ``module_utils/<domain>/`` raises subclasses of :class:`HostsecError`. A module
turns any of them into exactly one ``fail_json(msg=...)`` whose message starts with the error
class and, when the protocol has one, the protocol's own error name::

    PamAuthError: PAM_AUTH_ERR: Authentication failure
    CIMError: CIM_ERR_NOT_FOUND: The target instance was not found

Messages never contain secrets: the clients build them from protocol codes and names only.
"""

import traceback
from contextlib import contextmanager


class HostsecError(Exception):
    """Base class of every error raised by the collection's protocol clients.

    :param message: human readable text, free of secrets.
    :param error_name: the protocol's symbolic name for the error, when there is one.
    :param details: extra JSON-friendly facts returned to the user under ``error``.
    """

    def __init__(self, message, error_name=None, details=None):
        super(HostsecError, self).__init__(message)
        self.message = message
        self.error_name = error_name
        self.details = dict(details or {})

    def __str__(self):
        return self.message

    @property
    def error_class(self):
        return type(self).__name__

    def to_dict(self):
        """The error as returned to the user (key ``error`` of a failed module result)."""
        result = {'class': self.error_class, 'name': self.error_name, 'message': self.message}
        result.update(self.details)
        return result


class MissingDependencyError(HostsecError):
    """A Python package or system library that the module needs is not installed."""


class InvalidInputError(HostsecError):
    """An option value that cannot be used (caught before anything is contacted or written)."""


def format_error(exc):
    """Return ``Class: NAME: message`` for a HostsecError, ``Class: message`` otherwise."""
    name = getattr(exc, 'error_name', None)
    text = str(exc) or repr(exc)
    if name and not text.startswith(name):
        return '%s: %s: %s' % (type(exc).__name__, name, text)
    return '%s: %s' % (type(exc).__name__, text)


def fail_from_error(module, exc, **result):
    """Fail the module with one clear message for ``exc``; ``result`` keys are returned too."""
    if isinstance(exc, HostsecError):
        error = exc.to_dict()
    else:
        error = {'class': type(exc).__name__, 'name': None, 'message': str(exc)}
    module.fail_json(msg=format_error(exc), error=error, **result)


@contextmanager
def fail_on_error(module, **result):
    """Run a block; turn any error escaping it into one ``fail_json``.

    Domain errors become their class and protocol name. Anything else is a bug in this
    collection: it is reported the same way, with the traceback attached under ``exception``
    (Ansible shows it only with ``-vvv``) so that it can be reported.
    """
    try:
        yield
    except HostsecError as exc:
        fail_from_error(module, exc, **result)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(
            msg='Unexpected error (please report it): %s' % format_error(exc),
            error={'class': type(exc).__name__, 'name': None, 'message': str(exc)},
            exception=traceback.format_exc(), **result)
