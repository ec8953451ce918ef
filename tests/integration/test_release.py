# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release artifact as a user gets it: `ansible-galaxy collection build` makes a tarball
with the collection and nothing of the developer tooling, it installs into a path of the
user's choice, and a play runs from that installed copy alone."""

import tarfile

import pytest

from harness import ansible, paths
from harness.services.pam import PamWrapperService

pytestmark = pytest.mark.slow

#: Top-level entries the tarball must not carry (galaxy.yml build_ignore).
NOT_SHIPPED = ('.venv', 'build', '.git', '.ci', 'Makefile', 'tools', 'benchmarks', 'tests',
               '.ansible-lint', '.gitignore')


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    return ansible.build_collection(tmp_path_factory.mktemp('dist'))


def test_tarball_holds_the_collection_only(tarball):
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    for wanted in ('MANIFEST.json', 'FILES.json', 'plugins/modules/pam_check.py',
                   'plugins/module_utils/wbem/http.py', 'roles/pam_verify/meta/argument_specs.yml',
                   'meta/runtime.yml', 'meta/execution-environment.yml', 'requirements.txt',
                   'bindep.txt', 'docs/docsite/extra-docs.yml', 'README.md', 'COPYING'):
        assert wanted in names, wanted
    shipped = [n for n in names if n.split('/')[0] in NOT_SHIPPED or n.endswith('.pyc')
               or '__pycache__' in n or n.startswith('docs/build')]
    assert not shipped, shipped


def test_a_play_runs_from_the_installed_tarball(tarball, tmp_path):
    install = tmp_path / 'user-collections'
    run = ansible.run_command([paths.tool('ansible-galaxy'), 'collection', 'install', '--force',
                               '-p', str(install), tarball])
    assert run.rc == 0, run.explain()
    installed = install / 'ansible_collections' / 'hostsec' / 'mgmt'
    assert (installed / 'MANIFEST.json').is_file()
    assert not (installed / 'tests').exists() and not (installed / 'tools').exists()
    play = tmp_path / 'play.yml'
    play.write_text('''---
- name: From the installed tarball
  hosts: localhost
  gather_facts: false
  tasks:
    - name: A valid account authenticates
      environment: "{{ pam_wrapper_environment }}"
      hostsec.mgmt.pam_check:
        service: hostsec-matrix
        user: alice
        password: "{{ pam_matrix_users.alice.password }}"
      register: ok_result

    - name: The module that ran is the installed one
      ansible.builtin.assert:
        that:
          - ok_result.outcome == 'PAM_SUCCESS'
          - ok_result is not changed
''')
    with PamWrapperService(str(tmp_path / 'pam')) as pam:
        # Only the user's path: the tests' mirror of the tree is not on the collections path.
        run = ansible.run_playbook(str(play), extra_vars=pam.ansible_vars(),
                                   env={'ANSIBLE_COLLECTIONS_PATH': str(install)}, verbosity=3)
    assert run.rc == 0, run.explain()
    assert str(installed / 'plugins' / 'modules' / 'pam_check.py') in run.output, run.explain()
