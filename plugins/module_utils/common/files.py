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

Nothing here follows a link at the destination or trusts what sits there. An existing file is
looked at through a descriptor opened with ``O_NOFOLLOW`` (:func:`open_existing`): its owner,
mode and content are read with ``fstat``/``read`` on that descriptor, and a mode or group fix is
``fchmod``/``fchown`` on it, never on the path, so swapping the path for a link between the
check and the change touches nothing else. A destination that is a symbolic link, not a regular
file, has more than one hard link, or is not owned by the intended owner (or, for a secret,
grants group/other more than the wanted mode) is *not valid*: it is never modified in place but
replaced by a fresh file (:func:`write_atomic`, rename over the path). The intended owner and
group default to the effective uid and gid of the process, never to what an existing file has.
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


def write_atomic(path, data, mode=0o600, owner=None, group=None, prepare=None):
    """Replace ``path`` with ``data`` (bytes) atomically, with ``mode`` and owner/group.

    ``owner``/``group`` are names or numeric ids; ``None`` keeps the writing user's.
    ``prepare(temporary_path)`` is called on the finished temporary file just before the
    rename (used to set an SELinux context on our own file, not on what sits at ``path``).
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
        if prepare is not None:
            prepare(tmp)
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
    """Return the bytes of ``path``, or ``None`` when it does not exist.

    Follows links: for input files the user names (client credentials, keys). Never use it to
    read a destination; use :func:`inspect_file` for that.
    """
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise _os_error('read', path, exc)


_OPEN_FLAGS = (os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0)
               | getattr(os, 'O_CLOEXEC', 0))
# Content larger than this is not read for a comparison: it is simply not what we write.
MAX_COMPARE = 16 * 1024 * 1024


def open_existing(path):
    """``(fd, stat)`` of the regular file at ``path``, opened without following a link.

    Returns ``(None, kind)`` when there is no usable file: ``kind`` is ``'absent'``,
    ``'symlink'`` or ``'other'`` (a directory, FIFO, socket or device). The caller closes ``fd``.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None, 'absent'
        if exc.errno == errno.ELOOP:
            return None, 'symlink'
        if exc.errno in (errno.ENXIO, errno.EISDIR, errno.EOPNOTSUPP):
            return None, 'other'
        raise _os_error('open', path, exc)
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise _os_error('inspect', path, exc)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None, 'other'
    return fd, st


def read_fd(fd, limit=MAX_COMPARE):
    """Everything from ``fd`` (from the start), or ``None`` when it is longer than ``limit``."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks, size = [], 0
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b''.join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def intended_ids(owner=None, group=None):
    """``(uid, gid)`` wanted for a file: the given ones, else the process' effective ids."""
    uid, gid = _uid(owner), _gid(group)
    return (os.geteuid() if uid == -1 else uid), (os.getegid() if gid == -1 else gid)


def problem(st, uid, gid, mode, secret=True):
    """Why the regular file of ``st`` may not be kept in place, or ``None`` when it may.

    ``not_owner`` (another owner than ``uid``), ``hard_link`` (more than one name: changing it
    would change a file elsewhere), and for a ``secret``: ``exposed`` (grants group/other
    more than ``mode`` does) or ``foreign_group`` (group bits for another group than ``gid``).
    """
    if st.st_uid != uid:
        return 'not_owner'
    if st.st_nlink != 1:
        return 'hard_link'
    if secret:
        current = stat.S_IMODE(st.st_mode)
        if current & 0o077 & ~mode:
            return 'exposed'
        if current & 0o070 and st.st_gid != gid:
            return 'foreign_group'
    return None


def inspect_file(path, mode=0o600, owner=None, group=None, secret=True, read=True):
    """What sits at ``path``, judged for keeping it as a file of ``owner``/``group``/``mode``.

    Returns ``{'kind', 'problem', 'mode', 'uid', 'gid', 'owner', 'group', 'content'}``:
    ``kind`` is ``file``, ``absent``, ``symlink`` or ``other``; ``problem`` is ``None`` for a
    file that may be kept (see :func:`problem`), else ``symlink``, ``other`` or the problem of
    the file; ``content`` is read through the same descriptor (``None`` when not read, absent
    or too large). The attributes are those of the file itself, never of a link's target.
    """
    uid, gid = intended_ids(owner, group)
    fd, st = open_existing(path)
    if fd is None:
        result = {'kind': st, 'problem': None if st == 'absent' else st, 'content': None}
        if st != 'absent':
            try:
                lst = os.lstat(path)
            except OSError:
                lst = None
            if lst is not None:
                result.update(_stat_facts(lst))
        return result
    try:
        result = {'kind': 'file', 'problem': problem(st, uid, gid, mode, secret),
                  'content': read_fd(fd) if read else None}
        result.update(_stat_facts(st))
        return result
    finally:
        os.close(fd)


def _stat_facts(st):
    return {'mode': '%04o' % stat.S_IMODE(st.st_mode), 'uid': st.st_uid, 'gid': st.st_gid,
            'owner': _user_name(st.st_uid), 'group': _group_name(st.st_gid)}


def file_attributes(path):
    """``{'mode': '0600', 'owner': 'root', 'group': 'root'}`` of ``path``, ``None`` if absent.

    Those of a symbolic link itself (``symlink: True``), never of its target.
    """
    try:
        st = os.lstat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise _os_error('inspect', path, exc)
    attrs = _stat_facts(st)
    attrs['symlink'] = stat.S_ISLNK(st.st_mode)
    return attrs


