# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A second, unprivileged local user for attack tests, and the files it plants.

:func:`attacker_user` creates a throwaway user with a random name (``useradd -M``) and deletes it
afterwards. The planting helpers create, as root, what that user could have created in a
world-writable directory (a link, a file it owns), then hand it over with ``lchown``, which is
the same from the module's point of view. :func:`facts` records owner, group, mode and content
of a file (never following a link) so that a test can show that nothing changed.
"""

import contextlib
import hashlib
import os
import pwd
import stat
import subprocess
import uuid


@contextlib.contextmanager
def attacker_user():
    """``(name, uid, gid)`` of a new local user, deleted on exit."""
    name = 'hsa' + uuid.uuid4().hex[:6]
    subprocess.run(['useradd', '-M', '-s', '/usr/sbin/nologin', '-U', name], check=True,
                   capture_output=True, timeout=60)
    try:
        entry = pwd.getpwnam(name)
        yield name, entry.pw_uid, entry.pw_gid
    finally:
        subprocess.run(['userdel', name], check=False, capture_output=True, timeout=60)
        subprocess.run(['groupdel', name], check=False, capture_output=True, timeout=60)


def shared_dir(path):
    """A world-writable sticky directory like /tmp."""
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o1777)
    return path


def plant_link(path, target, uid, gid):
    os.symlink(target, path)
    os.lchown(path, uid, gid)


def plant_file(path, data, uid, gid, mode=0o600):
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def facts(path):
    """``(kind, uid, gid, mode, sha256 of content)`` of ``path`` itself (links not followed)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ('link', st.st_uid, st.st_gid, os.readlink(path))
    with open(path, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    return ('file', st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), digest)
