# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import grp
import os
import pwd
import stat

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common import files
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.files import (
    FileWriteError, ensure_file, file_attributes, read_file, write_atomic)


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def leftovers(directory, name):
    return [f for f in os.listdir(directory) if f.startswith('.%s.' % name)]


def test_new_file_is_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        write_atomic(str(tmp_path / 'cred'), b'secret')
    finally:
        os.umask(old)
    assert read_file(str(tmp_path / 'cred')) == b'secret'
    assert mode_of(str(tmp_path / 'cred')) == 0o600


def test_replaces_content_and_mode(tmp_path):
    path = str(tmp_path / 'cred')
    write_atomic(path, b'one', mode=0o644)
    write_atomic(path, b'two')
    assert read_file(path) == b'two'
    assert mode_of(path) == 0o600
    assert leftovers(str(tmp_path), 'cred') == []


def test_failure_while_writing_keeps_the_old_content_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'cred')
    write_atomic(path, b'precious')
    real_write = os.write
    calls = []

    def failing_write(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[:3]))  # a partial write first ...
        raise OSError(28, 'No space left on device')  # ... then the disk is full

    monkeypatch.setattr(files.os, 'write', failing_write)
    with pytest.raises(FileWriteError) as info:
        write_atomic(path, b'new content that does not fit')
    monkeypatch.undo()
    assert info.value.error_name == 'ENOSPC'
    assert 'No space left on device' in str(info.value)
    assert read_file(path) == b'precious'
    assert leftovers(str(tmp_path), 'cred') == []


def test_interrupt_during_rename_keeps_the_old_content(tmp_path, monkeypatch):
    path = str(tmp_path / 'cred')
    write_atomic(path, b'precious')

    def interrupted(src, dst):
        raise KeyboardInterrupt()

    monkeypatch.setattr(files.os, 'rename', interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b'other')
    monkeypatch.undo()
    assert read_file(path) == b'precious'
    assert leftovers(str(tmp_path), 'cred') == []


def test_the_message_never_contains_the_data(tmp_path):
    with pytest.raises(FileWriteError) as info:
        write_atomic(str(tmp_path / 'missing-dir' / 'cred'), b'TOPSECRET')
    assert 'TOPSECRET' not in str(info.value)
    assert info.value.error_name == 'ENOENT'


def test_owner_and_group_by_name_and_id(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('changing the owner of a file needs root')
    nobody = pwd.getpwnam('nobody')
    group = grp.getgrgid(nobody.pw_gid)
    path = str(tmp_path / 'by-name')
    write_atomic(path, b'x', owner='nobody', group=group.gr_name)
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    path = str(tmp_path / 'by-id')
    write_atomic(path, b'x', owner=nobody.pw_uid, group=str(nobody.pw_gid))
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)


def test_unknown_owner_is_a_clear_error_and_writes_nothing(tmp_path):
    path = str(tmp_path / 'cred')
    with pytest.raises(FileWriteError, match="unknown user 'no-such-user-hostsec'"):
        write_atomic(path, b'x', owner='no-such-user-hostsec')
    with pytest.raises(FileWriteError, match="unknown group 'no-such-group-hostsec'"):
        write_atomic(path, b'x', group='no-such-group-hostsec')
    assert not os.path.exists(path)


def test_a_symlink_is_replaced_not_followed(tmp_path):
    target = tmp_path / 'target'
    target.write_bytes(b'not yours')
    link = tmp_path / 'cred'
    link.symlink_to(target)
    write_atomic(str(link), b'mine')
    assert not os.path.islink(str(link))
    assert target.read_bytes() == b'not yours'
    assert read_file(str(link)) == b'mine'


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(FileWriteError, match='is a directory'):
        write_atomic(str(tmp_path), b'x')


def test_bytes_only(tmp_path):
    with pytest.raises(TypeError):
        write_atomic(str(tmp_path / 'cred'), 'text')


def test_ensure_file_is_idempotent_and_never_returns_content(tmp_path):
    path = str(tmp_path / 'cred')
    first = ensure_file(path, b'TOPSECRET')
    assert first['changed'] and first['content_changed']
    assert first['before'] == {'exists': False}
    assert first['after']['mode'] == '0600'
    second = ensure_file(path, b'TOPSECRET')
    assert not second['changed']
    assert 'TOPSECRET' not in repr(first) + repr(second)


def test_ensure_file_check_mode_writes_nothing(tmp_path):
    path = str(tmp_path / 'cred')
    result = ensure_file(path, b'x', check_mode=True)
    assert result['changed']
    assert not os.path.exists(path)
    write_atomic(path, b'old', mode=0o644)
    result = ensure_file(path, b'new', check_mode=True)
    assert result['content_changed'] and result['attributes_changed']
    assert read_file(path) == b'old' and mode_of(path) == 0o644


