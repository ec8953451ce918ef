# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static checks of the whole collection, each one a test so `make test` reports them all.

- ``ansible-test sanity``: every test that runs without containers, for the controller
  Python, each in the virtualenv ansible-test prepares for it (``--venv``);
- ``ansible-test units``: the unit tests as ansible-test runs them (its own virtualenv with
  tests/unit/requirements.txt);
- ``antsibull-docs lint-collection-docs --plugin-docs``: the documentation of every plugin
  and role, and the collection's extra docs;
- ``ansible-lint``: roles, playbooks and integration targets (production profile).
"""

import os
import subprocess
import sys

import pytest

from harness import paths

pytestmark = pytest.mark.slow


#: antsibull logs to ~/antsibull.log: the tests give it a home under build/.
ANTSIBULL_ENV = {'HOME': os.path.join(paths.BUILD, 'antsibull-home')}


def _run(argv, timeout, cwd=paths.COLLECTION, env=None):
    full_env = dict(os.environ)
    full_env.update({'ANSIBLE_COLLECTIONS_PATH': paths.COLLECTIONS,
                     'PATH': paths.BIN + os.pathsep + os.environ.get('PATH', ''),
                     'ANSIBLE_NOCOLOR': '1', 'NO_COLOR': '1'})
    full_env.update(env or {})
    if 'HOME' in (env or {}):
        os.makedirs(env['HOME'], exist_ok=True)
    proc = subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    return proc, '$ %s\n%s\n%s' % (' '.join(argv), proc.stdout[-30000:], proc.stderr[-15000:])


def test_ansible_test_sanity():
    python = '%d.%d' % sys.version_info[:2]
    # tools/run_ansible_test.py: ansible-test with its pip bootstrap taken from PyPI.
    proc, log = _run([sys.executable, os.path.join(paths.ROOT, 'tools', 'run_ansible_test.py'),
                      'sanity', '--venv', '--python', python, '--color', 'no'], timeout=2400,
                     cwd=paths.sync_ansible_test_collection(),
                     env={'ANSIBLE_COLLECTIONS_PATH': paths.ANSIBLE_TEST_COLLECTIONS})
    assert proc.returncode == 0, log
    assert 'ERROR' not in proc.stdout, log


def test_ansible_test_units():
    """`ansible-test units` passes by itself in the collection tree (tests/unit/requirements.txt)."""
    python = '%d.%d' % sys.version_info[:2]
    proc, log = _run([sys.executable, os.path.join(paths.ROOT, 'tools', 'run_ansible_test.py'),
                      'units', '--venv', '--python', python, '--color', 'no'], timeout=1800,
                     cwd=paths.sync_ansible_test_collection(),
                     env={'ANSIBLE_COLLECTIONS_PATH': paths.ANSIBLE_TEST_COLLECTIONS})
    assert proc.returncode == 0, log
    # Both groups ran, and neither reported a failure.
    assert 'Unit test modules' in proc.stdout and 'Unit test module_utils' in proc.stdout, log
    assert ' failed' not in proc.stdout, log


def test_antsibull_docs_lint():
    proc, log = _run([paths.tool('antsibull-docs'), 'lint-collection-docs', '--plugin-docs',
                      '.'], timeout=600, env=ANTSIBULL_ENV)
    assert proc.returncode == 0, log


def test_ansible_lint():
    # A private HOME and ANSIBLE_HOME: ansible-lint puts $ANSIBLE_HOME/collections (the
    # Makefile's build/ansible-home, else ~/.ansible) first in the collection path, where
    # another copy of hostsec.mgmt (an older `ansible-galaxy collection install`) would
    # shadow the tree under test.
    home = os.path.join(paths.BUILD, 'ansible-lint-home')
    os.makedirs(home, exist_ok=True)
    proc, log = _run([paths.tool('ansible-lint'), '--offline', '--profile', 'production',
                      '--nocolor'], timeout=900,
                     env={'ANSIBLE_LINT_NODEPS': '0', 'HOME': home,
                          'ANSIBLE_HOME': os.path.join(home, '.ansible')})
    assert proc.returncode == 0, log


def test_html_docs_build(tmp_path):
    """`make docs`: antsibull-docs + Sphinx build the HTML documentation without warnings."""
    proc, log = _run(['sh', os.path.join(paths.ROOT, 'tools', 'build_docs.sh'),
                      str(tmp_path / 'work'), str(tmp_path / 'out')], timeout=900,
                     cwd=paths.ROOT)
    assert proc.returncode == 0, log
    html = tmp_path / 'out' / 'html'
    assert os.path.exists(str(html / 'collections' / 'hostsec' / 'mgmt' / 'pam_check_module.html')), log
    landing = (html / 'index.html').read_text()
    assert 'hostsec.mgmt: PAM, Kerberos, MyProxy and WBEM' in landing
    assert 'Welcome to my Ansible collection' not in landing
    # References to the Ansible docs resolve (offline inventory), and point at docs.ansible.com.
    module = (html / 'collections' / 'hostsec' / 'mgmt' / 'wbem_info_module.html').read_text()
    assert 'docs.ansible.com/ansible/devel/reference_appendices/common_return_values.html' in module
    # seealso to other collections' modules resolves to their pages on docs.ansible.com.
    ticket = (html / 'collections' / 'hostsec' / 'mgmt' / 'krb5_ticket_module.html').read_text()
    assert 'collections/community/general/krb_ticket_module.html' in ticket
    # Role pages carry an example (the entry point's examples in meta/argument_specs.yml).
    for role in os.listdir(os.path.join(paths.ROOT, 'roles')):
        page = (html / 'collections' / 'hostsec' / 'mgmt' / ('%s_role.html' % role)).read_text()
        assert 'Examples' in page and ('hostsec.mgmt.%s' % role) in page, role


def test_html_docs_build_fails_on_a_dead_reference(tmp_path):
    """No warning is suppressed: a reference to a label that exists nowhere fails the build."""
    import shutil  # pylint: disable=import-outside-toplevel
    root = tmp_path / 'tree'
    collection = tmp_path / 'collections' / 'ansible_collections' / 'hostsec' / 'mgmt'
    shutil.copytree(paths.COLLECTION, str(collection),
                    ignore=shutil.ignore_patterns('build', 'tests', '.git', '__pycache__'))
    guide = collection / 'docs' / 'docsite' / 'rst' / 'guide_pam.rst'
    guide.write_text(guide.read_text() + '\nSee :ref:`hostsec_no_such_label`.\n')
    shutil.copytree(os.path.join(paths.ROOT, 'tools'), str(root / 'tools'))
    shutil.copytree(os.path.join(paths.ROOT, 'docs'), str(root / 'docs'))
    proc, log = _run(['sh', str(root / 'tools' / 'build_docs.sh'), str(tmp_path / 'work'),
                      str(tmp_path / 'out')], timeout=900, cwd=str(root),
                     env={'ANSIBLE_COLLECTIONS_PATH': str(tmp_path / 'collections')})
    assert proc.returncode != 0, log
    assert 'hostsec_no_such_label' in log, log
