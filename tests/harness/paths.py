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
