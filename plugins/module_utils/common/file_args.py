# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file options of Ansible's ``add_file_common_args``, applied through our safe path.

Modules that write a file use ``AnsibleModule(..., add_file_common_args=True)`` (options
``mode``, ``owner``, ``group``, ``seuser``, ``serole``, ``setype``, ``selevel``,
``unsafe_writes``, ``attributes``; documented in ``doc_fragments/files.py``) and turn them into
a :class:`FileOptions` with :func:`file_options`. Nothing here uses Ansible's own path-based
helpers to change a file (they follow links):

- ``mode``: octal (``0600``, ``'0600'``) or symbolic (``u=rw,g=r``). A symbolic mode is applied
  to ``0000`` (what a new file is before its mode is set), so it should use ``=``;
- ``owner``/``group``: default to the effective uid/gid of the module, never to what an
  existing file has;
- SELinux (``seuser`` ...): set with ``lsetfilecon`` on our own temporary file before it is
  renamed into place (``prepare``); a kept file whose context differs is rewritten
  (``replace``). ``_default`` leaves that part to the policy (what a new file in the directory
  gets). Without SELinux on the host the options are ignored with a warning;
- ``unsafe_writes``: ignored, every write is atomic;
- ``attributes`` (chattr flags): refused, they cannot be set on the temporary file before the
  rename (an immutable file cannot be renamed) nor afterwards without a path-based race.
"""

import stat

from .errors import InvalidInputError
from .files import intended_ids

SELINUX_OPTIONS = ('seuser', 'serole', 'setype', 'selevel')


class _ModeBase(object):
    st_mode = stat.S_IFREG


def parse_mode(value, default, symbolic_to_octal=None, what='mode'):
    """``value`` (int, octal string or symbolic string) as an int mode; ``default`` for None."""
    if value is None or value == '':
        value = default
    if isinstance(value, bool):
        raise InvalidInputError('%s %r is not a file mode' % (what, value))
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip()
        if text and all(char in '01234567' for char in text):
            mode = int(text, 8)
        elif symbolic_to_octal is not None and text:
            try:
                mode = symbolic_to_octal(_ModeBase(), text)
            except Exception:  # pylint: disable=broad-except
                raise InvalidInputError('%s %r is neither an octal nor a symbolic mode'
                                        % (what, value))
        else:
            raise InvalidInputError('%s %r is not an octal mode' % (what, value))
    if mode < 0 or mode & ~0o7777:
        raise InvalidInputError('%s %r is not a file mode' % (what, value))
    return mode


class FileOptions(object):
    """``mode``, ``owner``, ``group`` and the SELinux hooks for :mod:`.files`."""

    def __init__(self, mode, owner=None, group=None, prepare=None, replace=None, warnings=()):
        self.mode = mode
        self.owner = owner
        self.group = group
        self.prepare = prepare
        self.replace = replace
        self.warnings = list(warnings)


def file_options(module, default_mode, owner_only=False):
    """:class:`FileOptions` from the module's file options.

    ``owner_only``: refuse modes that give group or others any access (key-bearing files the
    Globus tools refuse to use otherwise). Unknown owners and groups fail here, before any
    server is contacted.
    """
    params = module.params
    mode = parse_mode(params.get('mode'), default_mode,
                      getattr(module, '_symbolic_mode_to_octal', None))
    if owner_only and mode & 0o077:
        raise InvalidInputError('mode %04o gives group or others access to a private key; only '
                                'modes for the owner (such as 0600 or 0400) are allowed' % mode)
    if params.get('attributes'):
        raise InvalidInputError('attributes (chattr flags) are not supported: they cannot be '
                                'set safely on an atomically replaced file')
    owner, group = params.get('owner') or None, params.get('group') or None
    intended_ids(owner, group)
    wanted = [params.get(name) for name in SELINUX_OPTIONS]
    warnings = []
    prepare = replace = None
    if any(value is not None for value in wanted):
        if module.selinux_enabled():
            context = _context(module, wanted)

            def prepare(path):  # pylint: disable=function-redefined
                module.set_context_if_different(path, context, False)

            def replace(path):  # pylint: disable=function-redefined
                return _context_differs(module, path, context)
        else:
            warnings.append('SELinux is not enabled on this host: %s ignored'
                            % ', '.join(SELINUX_OPTIONS))
    return FileOptions(mode, owner, group, prepare, replace, warnings)


def _context(module, wanted):
    """The wanted context; ``_default`` parts are left to the policy (what a new file in the
    directory gets), like parts that are not given."""
    return [None if value == '_default' else value for value in wanted]


def _context_differs(module, path, context):
    current = module.selinux_context(path)
    return any(wanted is not None and i < len(current) and wanted != current[i]
               for i, wanted in enumerate(context))
