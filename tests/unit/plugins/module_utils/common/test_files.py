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
    write_atomic(path, b'same', mode=0o640)
    inode = os.stat(path).st_ino
    result = ensure_file(path, b'same')
    assert result['changed'] and not result['content_changed'] and result['attributes_changed']
    assert result['before']['mode'] == '0640' and result['after']['mode'] == '0600'
    assert mode_of(path) == 0o600
    assert os.stat(path).st_ino == inode


def test_ensure_file_keeps_the_owner_of_an_existing_file(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('changing the owner of a file needs root')
    nobody = pwd.getpwnam('nobody')
    path = str(tmp_path / 'cred')
    write_atomic(path, b'old', owner='nobody')
    ensure_file(path, b'new')
    assert os.stat(path).st_uid == nobody.pw_uid


def test_file_attributes(tmp_path):
    assert file_attributes(str(tmp_path / 'nothing')) is None
    path = str(tmp_path / 'f')
    write_atomic(path, b'x', mode=0o640)
    attrs = file_attributes(path)
    assert attrs['mode'] == '0640' and attrs['symlink'] is False
    assert attrs['owner'] == pwd.getpwuid(os.geteuid()).pw_name
