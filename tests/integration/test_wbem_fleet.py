# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wbem action plugins (plugins/plugin_utils/wbem_action.py) against the test CIMOM.

- on the controller (connection local) the module runs in Ansible's worker process, and gives
  what the module path gives (``hostsec_wbem_execution: module``): same result keys and
  values, check mode, diff, no_log masking (the password never appears), module_defaults of
  the action group;
- a task delegated to a host that is not the controller runs the module there: the host is a
  network namespace (harness connection plugin ``hostsec_netns``) whose 127.0.0.1 serves a
  CIMOM that the controller cannot reach;
- the endpoint memory: the second task on an endpoint neither probes the Interop namespace
  again nor tries the pull operations its server refused (request log per port).
"""

import json
import os
import subprocess
import uuid

import pytest

from harness import ansible
from harness.services.wbem import WbemService

pytestmark = pytest.mark.slow

HERE = os.path.dirname(os.path.abspath(__file__))
CONNECTION_PLUGINS = os.path.join(os.path.dirname(HERE), 'harness', 'connection_plugins')
WBEM_ENV = dict((name, '') for name in (
    'WBEM_SERVER', 'WBEM_USERNAME', 'WBEM_PASSWORD', 'WBEM_NAMESPACE', 'WBEM_CA_CERTS',
    'WBEM_VALIDATE_CERTS', 'WBEM_CLIENT_CERT', 'WBEM_CLIENT_KEY', 'WBEM_TIMEOUT',
    'WBEM_ALLOW_PLAIN_HTTP_AUTH'))


@pytest.fixture(scope='module')
def wbem(tmp_path_factory):
    with WbemService(str(tmp_path_factory.mktemp('wbem') / 'server'), bulk=0,
                     extra_https_ports=3) as service:
        yield service


def write(directory, name, text):
    path = os.path.join(str(directory), name)
    with open(path, 'w') as handle:
        handle.write(text)
    return path


# Each pair runs once in-process (default) and once as a module; task names end in the path.
PAIRS = """
    - name: Enumerate ({path})
      hostsec.mgmt.wbem_info:
        class_name: CIM_ComputerSystem
      vars: {vars}
      register: enumerate_{path}

    - name: Create in check mode with diff, a property that is the password ({path})
      hostsec.mgmt.wbem_instance:
        class_name: HOSTSEC_AllTypes
        keys:
          InstanceID: "hostsec:paths:{path}"
        properties:
          ElementName: "{{{{ wbem_password }}}}"
          PUint32: 7
      check_mode: true
      diff: true
      vars: {vars}
      register: check_{path}

    - name: Create ({path})
      hostsec.mgmt.wbem_instance:
        class_name: HOSTSEC_AllTypes
        keys:
          InstanceID: "hostsec:paths:{path}"
        properties:
          ElementName: fleet
          PUint32: 7
      diff: true
      vars: {vars}

    - name: No change ({path})
      hostsec.mgmt.wbem_instance:
        class_name: HOSTSEC_AllTypes
        keys:
          InstanceID: "hostsec:paths:{path}"
        properties:
          ElementName: fleet
          PUint32: 7
      vars: {vars}

    - name: Wrong password ({path})
      hostsec.mgmt.wbem_info:
        class_name: CIM_ComputerSystem
        password: "not-{{{{ wbem_password }}}}"
      vars: {vars}
      ignore_errors: true

    - name: Delegated to localhost ({path})
      hostsec.mgmt.wbem_info:
        gather: cimom
      delegate_to: localhost
      vars: {vars}
"""

PATHS_PLAY = """
- name: The in-process path and the module path
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/hostsec.mgmt.wbem:
      server: "{{ wbem_server_url }}"
      username: "{{ wbem_username }}"
      password: "{{ wbem_password }}"
      ca_certs: "{{ wbem_ca_certs }}"
  tasks:
