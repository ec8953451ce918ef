# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of 200 hosts querying one WBEM server: Ansible + wbem_info against a pywbemcli loop.

The test CIMOM (tests/harness) runs on 127.0.0.1 with HTTPS and Basic auth. An inventory of
200 hosts (local connection, the project's virtualenv Python) runs one play:

- ``wbem_info`` enumerating the instances of CIM_ComputerSystem, with ``--forks 20``;
- the anchor: a shell loop of 200 ``pywbemcli ... instance enumerate CIM_ComputerSystem``
  calls, one after the other, the way an admin scripts it today;
- then a ``wbem_instance`` play over the same 200 hosts, each keeping its own
  HOSTSEC_AllTypes instance: a first run creates them, the timed second run changes nothing
  (the server's request log must show 200 GetInstance requests and not a single write).

Prints both times of the first comparison and their ratio (pywbemcli loop / Ansible: above 1,
Ansible is faster), and the time of the no-change play. pywbemcli comes from the package
pywbemtools, installed into its own virtualenv under build/cache (it pins an older ``click``
than the test tools of the project's virtualenv). ``REQUESTS_CA_BUNDLE`` and
``CURL_CA_BUNDLE`` are unset for it: pywbem would prefer them to ``--ca-certs``.

Usage: python benchmarks/wbem_fleet.py [--hosts 200] [--forks 20]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import ansible, paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.wbem import WbemService  # noqa: E402  pylint: disable=wrong-import-position

PYWBEMTOOLS = ['pywbemtools>=1.4,<1.5', 'pywbem>=1.9,<1.10']
TOOLS_VENV = os.path.join(paths.CACHE, 'pywbemtools-venv')

INFO_PLAY = """
- name: Every host asks the CIMOM for its computer systems
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Enumerate CIM_ComputerSystem
      hostsec.mgmt.wbem_info:
        server: "{{ wbem_server_url }}"
        username: "{{ wbem_username }}"
        password: "{{ wbem_password }}"
        ca_certs: "{{ wbem_ca_certs }}"
        class_name: CIM_ComputerSystem
      register: systems

    - name: Three of them
      ansible.builtin.assert:
        that: systems.count == 3
        quiet: true
"""

INSTANCE_PLAY = """
- name: Every host keeps its own instance on the CIMOM
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Ensure the instance
      hostsec.mgmt.wbem_instance:
        server: "{{ wbem_server_url }}"
        username: "{{ wbem_username }}"
        password: "{{ wbem_password }}"
        ca_certs: "{{ wbem_ca_certs }}"
        class_name: HOSTSEC_AllTypes
        keys:
          InstanceID: "hostsec:fleet:{{ inventory_hostname }}"
        properties:
          ElementName: "{{ inventory_hostname }}"
          PUint32: 42
          PBoolean: true
          PStringArray: [fleet, bench]
"""


def pywbemcli():
    """The pywbemcli command: from PATH, else from a virtualenv of its own under build/cache."""
    found = shutil.which('pywbemcli')
    if found:
        return found
    command = os.path.join(TOOLS_VENV, 'bin', 'pywbemcli')
    if not os.path.exists(command):
        print('installing pywbemtools into %s' % TOOLS_VENV, flush=True)
        subprocess.run([sys.executable, '-m', 'venv', TOOLS_VENV], check=True)
        subprocess.run([os.path.join(TOOLS_VENV, 'bin', 'pip'), 'install', '-q'] + PYWBEMTOOLS,
                       check=True)
    return command


def write_inventory(directory, hosts):
    path = os.path.join(directory, 'fleet.ini')
    with open(path, 'w') as handle:
        handle.write('[fleet]\n')
        for index in range(hosts):
            handle.write('node%03d\n' % index)
        handle.write('\n[fleet:vars]\nansible_connection=local\n'
                     'ansible_python_interpreter=%s\n' % paths.tool('python'))
    return path


def run_play(directory, name, text, inventory, service, forks):
    playbook = os.path.join(directory, name)
    with open(playbook, 'w') as handle:
        handle.write(text)
    start = time.perf_counter()
    run = ansible.run_playbook(playbook, extra_vars=service.ansible_vars(), inventory=inventory,
                               args=['--forks', str(forks)], timeout=3600)
    elapsed = time.perf_counter() - start
    if run.rc != 0:
        raise SystemExit('%s failed:\n%s' % (name, run.explain()))
    return run, elapsed


def run_pywbemcli_loop(directory, service, hosts):
    env = dict(os.environ)
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        env.pop(name, None)
    env['WBEM_BENCH_PASSWORD'] = service.password
    script = ('for i in $(seq %d); do "$PYWBEMCLI" --server "$URL" --user "$USER_NAME" '
              '--password "$WBEM_BENCH_PASSWORD" --ca-certs "$CA" --default-namespace root/cimv2 '
              'instance enumerate CIM_ComputerSystem > /dev/null || exit 1; done' % hosts)
    env.update(PYWBEMCLI=pywbemcli(), URL=service.url, USER_NAME=service.username,
               CA=service.ca_file)
    # one call outside the timing: the first start-up of a fresh virtualenv compiles bytecode
    subprocess.run(['sh', '-c', script.replace('seq %d' % hosts, 'seq 1')], env=env, cwd=directory,
                   check=True, stdin=subprocess.DEVNULL)
    service.reset_requests()
    start = time.perf_counter()
    subprocess.run(['sh', '-c', script], env=env, cwd=directory, check=True,
                   stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--forks', type=int, default=20)
    args = parser.parse_args()
    paths.sync_collection()
    os.makedirs(paths.CACHE, exist_ok=True)
    pywbemcli()
    directory = tempfile.mkdtemp(prefix='wbem-fleet-', dir=paths.BUILD)
    try:
        with WbemService(os.path.join(directory, 'cimom'), bulk=0) as service:
            inventory = write_inventory(directory, args.hosts)
            service.reset_requests()
            info_run, info_time = run_play(directory, 'info.yml', INFO_PLAY, inventory, service,
                                           args.forks)
            enumerations = service.count(operation='OpenEnumerateInstances') + \
                service.count(operation='EnumerateInstances')
            assert enumerations == args.hosts, enumerations
            loop_time = run_pywbemcli_loop(directory, service, args.hosts)
            cli_requests = service.count(classname='CIM_ComputerSystem')

            _first, first_time = run_play(directory, 'instance.yml', INSTANCE_PLAY, inventory,
                                          service, args.forks)
            service.reset_requests()
            second, second_time = run_play(directory, 'instance.yml', INSTANCE_PLAY, inventory,
                                           service, args.forks)
            changed = sum(counts['changed'] for counts in second.recap.values())
            writes = service.count(write=True)
            gets = service.count(operation='GetInstance')
            assert changed == 0 and writes == 0 and gets == args.hosts, (changed, writes, gets)
            failed = sum(counts['failed'] for counts in info_run.recap.values())
            assert failed == 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    print('wbem_fleet: %d hosts, forks=%d, one CIM_ComputerSystem enumeration each'
          % (args.hosts, args.forks))
    print('wbem_fleet: ansible-playbook + hostsec.mgmt.wbem_info: %.1f s' % info_time)
    print('wbem_fleet: shell loop of pywbemcli (%d requests): %.1f s' % (cli_requests, loop_time))
    print('wbem_fleet: wbem_instance play, first run (creates %d instances): %.1f s'
          % (args.hosts, first_time))
    print('wbem_fleet: wbem_instance play, no-change run: %.1f s (%d GetInstance, %d writes, '
          'changed=%d)' % (second_time, gets, writes, changed))
    print('wbem_fleet: info=%.1fs pywbemcli=%.1fs ratio=%.2f no_change_instance=%.1fs'
          % (info_time, loop_time, loop_time / info_time, second_time))
    return 0


if __name__ == '__main__':
    sys.exit(main())
