# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror the repository into build/collections/ansible_collections/hostsec/mgmt.

ansible-test, ansible-playbook and the unit tests need the collection at a path that ends in
``ansible_collections/<namespace>/<name>``. The repository root *is* the collection, so this
script keeps a copy of the files git knows about (tracked, plus untracked files that are not
ignored) at that path. Only changed files are copied; files gone from the repository are
removed from the copy. Run it as often as you like: it is fast and idempotent.

The copy is made a git repository of its own (``git init``, nothing committed): ansible-test
lists the files of a collection with git, and without it would find the enclosing repository,
in which build/ is ignored.
"""

import argparse
import filecmp
import os
import shutil
import subprocess
import sys

SKIP_DIRS = {'.git', '.venv', 'build', '__pycache__', '.pytest_cache', '.hypothesis'}
# Directories inside the copy that tools create and that must survive a sync.
KEEP_IN_DEST = ('tests/output/', '.git/')


def repo_files(root):
    """Return the repository's files as relative paths."""
    try:
        out = subprocess.run(
            ['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
            cwd=root, check=True, capture_output=True).stdout
        files = [f for f in out.decode('utf-8').split('\0') if f]
        return sorted(f for f in files if os.path.lexists(os.path.join(root, f)))
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            if name.endswith('.pyc'):
                continue
            files.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(files)


def sync(root, dest):
    wanted = set(repo_files(root))
    os.makedirs(dest, exist_ok=True)
    copied = removed = 0
    for rel in sorted(wanted):
        src = os.path.join(root, rel)
        dst = os.path.join(dest, rel)
        if os.path.islink(src):
            target = os.readlink(src)
            if os.path.islink(dst) and os.readlink(dst) == target:
                continue
            if os.path.lexists(dst):
                os.unlink(dst)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.symlink(target, dst)
            copied += 1
            continue
        if os.path.isfile(dst) and not os.path.islink(dst) and filecmp.cmp(src, dst, shallow=False):
            if (os.stat(src).st_mode & 0o7777) == (os.stat(dst).st_mode & 0o7777):
                continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            os.unlink(dst)
        shutil.copy2(src, dst)
        copied += 1
    for dirpath, dirnames, filenames in os.walk(dest, topdown=True):
        reldir = os.path.relpath(dirpath, dest)
        reldir = '' if reldir == '.' else reldir + '/'
        dirnames[:] = [d for d in dirnames
                       if not any((reldir + d + '/').startswith(k) for k in KEEP_IN_DEST)
                       and d != '__pycache__']
        for name in filenames:
            rel = reldir + name
            if rel not in wanted:
                os.unlink(os.path.join(dirpath, name))
                removed += 1
    # Drop directories left empty.
    for dirpath, dirnames, filenames in os.walk(dest, topdown=False):
        if '/.git' in dirpath[len(dest):] + '/':
            continue
        if dirpath != dest and not os.listdir(dirpath):
            os.rmdir(dirpath)
    if not os.path.isdir(os.path.join(dest, '.git')):
        subprocess.run(['git', 'init', '-q', dest], check=True)
    return copied, removed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument('--root', default=here)
    parser.add_argument('--dest', default=os.path.join(
        here, 'build', 'collections', 'ansible_collections', 'hostsec', 'mgmt'))
    parser.add_argument('-q', '--quiet', action='store_true')
    args = parser.parse_args(argv)
    copied, removed = sync(os.path.abspath(args.root), os.path.abspath(args.dest))
    if not args.quiet:
        print('sync_collection: %d copied, %d removed -> %s' % (copied, removed, args.dest))
    return 0


if __name__ == '__main__':
    sys.exit(main())