""" + PAIRS.format(path='in_process', vars='{}') + \
    PAIRS.format(path='module', vars='{hostsec_wbem_execution: module}')


def comparable(result, path):
    """A result with the parts that differ by construction made equal: the instance ID
    (names the path) and the CIMOM's own ``uri`` of it."""
    text = json.dumps(result, sort_keys=True)
    return json.loads(text.replace('hostsec:paths:' + path, 'hostsec:paths:X'))


def test_in_process_and_module_paths_agree(wbem, tmp_path):
    playbook = write(tmp_path, 'paths.yml', PATHS_PLAY)
    run = ansible.run_playbook(playbook, extra_vars=wbem.ansible_vars(), env=WBEM_ENV, verbosity=3)
    assert run.rc == 0, run.explain()
    # which path ran: the action plugin says so at -vvv, and only the module path ships a module
    assert run.stdout.count('hostsec.mgmt.wbem_info: in-process on the controller') == 3, \
        run.explain()
    assert run.stdout.count('hostsec.mgmt.wbem_instance: in-process on the controller') == 3
    assert run.stdout.count('as a module (hostsec_wbem_execution is module)') == 6
    assert run.stdout.count('AnsiballZ_wbem_') >= 6
    for name in ('Enumerate', 'Create in check mode with diff, a property that is the password',
                 'Create', 'No change', 'Wrong password', 'Delegated to localhost'):
        in_process = comparable(run.task('%s (in_process)' % name), 'in_process')
        module = comparable(run.task('%s (module)' % name), 'module')
        assert in_process == module, name
    enumerate_ = run.task('Enumerate (in_process)')
    assert enumerate_['count'] == 3 and enumerate_['invocation']['module_args']['password'] == \
        'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    check = run.task('Create in check mode with diff, a property that is the password (in_process)')
    assert check['changed'] and check['action'] == 'create' and check['diff']
    assert run.task('Create (in_process)')['changed']
    assert not run.task('No change (in_process)')['changed']
    failed = run.task('Wrong password (in_process)')
    assert failed['error']['class'] == 'AuthError' and failed['error']['name'] == 'HTTP_401', failed
    assert run.task('Delegated to localhost (in_process)')['cimom']['interop_namespace']
    # no_log: the password (also a property value of the check-mode task) is masked everywhere
    assert wbem.password not in run.output
    assert wbem.count(write=True) == 2  # one CreateInstance per path, nothing in check mode


MEMORY_PLAY = """
- name: Two tasks on one endpoint, another endpoint between them as a marker
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/hostsec.mgmt.wbem:
      username: "{{ wbem_username }}"
      password: "{{ wbem_password }}"
      ca_certs: "{{ wbem_ca_certs }}"
  tasks:
    - name: First
      hostsec.mgmt.wbem_info:
        server: "{{ endpoint }}"
        gather: cimom
    - name: Marker
      hostsec.mgmt.wbem_info:
        server: "{{ marker }}"
        class_name: CIM_ComputerSystem
    - name: Second
      hostsec.mgmt.wbem_info:
        server: "{{ endpoint }}"
        gather: cimom
"""


def _tasks_requests(wbem, endpoint_port, marker_port):
    """The requests of the first and the second task on ``endpoint_port`` (split by the
    marker task's requests on ``marker_port``)."""
    entries = [e for e in wbem.requests() if e['port'] in (endpoint_port, marker_port)]
    marker = [i for i, e in enumerate(entries) if e['port'] == marker_port]
    return entries[:marker[0]], entries[marker[-1] + 1:]


