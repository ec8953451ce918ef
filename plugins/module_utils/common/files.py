# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing secret and credential files safely.

:func:`write_atomic` never leaves a partial file: it writes a temporary file in the same
directory (created with mode 0600 before a byte is written), sets the final mode and owner on
it, fsyncs it, renames it over the destination and fsyncs the directory. If anything fails the
temporary file is removed and the previous content of the destination is untouched.

:func:`ensure_file` is the idempotent layer the modules use: it compares content, mode, owner
and group with what is wanted, writes only what differs and supports check mode. Its return
value describes the change without ever containing the content, so it can go into a module
result or a diff of a credential file.

A symbolic link at the destination is replaced by the file, not followed: a credential is never
written through a link someone else may control.
"""

import errno
import grp
import os
import pwd
import stat
import tempfile

from .errors import HostsecError


class FileWriteError(HostsecError):
    """A file could not be read, written or given its mode or owner."""


def _uid(owner):
    if owner is None or owner == '':
        return -1
    if isinstance(owner, int) or str(owner).isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise FileWriteError('unknown user %r' % (owner,), error_name='ENOENT')


def _gid(group):
    if group is None or group == '':
        return -1
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise FileWriteError('unknown group %r' % (group,), error_name='ENOENT')


def _os_error(action, path, exc):
    name = errno.errorcode.get(exc.errno) if exc.errno else None
    return FileWriteError('cannot %s %s: %s' % (action, path, exc.strerror or exc),
                          error_name=name)


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path, data, mode=0o600, owner=None, group=None):
    """Replace ``path`` with ``data`` (bytes) atomically, with ``mode`` and owner/group.

    ``owner``/``group`` are names or numeric ids; ``None`` keeps the writing user's.
    Raises :class:`FileWriteError`; on failure ``path`` keeps its previous content.
    """
    if not isinstance(data, bytes):
        raise TypeError('write_atomic() needs bytes')
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    uid, gid = _uid(owner), _gid(group)
    if os.path.isdir(path) and not os.path.islink(path):
        raise FileWriteError('cannot write %s: it is a directory' % path, error_name='EISDIR')
    try:
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp',
                                   dir=directory)
    except OSError as exc:
        raise _os_error('create a temporary file in', directory, exc)
    try:
        try:
            os.fchmod(fd, mode)
            if uid != -1 or gid != -1:
                os.fchown(fd, uid, gid)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _os_error('write', path, exc)
        raise
    _fsync_dir(directory)


def read_file(path):
    """Return the bytes of ``path``, or ``None`` when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise _os_error('read', path, exc)


def file_attributes(path):
    """``{'mode': '0600', 'owner': 'root', 'group': 'root'}`` of ``path``, ``None`` if absent."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise _os_error('inspect', path, exc)
    return {'mode': '%04o' % stat.S_IMODE(st.st_mode), 'owner': _user_name(st.st_uid),
            'group': _group_name(st.st_gid),
            'uid': st.st_uid, 'gid': st.st_gid, 'symlink': stat.S_ISLNK(st.st_mode)}


def _describe(attrs):
    if attrs is None:
        return {'exists': False}
    return {'exists': True, 'mode': attrs['mode'], 'owner': attrs['owner'],
            'group': attrs['group']}


def ensure_file(path, data, mode=0o600, owner=None, group=None, check_mode=False):
    """Make ``path`` hold ``data`` with ``mode``/``owner``/``group``; write only what differs.

    ``owner``/``group`` of ``None`` keep those of an existing file (or the writing user's for a
    new one). Returns ``{'changed', 'content_changed', 'attributes_changed', 'before',
    'after'}`` where ``before``/``after`` hold ``exists``, ``mode``, ``owner`` and ``group``
    (never the content). In check mode nothing is written and the same answer is returned.
    """
    before = file_attributes(path)
    uid, gid = _uid(owner), _gid(group)
    if uid == -1:
        uid = before['uid'] if before else os.geteuid()
    if gid == -1:
        gid = before['gid'] if before else os.getegid()
    current = None if before is None or before['symlink'] else read_file(path)
    content_changed = current != data
    attributes_changed = (before is None or before['mode'] != '%04o' % mode
                          or before['uid'] != uid or before['gid'] != gid)
    result = {'changed': content_changed or attributes_changed,
              'content_changed': content_changed,
              'attributes_changed': attributes_changed,
              'before': _describe(before),
              'after': {'exists': True, 'mode': '%04o' % mode, 'owner': _user_name(uid),
                        'group': _group_name(gid)}}
    if check_mode or not result['changed']:
        return result
    if content_changed:
        write_atomic(path, data, mode=mode, owner=uid, group=gid)
    else:
        try:
            os.chmod(path, mode)
            os.chown(path, uid, gid)
        except OSError as exc:
            raise _os_error('set mode or owner of', path, exc)
    return result


def _user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