def test_ensure_file_fixes_the_mode_without_rewriting(tmp_path):
    path = str(tmp_path / 'cred')
    write_atomic(path, b'same', mode=0o400)
    inode = os.stat(path).st_ino
    result = ensure_file(path, b'same')
    assert result['changed'] and not result['content_changed'] and result['attributes_changed']
    assert not result['replaced'] and result['problem'] is None
    assert result['before']['mode'] == '0400' and result['after']['mode'] == '0600'
    assert mode_of(path) == 0o600
    assert os.stat(path).st_ino == inode


def test_ensure_file_fixes_the_mode_of_a_public_file_in_place(tmp_path):
    path = str(tmp_path / 'ca.pem')
    write_atomic(path, b'same', mode=0o600)
    inode = os.stat(path).st_ino
    result = ensure_file(path, b'same', mode=0o644, secret=False)
    assert result['changed'] and not result['replaced']
    assert mode_of(path) == 0o644 and os.stat(path).st_ino == inode


def test_ensure_file_replaces_a_secret_that_others_could_read(tmp_path):
    path = str(tmp_path / 'cred')
    write_atomic(path, b'same', mode=0o640)
    inode = os.stat(path).st_ino
    result = ensure_file(path, b'same')
    assert result['changed'] and result['replaced'] and result['problem'] == 'exposed'
    assert mode_of(path) == 0o600
    assert os.stat(path).st_ino != inode
    assert read_file(path) == b'same'


def test_ensure_file_owner_defaults_to_the_effective_uid(tmp_path):
    """The owner of a file that is there is not the default: it is replaced by our own file."""
    if os.geteuid() != 0:
        pytest.skip('changing the owner of a file needs root')
    path = str(tmp_path / 'cred')
    write_atomic(path, b'same', owner='nobody')
    inode = os.stat(path).st_ino
    result = ensure_file(path, b'same')
    assert result['replaced'] and result['problem'] == 'not_owner'
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (os.geteuid(), os.getegid())
    assert st.st_ino != inode and read_file(path) == b'same'


def test_file_attributes(tmp_path):
    assert file_attributes(str(tmp_path / 'nothing')) is None
    path = str(tmp_path / 'f')
    write_atomic(path, b'x', mode=0o640)
    attrs = file_attributes(path)
    assert attrs['mode'] == '0640' and attrs['symlink'] is False
    assert attrs['owner'] == pwd.getpwuid(os.geteuid()).pw_name


# --------------------------------------------------------------- hostile destinations

def _victim(tmp_path, mode=0o644):
    """A file of someone else (nobody, or ourselves without root) that nothing may touch."""
    victim = tmp_path / 'victim'
    victim.write_bytes(b'VICTIM')
    os.chmod(str(victim), mode)
    if os.geteuid() == 0:
        os.chown(str(victim), pwd.getpwnam('nobody').pw_uid, -1)
    st = os.lstat(str(victim))
    return victim, (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))


def _unchanged(victim, facts):
    st = os.lstat(str(victim))
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == facts \
        and victim.read_bytes() == b'VICTIM'


def test_a_link_at_dest_is_replaced_even_when_its_target_holds_the_content(tmp_path):
    """The target's content, owner and mode are never taken as those of dest."""
    victim, facts = _victim(tmp_path, mode=0o600)
    link = tmp_path / 'cred'
    link.symlink_to(victim)
    result = ensure_file(str(link), b'VICTIM', mode=0o600)
    assert result['changed'] and result['replaced'] and result['problem'] == 'symlink'
    assert not os.path.islink(str(link))
    st = os.lstat(str(link))
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (os.geteuid(), os.getegid(), 0o600)
    assert _unchanged(victim, facts)


def test_a_hard_link_at_dest_is_replaced_not_chmodded(tmp_path):
    victim, _facts = _victim(tmp_path, mode=0o400)
    if os.geteuid() == 0:
        os.chown(str(victim), 0, 0)  # a hard link to a file of ours (protected_hardlinks)
    os.link(str(victim), str(tmp_path / 'cred'))
    result = ensure_file(str(tmp_path / 'cred'), b'VICTIM', mode=0o600)
    assert result['replaced'] and result['problem'] == 'hard_link'
    assert mode_of(str(victim)) == 0o400
    assert os.stat(str(victim)).st_ino != os.stat(str(tmp_path / 'cred')).st_ino


def test_inspect_file_never_follows_a_link(tmp_path):
    victim, _facts = _victim(tmp_path, mode=0o600)
    (tmp_path / 'cred').symlink_to(victim)
    state = files.inspect_file(str(tmp_path / 'cred'))
    assert state['kind'] == 'symlink' and state['problem'] == 'symlink'
    assert state['content'] is None
    assert files.inspect_file(str(tmp_path / 'absent'))['kind'] == 'absent'
    os.mkfifo(str(tmp_path / 'fifo'))
    assert files.inspect_file(str(tmp_path / 'fifo'))['problem'] == 'other'


