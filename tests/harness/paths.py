# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where things are: the repository, the build directory and the collection mirror."""

import contextlib
import fcntl
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, 'build')
COLLECTIONS = os.path.join(BUILD, 'collections')
COLLECTION = os.path.join(COLLECTIONS, 'ansible_collections', 'hostsec', 'mgmt')
#: A second mirror, for ansible-test only: it keeps files of its own in the tree it runs in
#: (tests/output/, tests/integration/inventory), which nothing else may add or remove meanwhile.
ANSIBLE_TEST_COLLECTIONS = os.path.join(BUILD, 'ansible-test-collections')
ANSIBLE_TEST_COLLECTION = os.path.join(ANSIBLE_TEST_COLLECTIONS, 'ansible_collections', 'hostsec',
                                       'mgmt')
CACHE = os.path.join(BUILD, 'cache')
#: Ansible's own home (local tmp, galaxy cache, collections): under build/, never ~/.ansible.
ANSIBLE_HOME = os.path.join(BUILD, 'ansible-home')
BIN = os.path.dirname(os.path.abspath(sys.executable))


@contextlib.contextmanager
def build_lock(name):
    """An exclusive lock on build/.lock-NAME, held for the ``with`` block.

    ``make test`` runs pytest with several workers (pytest-xdist): what they share under
    build/ (the collection mirror, the extra virtualenvs) is made by one of them at a time.
    """
    os.makedirs(BUILD, exist_ok=True)
    fd = os.open(os.path.join(BUILD, '.lock-%s' % name), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def sync_collection():
    """Refresh the mirror of the working tree that Ansible and the unit tests import."""
    with build_lock('collection'):
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'sync_collection.py'), '-q',
                        '--dest', COLLECTION], check=True)


def sync_ansible_test_collection():
    """Refresh ansible-test's own mirror of the working tree; return its path."""
    with build_lock('ansible-test-collection'):
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'sync_collection.py'), '-q',
                        '--dest', ANSIBLE_TEST_COLLECTION], check=True)
    return ANSIBLE_TEST_COLLECTION


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
    # lxml: the interpreter also runs the modules (ansible_playbook_python), WBEM ones too.
    wanted = ['ansible-core==%s.*' % version, 'lxml']
    with build_lock(os.path.basename(venv)):
        recorded = None
        if os.path.exists(stamp):
            with open(stamp) as handle:
                recorded = handle.read().split()
        if recorded != wanted:
            subprocess.run([sys.executable, '-m', 'venv', '--clear', venv], check=True)
            subprocess.run([os.path.join(bindir, 'pip'), 'install', '-q'] + wanted, check=True)
            with open(stamp, 'w') as handle:
                handle.write(' '.join(wanted) + '\n')
    return bindir


#: The newest ansible-core releases need a newer Python than the controller's 3.11.
NEWEST_PYTHONS = ('3.13', '3.12')


def newer_python():
    """A Python >= 3.12 for the newest ansible-core: pyenv's, else one on PATH, else installed.

    pyenv on these machines has carried 3.12 and 3.13; where neither is there, ``pyenv install``
    is tried once (it needs the network path to python.org, which may be closed). Returns the
    interpreter's path, or raises RuntimeError saying what was tried.
    """
    import glob  # pylint: disable=import-outside-toplevel
    import shutil  # pylint: disable=import-outside-toplevel
    root = os.environ.get('PYENV_ROOT') or os.path.expanduser('~/.pyenv')
    tried = []
    for version in NEWEST_PYTHONS:
        for candidate in sorted(glob.glob(os.path.join(root, 'versions', version + '.*', 'bin',
                                                       'python' + version)), reverse=True):
            tried.append(candidate)
            if _runs(candidate):
                return candidate
        found = shutil.which('python' + version)
        if found:
            tried.append(found)
            if _runs(found):
                return found
    pyenv = shutil.which('pyenv') or os.path.join(root, 'bin', 'pyenv')
    if os.path.exists(pyenv):
        for version in NEWEST_PYTHONS:
            proc = subprocess.run([pyenv, 'install', '--skip-existing', version],
                                  capture_output=True, text=True, check=False, timeout=1200)
            if proc.returncode == 0:
                return newer_python_after_install(root, version)
            tried.append('pyenv install %s: %s' % (version, proc.stderr.strip()[-200:]))
    raise RuntimeError('no Python >= 3.12 for the newest ansible-core; tried: %s' % '; '.join(tried))


def newer_python_after_install(root, version):
    """The interpreter ``pyenv install`` just made."""
    import glob  # pylint: disable=import-outside-toplevel
    found = sorted(glob.glob(os.path.join(root, 'versions', version + '.*', 'bin', 'python' + version)))
    if not found:
        raise RuntimeError('pyenv installed %s, but no interpreter was found' % version)
    return found[-1]


def _runs(python):
    try:
        return subprocess.run([python, '-c', 'import ssl, venv, ctypes'], capture_output=True,
                              check=False, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def newest_ansible_bin():
    """bin/ of a virtualenv with the newest ansible-core pip can install (on a Python >= 3.12).

    Created once under build/ (so a clean clone, as in CI, gets the newest release of the day),
    with lxml for the WBEM modules. Returns ``(bindir, version)``.
    """
    venv = os.path.join(BUILD, 'venv-ansible-core-newest')
    bindir = os.path.join(venv, 'bin')
    stamp = os.path.join(venv, '.installed')
    with build_lock(os.path.basename(venv)):
        if not os.path.exists(stamp):
            python = newer_python()
            subprocess.run([python, '-m', 'venv', '--clear', venv], check=True)
            subprocess.run([os.path.join(bindir, 'pip'), 'install', '-q', '--upgrade', 'ansible-core', 'lxml'],
                           check=True)
            proc = subprocess.run([os.path.join(bindir, 'python'), '-c',
                                   'import ansible.release; print(ansible.release.__version__)'],
                                  capture_output=True, text=True, check=True)
            with open(stamp, 'w') as handle:
                handle.write(proc.stdout)
    with open(stamp) as handle:
        return bindir, handle.read().strip()


def tool_venv(name, packages):
    """bin/ of a virtualenv under build/ holding ``packages`` (tools the main .venv does not
    carry, e.g. ansible-builder); made once, remade when the package list changes."""
    venv = os.path.join(BUILD, 'venv-%s' % name)
    bindir = os.path.join(venv, 'bin')
    stamp = os.path.join(venv, '.installed')
    with build_lock(os.path.basename(venv)):
        recorded = None
        if os.path.exists(stamp):
            with open(stamp) as handle:
                recorded = handle.read().split()
        if recorded != list(packages):
            subprocess.run([sys.executable, '-m', 'venv', '--clear', venv], check=True)
            subprocess.run([os.path.join(bindir, 'pip'), 'install', '-q'] + list(packages), check=True)
            with open(stamp, 'w') as handle:
                handle.write(' '.join(packages) + '\n')
    return bindir
