# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every role's molecule scenarios (delegated driver on localhost, no containers).

Each scenario's test sequence includes ``idempotence``: molecule converges twice and fails when
the second run reports a change. The test also checks that the idempotence step really ran.
"""

import glob
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from harness import ansible, paths

pytestmark = pytest.mark.slow

SCENARIOS = sorted(
    (os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(p)))),
     os.path.basename(os.path.dirname(p)))
    for p in glob.glob(os.path.join(paths.ROOT, 'roles', '*', 'molecule', '*', 'molecule.yml')))


def test_every_role_has_a_scenario():
    roles = sorted(os.path.basename(p) for p in glob.glob(os.path.join(paths.ROOT, 'roles', '*'))
                   if os.path.isdir(p))
    assert roles, 'no roles found'
    assert sorted({scenario[0] for scenario in SCENARIOS}) == roles


def others_can_enter(directory):
    """Whether users other than the owner can pass through ``directory`` and every directory
    above it (o+x all the way up)."""
    path = os.path.abspath(directory)
    while True:
        try:
            if not os.stat(path).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


@pytest.mark.parametrize('role,scenario', SCENARIOS, ids=['%s/%s' % s for s in SCENARIOS])
def test_molecule(role, scenario):
    role_dir = os.path.join(paths.COLLECTION, 'roles', role)
    # Molecule's ephemeral state (inventory, state file, the scenario's services and files)
    # under build/, never in ~. Some scenarios run programs as other users (nobody, a
    # throwaway user), who must reach those files: when the checkout lies in a private
    # directory (a clone made in `mktemp -d`, mode 0700), the state goes to a temporary
    # directory of its own instead, removed afterwards.
    private = None
    base = os.path.join(paths.BUILD, 'molecule')
    if not others_can_enter(paths.BUILD):
        private = tempfile.mkdtemp(prefix='hostsec-molecule-')
        os.chmod(private, 0o755)
        base = private
    try:
        _run_scenario(role_dir, os.path.join(base, role, scenario), scenario)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)


def _run_scenario(role_dir, ephemeral, scenario):
    env = ansible.environment({'MOLECULE_NO_LOG': 'false', 'PY_COLORS': '0',
                               'MOLECULE_GLOB': 'molecule/*/molecule.yml',
                               'MOLECULE_EPHEMERAL_DIRECTORY': ephemeral})
    env.pop('ANSIBLE_CONFIG', None)
    env.pop('ANSIBLE_CALLBACKS_ENABLED', None)
    # Molecule keeps state (e.g. "prepared") between runs: start from a clean slate.
    subprocess.run([paths.tool('molecule'), 'reset', '-s', scenario], cwd=role_dir, env=env,
                   capture_output=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
    proc = subprocess.run([paths.tool('molecule'), 'test', '-s', scenario], cwd=role_dir, env=env,
                          capture_output=True, text=True, timeout=1800,
                          stdin=subprocess.DEVNULL, check=False)
    log = proc.stdout[-30000:] + '\n' + proc.stderr[-15000:]
    assert proc.returncode == 0, log
    assert 'idempotence' in log.lower(), log
    assert os.path.isfile(os.path.join(ephemeral, 'state.yml')), log
