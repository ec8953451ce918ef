# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every role's molecule scenarios (delegated driver on localhost, no containers).

Each scenario's test sequence includes ``idempotence``: molecule converges twice and fails when
the second run reports a change. The test also checks that the idempotence step really ran.
"""

import glob
import os
import subprocess

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


@pytest.mark.parametrize('role,scenario', SCENARIOS, ids=['%s/%s' % s for s in SCENARIOS])
def test_molecule(role, scenario):
    role_dir = os.path.join(paths.COLLECTION, 'roles', role)
    # Molecule's ephemeral state (inventory, state file) under build/, never in ~.
    ephemeral = os.path.join(paths.BUILD, 'molecule', role, scenario)
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