def test_link_swapped_in_between_check_and_change_touches_nothing_else(tmp_path, monkeypatch):
    """The race: dest is checked (our file, mode 0400), then swapped for a link to a victim
    before its mode and group are fixed. The fix goes to the descriptor that was checked."""
    victim, facts = _victim(tmp_path, mode=0o644)
    path = str(tmp_path / 'cred')
    write_atomic(path, b'same', mode=0o400)
    checked_inode = os.stat(path).st_ino

    def swap(where):
        os.rename(where, where + '.moved')
        os.symlink(str(victim), where)

    monkeypatch.setattr(files, '_race_window', swap)
    gid = pwd.getpwnam('nobody').pw_gid if os.geteuid() == 0 else None
    ensure_file(path, b'same', mode=0o600, group=gid)
    assert _unchanged(victim, facts)
    moved = os.stat(path + '.moved')
    assert moved.st_ino == checked_inode and stat.S_IMODE(moved.st_mode) == 0o600
    if gid is not None:
        assert moved.st_gid == gid


def test_check_destination(tmp_path):
    assert files.check_destination(str(tmp_path / 'x')) == (os.geteuid(), os.getegid())
    with pytest.raises(FileWriteError, match='does not exist') as info:
        files.check_destination(str(tmp_path / 'nodir' / 'x'))
    assert info.value.error_name == 'ENOENT'
    with pytest.raises(FileWriteError, match='unknown user'):
        files.check_destination(str(tmp_path / 'x'), owner='no-such-user-hostsec')
    with pytest.raises(FileWriteError, match='is a directory'):
        files.check_destination(str(tmp_path))


def _as_nobody(function):
    """Run ``function()`` in a child process as nobody; return what it returned or raised."""
    nobody = pwd.getpwnam('nobody')
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            answer = 'returned %r' % (function(),)
        except FileWriteError as exc:
            answer = '%s %s' % (exc.error_name, exc)
        except BaseException as exc:  # pylint: disable=broad-except
            answer = repr(exc)
        os.write(write_end, answer.encode())
        os._exit(0)  # pylint: disable=protected-access
    os.close(write_end)
    with os.fdopen(read_end, 'rb') as handle:
        answer = handle.read().decode()
    os.waitpid(pid, 0)
    return answer


def test_check_destination_unwritable_or_unreachable_directory(tmp_path):
    """As an unprivileged uid (nobody): a root-owned 0755 directory, and a directory it cannot
    reach, are refused up front (EACCES), not reported as missing."""
    if os.geteuid() != 0:
        pytest.skip('switching to another uid needs root')
    import tempfile  # pylint: disable=import-outside-toplevel
    top = tempfile.mkdtemp(prefix='hostsec-unwritable-')  # reachable by nobody, unlike tmp_path
    try:
        os.chmod(top, 0o755)
        answer = _as_nobody(lambda: files.check_destination(os.path.join(top, 'x509up')))
        assert answer.startswith('EACCES ') and 'no permission to create files' in answer, answer
    finally:
        os.rmdir(top)
    hidden = tmp_path / 'hidden'
    hidden.mkdir()
    os.chmod(str(tmp_path), 0o700)
    answer = _as_nobody(lambda: files.check_destination(str(hidden / 'x509up')))
    assert answer.startswith('EACCES ') and 'Permission denied' in answer, answer


def test_remove_file_wipes_an_own_file_and_removes_its_name(tmp_path):
    from ansible_collections.hostsec.mgmt.plugins.module_utils.common.files import remove_file
    path = tmp_path / 'x509up'
    path.write_bytes(b'-----BEGIN PRIVATE KEY-----secret')
    fd = os.open(str(path), os.O_RDONLY)  # sees the inode after its name is gone
    try:
        assert remove_file(str(path)) == {'changed': True, 'kind': 'file'}
        assert not path.exists()
        assert os.pread(fd, 64, 0) == b'\0' * len(b'-----BEGIN PRIVATE KEY-----secret')
    finally:
        os.close(fd)
    assert remove_file(str(path)) == {'changed': False, 'kind': 'absent'}


def test_remove_file_removes_a_link_never_its_target(tmp_path):
    from ansible_collections.hostsec.mgmt.plugins.module_utils.common.files import remove_file
    victim = tmp_path / 'victim'
    victim.write_bytes(b'root proxy')
    link = tmp_path / 'x509up'
    link.symlink_to(victim)
    assert remove_file(str(link), check_mode=True) == {'changed': True, 'kind': 'symlink'}
    assert os.path.islink(str(link))
    assert remove_file(str(link)) == {'changed': True, 'kind': 'symlink'}
    assert not os.path.lexists(str(link)) and victim.read_bytes() == b'root proxy'


def test_remove_file_leaves_other_names_of_a_hard_linked_file_intact(tmp_path):
    from ansible_collections.hostsec.mgmt.plugins.module_utils.common.files import remove_file
    other = tmp_path / 'other-name'
    other.write_bytes(b'someone else')
    path = tmp_path / 'x509up'
    os.link(str(other), str(path))
    assert remove_file(str(path))['changed']
    assert other.read_bytes() == b'someone else'


def test_remove_file_refuses_a_directory(tmp_path):
    from ansible_collections.hostsec.mgmt.plugins.module_utils.common.files import (
        FileWriteError, remove_file)
    with pytest.raises(FileWriteError, match='directory'):
        remove_file(str(tmp_path))
