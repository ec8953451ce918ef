# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where things are: the repository, the build directory and the collection mirror."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, 'build')
COLLECTIONS = os.path.join(BUILD, 'collections')
COLLECTION = os.path.join(COLLECTIONS, 'ansible_collections', 'hostsec', 'mgmt')
CACHE = os.path.join(BUILD, 'cache')
BIN = os.path.dirname(os.path.abspath(sys.executable))


def sync_collection():
    """Refresh the mirror of the working tree that Ansible and the unit tests import."""
    subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'sync_collection.py'), '-q',
                    '--dest', COLLECTION], check=True)


def tool(name):
    """Path of a command installed in the virtualenv, else the bare name (found on PATH)."""
    candidate = os.path.join(BIN, name)
    return candidate if os.path.exists(candidate) else name


def oldest_ansible_bin():
    """bin/ of a virtualenv with the oldest ansible-core meta/runtime.yml claims to support.

    Created once under build/ (``ansible-core==X.Y.*`` for ``requires_ansible: '>=X.Y.Z'``).
    """
    import re  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as handle:
        requires = yaml.safe_load(handle)['requires_ansible']
    match = re.match(r'^>=\s*(\d+)\.(\d+)', requires)
    if not match:
        raise RuntimeError('cannot read the oldest version from requires_ansible %r' % requires)
    version = '%s.%s' % match.groups()
    venv = os.path.join(BUILD, 'venv-ansible-core-%s' % version)
    bindir = os.path.join(venv, 'bin')
    stamp = os.path.join(venv, '.installed')
    if not os.path.exists(stamp):
        subprocess.run([sys.executable, '-m', 'venv', '--clear', venv], check=True)
        subprocess.run([os.path.join(bindir, 'pip'), 'install', '-q',
                        'ansible-core==%s.*' % version], check=True)
        with open(stamp, 'w') as handle:
            handle.write(version + '\n')
    return bindir
