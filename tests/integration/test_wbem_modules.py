# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wbem modules in playbooks against the test CIMOM (HTTPS with Basic auth).

Each module's target (``targets/<module>/tasks/main.yml``) runs in a play of its own and
asserts on the results itself, including the requests the server received (its request log)
for the no-change runs. On top, this file checks what only the outside sees: the ad-hoc call
with the connection taken from ``WBEM_*`` environment variables, the server's request log of
whole runs, and that the password never appears in anything Ansible prints or returns, even
at ``-vvvv``.
"""

import pytest

from harness import ansible, paths
from harness.process import free_port
from harness.services.wbem import WbemService

pytestmark = pytest.mark.slow

WBEM_ENV_NAMES = ('WBEM_SERVER', 'WBEM_USERNAME', 'WBEM_PASSWORD', 'WBEM_NAMESPACE',
                  'WBEM_CA_CERTS', 'WBEM_VALIDATE_CERTS', 'WBEM_CLIENT_CERT', 'WBEM_CLIENT_KEY',
                  'WBEM_TIMEOUT', 'WBEM_ALLOW_PLAIN_HTTP_AUTH')


@pytest.fixture(scope='module')
def wbem(tmp_path_factory):
    with WbemService(str(tmp_path_factory.mktemp('wbem') / 'server')) as service:
        yield service


def clean_env():
    """No WBEM_* variables from the caller's environment leak into the runs."""
    return dict((name, '') for name in WBEM_ENV_NAMES)


def run_target(wbem, tmp_path, target, verbosity=0, suffix='', bin_dir=None):
    """Run a target; ``suffix`` is appended to the names of the objects it creates, so that a
    target can run twice against one server."""
    extra_vars = dict(wbem.ansible_vars(), wbem_dead_url='https://127.0.0.1:%d' % free_port(),
                      wbem_untrusted_ca=wbem.untrusted_ca_file, wbem_suffix=suffix)
    try:
        run = ansible.run_playbook(ansible.target_playbook(tmp_path, target), extra_vars=extra_vars,
                                   env=clean_env(), verbosity=verbosity, bin_dir=bin_dir)
    finally:
        wbem.clear_quirks()
    assert run.rc == 0, run.explain()
    assert run.recap['localhost']['failed'] == 0, run.explain()
    return run


def test_wbem_info_target(wbem, tmp_path):
    run_target(wbem, tmp_path, 'wbem_info')


def test_wbem_instance_target(wbem, tmp_path):
    run_target(wbem, tmp_path, 'wbem_instance')


def test_wbem_instance_target_on_the_oldest_supported_ansible_core(wbem, tmp_path):
    """meta/runtime.yml's requires_ansible is a claim: run a target with that release."""
    run_target(wbem, tmp_path, 'wbem_instance', suffix='_oldest', bin_dir=paths.oldest_ansible_bin())


def test_wbem_instance_target_on_the_newest_ansible_core(wbem, tmp_path):
    """The newest ansible-core pip installs (on Python >= 3.12) runs the same target."""
    bin_dir, version = paths.newest_ansible_bin()
    assert tuple(int(part) for part in version.split('.')[:2]) >= (2, 20), version
    run_target(wbem, tmp_path, 'wbem_instance', suffix='_newest', bin_dir=bin_dir)


def test_wbem_method_target(wbem, tmp_path):
    run_target(wbem, tmp_path, 'wbem_method')


def test_wbem_class_target(wbem, tmp_path):
    run_target(wbem, tmp_path, 'wbem_class')


def test_wbem_qualifier_target(wbem, tmp_path):
    run_target(wbem, tmp_path, 'wbem_qualifier')


def test_wbem_subscription_target(wbem, tmp_path):
    run = run_target(wbem, tmp_path, 'wbem_subscription')
    # The vendor's subscription is still there, untouched (never a write on its objects).
    for entry in wbem.requests(write=True):
        assert 'vendor:' not in (entry.get('path') or ''), entry