def _describe(attrs):
    if attrs is None:
        return {'exists': False}
    return {'exists': True, 'mode': attrs['mode'], 'owner': attrs['owner'],
            'group': attrs['group']}


def _race_window(path):
    """Called between the check of an existing file and the change of its attributes.

    Does nothing; tests replace it to swap the path for a link at the worst moment.
    """


def ensure_file(path, data, mode=0o600, owner=None, group=None, check_mode=False, secret=True,
                prepare=None, replace=False):
    """Make ``path`` hold ``data`` with ``mode``/``owner``/``group``; write only what differs.

    ``owner``/``group`` of ``None`` mean the effective uid/gid of the process (never those of
    an existing file). An existing file that is not valid (:func:`inspect_file`: a link,
    not a regular file, another owner, more than one hard link, or for a ``secret`` a mode or
    group that exposed it) is replaced by a fresh file, as is one whose content differs or
    when ``replace`` is set (e.g. its SELinux context differs). A valid file with the right
    content only gets its mode and group fixed, through the descriptor that was checked.
    ``prepare`` is passed to :func:`write_atomic`.

    Returns ``{'changed', 'content_changed', 'attributes_changed', 'replaced', 'problem',
    'before', 'after'}`` where ``before``/``after`` hold ``exists``, ``mode``, ``owner`` and
    ``group`` (never the content). In check mode nothing is written and the same answer is
    returned.
    """
    uid, gid = intended_ids(owner, group)
    fd, st = open_existing(path)
    try:
        if fd is None:
            kind = st
            before = file_attributes(path) if kind != 'absent' else None
            issue = None if kind == 'absent' else kind
            current = None
        else:
            kind = 'file'
            before = _stat_facts(st)
            issue = problem(st, uid, gid, mode, secret)
            current = read_fd(fd)
        if kind == 'other' and before is not None and stat.S_ISDIR(os.lstat(path).st_mode):
            raise FileWriteError('cannot write %s: it is a directory' % path,
                                 error_name='EISDIR')
        content_changed = current != data
        attributes_changed = (before is None or issue is not None or before['mode'] != '%04o' % mode
                              or before['uid'] != uid or before['gid'] != gid)
        rewrite = content_changed or issue is not None or replace
        result = {'changed': rewrite or attributes_changed,
                  'content_changed': content_changed,
                  'attributes_changed': attributes_changed,
                  'replaced': rewrite and before is not None,
                  'problem': issue,
                  'before': _describe(before),
                  'after': {'exists': True, 'mode': '%04o' % mode, 'owner': _user_name(uid),
                            'group': _group_name(gid)}}
        if check_mode or not result['changed']:
            return result
        if rewrite:
            write_atomic(path, data, mode=mode, owner=uid, group=gid, prepare=prepare)
            return result
        _race_window(path)
        try:
            os.fchmod(fd, mode)
            if st.st_gid != gid:
                os.fchown(fd, -1, gid)
        except OSError as exc:
            raise _os_error('set mode or group of', path, exc)
        return result
    finally:
        if fd is not None:
            os.close(fd)


def check_destination(path, owner=None, group=None):
    """Fail now, before anything is fetched, when ``path`` cannot be written.

    Checks that the owner and group exist, that the directory exists and is a directory we may
    create files in, and that ``path`` is not a directory. Returns ``(uid, gid)``.
    """
    uid, gid = intended_ids(owner, group)
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    try:
        st = os.stat(directory)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise FileWriteError('cannot write %s: directory %s does not exist'
                                 % (path, directory), error_name='ENOENT')
        raise _os_error('reach the directory of', path, exc)
    if not stat.S_ISDIR(st.st_mode):
        raise FileWriteError('cannot write %s: %s is not a directory' % (path, directory),
                             error_name='ENOTDIR')
    if not os.access(directory, os.W_OK | os.X_OK):
        raise FileWriteError('cannot write %s: no permission to create files in %s'
                             % (path, directory), error_name='EACCES')
    if os.path.isdir(path) and not os.path.islink(path):
        raise FileWriteError('cannot write %s: it is a directory' % path, error_name='EISDIR')
    return uid, gid


def remove_file(path, check_mode=False, wipe=True):
    """Remove the name ``path``; ``{'changed': bool, 'kind': 'absent'|'file'|'symlink'|'other'}``.

    A link is removed, never followed (its target is untouched). With ``wipe`` a regular file
    that the effective user owns and that has no other name is overwritten with zeros through a
    descriptor opened with ``O_NOFOLLOW`` before its name is removed (as grid-proxy-destroy
    does), so the key does not linger in the freed blocks of a simple file system. A directory
    is refused.
    """
    try:
        st = os.lstat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return {'changed': False, 'kind': 'absent'}
        raise _os_error('inspect', path, exc)
    if stat.S_ISDIR(st.st_mode):
        raise FileWriteError('cannot remove %s: it is a directory' % path, error_name='EISDIR')
    kind = 'symlink' if stat.S_ISLNK(st.st_mode) else 'file' if stat.S_ISREG(st.st_mode) else 'other'
    if check_mode:
        return {'changed': True, 'kind': kind}
    if wipe and kind == 'file':
        _wipe(path)
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise _os_error('remove', path, exc)
    _fsync_dir(os.path.dirname(os.path.abspath(path)))
    return {'changed': True, 'kind': kind}


def _wipe(path):
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0)
                     | getattr(os, 'O_CLOEXEC', 0))
    except OSError:
        return  # swapped for a link or something else meanwhile: only its name is removed
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_uid == os.geteuid():
            left = st.st_size
            block = b'\0' * 65536
            while left > 0:
                left -= os.write(fd, block[:min(left, len(block))])
            os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
