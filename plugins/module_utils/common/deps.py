# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Optional dependencies of managed hosts, reported with ``missing_required_lib``.

Each domain declares the packages it needs once::

    LXML = OptionalDependency('lxml', pip='lxml', deb='python3-lxml', rpm='python3-lxml')
    try:
        from lxml import etree
    except ImportError as exc:
        LXML.failed(exc)

and a module calls ``LXML.fail_if_missing(module)`` before it uses the client. The user then
reads which pip, Debian and RHEL package to install, on which host and for which Python.
"""

from ansible.module_utils.basic import missing_required_lib

from .errors import MissingDependencyError


class OptionalDependency(object):
    """A Python package (or, with ``python=False``, a system library) a module may need."""

    def __init__(self, name, pip=None, deb=None, rpm=None, python=True, reason=None):
        self.name = name
        self.pip = pip
        self.deb = deb
        self.rpm = rpm
        self.python = python
        self.reason = reason
        self.error = None

    @property
    def available(self):
        return self.error is None

    def failed(self, exc):
        """Record that importing (or loading) the dependency failed with ``exc``."""
        self.error = '%s: %s' % (type(exc).__name__, exc)

    def install_hint(self):
        """``pip: x; Debian/Ubuntu: y; RHEL/Fedora: z`` for the packages that provide it."""
        parts = []
        if self.pip:
            parts.append('pip: %s' % self.pip)
        if self.deb:
            parts.append('Debian/Ubuntu: %s' % self.deb)
        if self.rpm:
            parts.append('RHEL/Fedora: %s' % self.rpm)
        return '; '.join(parts)

    def message(self):
        """The full text of the failure a module reports."""
        hint = self.install_hint()
        label = '%s (%s)' % (self.name, hint) if hint else self.name
        if self.python:
            text = missing_required_lib(label, reason=self.reason)
        else:
            text = ('Failed to load the required system library %s on the managed host%s.'
                    % (label, ' ' + self.reason if self.reason else ''))
        if self.error:
            text += ' The error was: %s' % self.error
        return text

    def require(self):
        """Raise :class:`MissingDependencyError` when the dependency is missing."""
        if not self.available:
            raise MissingDependencyError(self.message(), details={'dependency': self.name})

    def fail_if_missing(self, module):
        """``module.fail_json`` with :meth:`message` when the dependency is missing."""
        if not self.available:
            module.fail_json(msg=self.message(), error={
                'class': 'MissingDependencyError', 'name': None,
                'message': self.message(), 'dependency': self.name})