def test_adhoc_wbem_info_from_environment(wbem):
    """``ansible localhost -m hostsec.mgmt.wbem_info -a class_name=...`` with WBEM_* only."""
    env = dict(clean_env(), **wbem.environment())
    run = ansible.run_adhoc('hostsec.mgmt.wbem_info', 'class_name=CIM_ComputerSystem', env=env)
    assert run.rc == 0, run.explain()
    result = run.results[-1]['result']
    assert result['count'] == 3 and result['gather'] == 'instances'
    assert sorted(i['properties']['Name'] for i in result['instances']) == [
        'cimom.example.org', 'node01.example.org', 'node02.example.org']
    # The same call without the environment fails cleanly: no server.
    bare = ansible.run_adhoc('hostsec.mgmt.wbem_info', 'class_name=CIM_ComputerSystem',
                             env=clean_env())
    assert bare.rc != 0
    assert 'InvalidInputError: NO_SERVER: no WBEM server' in bare.output


def test_no_password_in_verbose_output(wbem, tmp_path):
    """The password never appears in what Ansible prints or returns (-vvvv), whether it comes
    from a variable (the instance target) or from WBEM_PASSWORD (an ad-hoc call)."""
    run = run_target(wbem, tmp_path, 'wbem_instance', verbosity=4, suffix='-v')
    env = dict(clean_env(), **wbem.environment())
    adhoc = ansible.run_adhoc('hostsec.mgmt.wbem_info', 'class_name=CIM_Processor', env=env,
                              verbosity=4)
    assert adhoc.rc == 0, adhoc.explain()
    output = run.output + '\n' + adhoc.output
    # -vvvv really was in effect: connection details and module invocations are printed.
    assert 'ESTABLISH LOCAL CONNECTION' in output
    assert '"invocation"' in output
    assert wbem.password and wbem.password not in output, 'the password appears in the output'


ROLE_PLAIN_HTTP_PLAY = '''- name: The wbem_indications role with a server on plain http://
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Subscribe through the role
      ansible.builtin.include_role:
        name: hostsec.mgmt.wbem_indications
      vars:
        wbem_indications_owner: plainhttp
        wbem_indications_destination: https://mgmt.example.org:5999/cimlistener
        wbem_indications_servers:
          - server: "{{ wbem_http_url }}"
            username: "{{ wbem_username }}"
            password: "{{ wbem_password }}"
            allow_plain_http_auth: "{{ plain_ok | bool }}"
        wbem_indications_subscriptions:
          - name: alerts
            query: SELECT * FROM CIM_AlertIndication
'''


def test_wbem_indications_role_allow_plain_http_auth(wbem, tmp_path):
    """``servers[].allow_plain_http_auth`` reaches the module: refused without it, done with it."""
    playbook = tmp_path / 'role.yml'
    playbook.write_text(ROLE_PLAIN_HTTP_PLAY)
    try:
        refused = ansible.run_playbook(str(playbook), env=clean_env(),
                                       extra_vars=dict(wbem.ansible_vars(), plain_ok=False))
        assert refused.rc != 0
        assert 'INSECURE_AUTH' in refused.output, refused.explain()
        mark = len(wbem.requests())
        done = ansible.run_playbook(str(playbook), env=clean_env(),
                                    extra_vars=dict(wbem.ansible_vars(), plain_ok=True))
        assert done.rc == 0, done.explain()
        writes = [entry for entry in wbem.requests()[mark:] if entry.get('write')]
        assert [entry['operation'] for entry in writes] == ['CreateInstance'] * 3, writes
        assert all(entry['scheme'] == 'http' and entry['cim_status'] == 0 for entry in writes)
    finally:
        env = dict(clean_env(), **wbem.environment())
        ansible.run_adhoc('hostsec.mgmt.wbem_subscription', 'owner=plainhttp state=absent',
                          env=env)