@pytest.mark.parametrize('execution', ['auto', 'module'])
def test_endpoint_memory(wbem, tmp_path, execution):
    """A server that refuses pull operations and has no ``interop`` namespace (only
    root/interop): in-process, the second task sends neither an Open* request nor one to
    ``interop``; the module path (no memory) probes both again, as every task did before."""
    index = 0 if execution == 'auto' else 1
    endpoint, marker = wbem.fleet_urls[index], wbem.fleet_urls[2]
    ports = wbem.fleet_ports[index], wbem.fleet_ports[2]
    playbook = write(tmp_path, 'memory.yml', MEMORY_PLAY)
    wbem.reset_requests()
    with wbem.quirked(no_pull=True):
        run = ansible.run_playbook(playbook, env=WBEM_ENV, extra_vars=dict(
            wbem.ansible_vars(), endpoint=endpoint, marker=marker, hostsec_wbem_execution=execution))
    assert run.rc == 0, run.explain()
    first, second = _tasks_requests(wbem, *ports)
    assert run.task('First')['cimom'] == run.task('Second')['cimom']

    def probes(entries):
        return [(e['operation'], e['namespace']) for e in entries
                if e['operation'].startswith('Open') or e['namespace'] == 'interop']

    assert probes(first), first  # the first task probes: pull refused, no 'interop'
    if execution == 'auto':
        assert probes(second) == [], second
        assert len(second) == len(first) - len(probes(first))
    else:
        assert probes(second) == probes(first)


@pytest.fixture(scope='module')
def netns():
    name = 'hsf' + uuid.uuid4().hex[:8]
    subprocess.run(['ip', 'netns', 'add', name], check=True)
    try:
        subprocess.run(['ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], check=True)
        yield name
    finally:
        subprocess.run(['ip', 'netns', 'del', name], check=False)


DELEGATE_PLAY = """
- name: Tasks for a host that reaches the CIM server when the controller cannot
  hosts: controller
  gather_facts: false
  module_defaults:
    group/hostsec.mgmt.wbem:
      server: "{{ wbem_server_url }}"
      username: "{{ wbem_username }}"
      password: "{{ wbem_password }}"
      ca_certs: "{{ wbem_ca_certs }}"
  tasks:
    - name: Delegated to the jump host
      hostsec.mgmt.wbem_info:
        class_name: CIM_ComputerSystem
      delegate_to: jumphost

    - name: On the controller
      hostsec.mgmt.wbem_info:
        class_name: CIM_ComputerSystem
        timeout: 5
      ignore_errors: true

- name: The jump host itself
  hosts: jumphost
  gather_facts: false
  tasks:
    - name: On the jump host
      hostsec.mgmt.wbem_instance:
        server: "{{ wbem_server_url }}"
        username: "{{ wbem_username }}"
        password: "{{ wbem_password }}"
        ca_certs: "{{ wbem_ca_certs }}"
        class_name: HOSTSEC_AllTypes
        keys:
          InstanceID: hostsec:jumphost
        properties:
          ElementName: jumphost
      check_mode: true
      diff: true
"""


def test_delegated_to_a_managed_host_runs_the_module_there(netns, tmp_path):
    with WbemService(str(tmp_path / 'server'), bulk=0, netns=netns) as hidden:
        inventory = write(tmp_path, 'inventory.ini',
                          'controller ansible_connection=local ansible_python_interpreter=%s\n'
                          'jumphost ansible_connection=hostsec_netns ansible_python_interpreter=%s\n'
                          % (ansible.paths.tool('python'), ansible.paths.tool('python')))
        playbook = write(tmp_path, 'delegate.yml', DELEGATE_PLAY)
        run = ansible.run_playbook(playbook, inventory=inventory, extra_vars=hidden.ansible_vars(),
                                   env=dict(WBEM_ENV, HOSTSEC_NETNS=netns,
                                            ANSIBLE_CONNECTION_PLUGINS=CONNECTION_PLUGINS),
                                   verbosity=3)
        assert run.rc == 0, run.explain()
        assert run.task('Delegated to the jump host')['count'] == 3, run.explain()
        assert 'as a module (connection hostsec_netns)' in run.stdout
        # in-process on the controller: its 127.0.0.1 has no server on that port
        assert run.task('On the controller')['error']['class'] == 'WBEMConnectionError'
        jump = run.task('On the jump host')
        assert jump['changed'] and jump['diff'] and hidden.count(write=True) == 0
        # the server saw the two module-path tasks only (Open; GetClass and GetInstance), never
        # the controller: its 127.0.0.1 is another one (its port may even be taken there)
        assert hidden.operations() == ['OpenEnumerateInstances', 'GetClass', 'GetInstance'], \
            hidden.operations()
        assert hidden.password not in run.output
