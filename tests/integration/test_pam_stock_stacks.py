# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the PAM guide says about stock stacks holds on this Debian host's own ``login`` service.

The system's /etc/pam.d/login is used as it is (no pam_wrapper), with a throwaway local user:
- valid password, valid account: PAM_SUCCESS;
- expired account (``chage -E 0``): Debian's common-account runs pam_unix with
  ``default=ignore`` and then pam_deny, so account management fails with PAM_AUTH_ERR, not
  PAM_ACCT_EXPIRED; the guide's example therefore expects ``failure`` and checks
  ``failed_step``;
- locked account (``usermod -L``: a ``!`` before the hash in /etc/shadow): the role grid_node,
  with only its PAM part on, accepts the valid account and sees the locked one refused even
  with its right password, twice with changed=0; once the account is unlocked the role fails
  and says which case did not hold.
"""

import os
import re
import subprocess
import uuid

import pytest
import yaml

from harness import ansible, paths

pytestmark = pytest.mark.slow

PASSWORD = 'Stock-Pa55-%s' % uuid.uuid4().hex[:8]
GUIDE = os.path.join(paths.ROOT, 'docs', 'docsite', 'rst', 'guide_pam.rst')


@pytest.fixture(scope='module')
def users():
    if os.geteuid() != 0:
        pytest.skip('creating local users for the login service needs root (make test runs as root)')
    if not os.path.exists('/etc/pam.d/login'):
        pytest.skip('this host has no /etc/pam.d/login')
    prefix = 'hss%s' % uuid.uuid4().hex[:6]
    names = {'ok': prefix + 'ok', 'expired': prefix + 'exp', 'locked': prefix + 'lck'}
    created = []
    try:
        for name in names.values():
            subprocess.run(['useradd', '-M', '-s', '/usr/sbin/nologin', name], check=True)
            created.append(name)
            subprocess.run(['chpasswd'], input='%s:%s\n' % (name, PASSWORD), text=True, check=True)
        subprocess.run(['chage', '-E', '0', names['expired']], check=True)
        subprocess.run(['usermod', '-L', names['locked']], check=True)
        yield names
    finally:
        for name in created:
            subprocess.run(['userdel', '-f', name], check=False)


def _guide_example():
    """The first pam_check example of the guide's "Asserting outcomes" section."""
    with open(GUIDE) as handle:
        text = handle.read()
    section = text.split('Asserting outcomes', 1)[1]
    block = re.search(r'\.\. code-block:: yaml\+jinja\n\n((?:    .*\n|\n)+)', section).group(1)
    return yaml.safe_load('\n'.join(line[4:] for line in block.splitlines()))


def test_the_guide_example_holds_on_the_stock_login_service(users, tmp_path):
    tasks = _guide_example()
    assert tasks[0]['hostsec.mgmt.pam_check']['expect'] == 'failure'
    # The guide's tasks, with this host's service and throwaway user.
    tasks[0]['hostsec.mgmt.pam_check'].update(service='login', user=users['expired'],
                                              password=PASSWORD)
    tasks.insert(0, {'name': 'A valid account gets in through the stock login service',
                     'hostsec.mgmt.pam_check': {'service': 'login', 'user': users['ok'],
                                                'password': PASSWORD, 'expect': 'success'}})
    tasks.append({'name': 'Debian turns the expired account into PAM_AUTH_ERR (pam_deny)',
                  'ansible.builtin.assert': {'that': [
                      "former.outcome == 'PAM_AUTH_ERR'",
                      "former.steps[0].name == 'PAM_SUCCESS'"]}})
    play = tmp_path / 'play.yml'
    play.write_text(yaml.safe_dump([{'name': 'Stock login', 'hosts': 'localhost',
                                     'gather_facts': False, 'tasks': tasks}]))
    run = ansible.run_playbook(str(play))
    assert run.rc == 0, run.explain()
    assert run.recap['localhost']['failed'] == 0, run.explain()


def _grid_node_pam_play(tmp_path, users):
    play = tmp_path / 'grid_node_pam.yml'
    play.write_text(yaml.safe_dump([{
        'name': 'grid_node, PAM part only, on the stock login service',
        'hosts': 'localhost', 'gather_facts': False,
        'roles': [{'role': 'hostsec.mgmt.grid_node',
                   'grid_node_krb5': False, 'grid_node_myproxy': False, 'grid_node_wbem': False,
                   'grid_node_install_packages': False,
                   'grid_node_pam_services': ['login'],
                   'grid_node_pam_test_account': {'user': users['ok'], 'password': PASSWORD},
                   'grid_node_pam_locked_account': {'user': users['locked'],
                                                    'password': PASSWORD}}]}]))
    return str(play)


def test_grid_node_refuses_the_pam_unix_locked_account(users, tmp_path):
    play = _grid_node_pam_play(tmp_path, users)
    for attempt in ('first', 'second'):
        run = ansible.run_playbook(play)
        assert run.rc == 0, (attempt, run.explain())
        assert run.recap['localhost']['failed'] == 0, (attempt, run.explain())
        assert run.recap['localhost']['changed'] == 0, (attempt, run.explain())
    assert PASSWORD not in run.stdout + run.stderr

    # The account unlocked: the role's "refused" case no longer holds, and it says so.
    subprocess.run(['usermod', '-U', users['locked']], check=True)
    try:
        run = ansible.run_playbook(play)
    finally:
        subprocess.run(['usermod', '-L', users['locked']], check=True)
    assert run.rc != 0 and run.recap['localhost']['failed'] == 1, run.explain()
    assert 'locked %s is refused by login' % users['locked'] in run.stdout, run.explain()
    assert PASSWORD not in run.stdout + run.stderr
