# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hostsec.mgmt.wbem inventory plugin against three test CIMOMs and a closed port.

One inventory file (written like the plugin's EXAMPLES: defaults at the top, a vault encrypted
password, a per-endpoint password from a lookup, groups, keyed groups, compose, a jsonfile
cache) is listed with ``ansible-inventory --list``; then again (from the cache: the servers'
request logs do not grow); then with ``strict: true`` (the closed port fails it); and the fleet
play runs wbem_info on every reachable host of it, the password coming from group_vars.
"""

import json
import os
import socket

import pytest
import yaml

from harness import ansible, paths
from harness.process import free_port
from harness.services.wbem import OBJECT_MANAGER_NAME, SYSTEM_NAME, WbemService

pytestmark = pytest.mark.slow

PASSWORD = 'inv-' + os.urandom(9).hex()
VAULT_PASSWORD = 'vault-' + os.urandom(6).hex()
NAMES = ('cimom-a', 'cimom-b')  # the third endpoint gets its name from its URL: 127.0.0.1


@pytest.fixture(scope='module')
def cimoms(tmp_path_factory):
    base = tmp_path_factory.mktemp('wbeminv')
    services = [WbemService(str(base / ('server%d' % index)), password=PASSWORD, http=False, bulk=1)
                for index in range(3)]
    started = []
    try:
        for service in services:
            service.start()
            started.append(service)
        yield services
    finally:
        for service in started:
            service.stop()


def vault_encrypt(text):
    from ansible.parsing.vault import VaultLib, VaultSecret  # pylint: disable=import-outside-toplevel
    vault = VaultLib([('default', VaultSecret(VAULT_PASSWORD.encode()))])
    return vault.encrypt(text.encode()).decode()


def vault_yaml(data, secrets):
    """YAML text of ``data`` in which the value ``@name@`` of a key is ``secrets[name]``
    vault encrypted (``key: !vault |`` and the indented vault text)."""
    text = yaml.safe_dump(data, sort_keys=False)
    for name, secret in secrets.items():
        lines = text.split('\n')
        for index, line in enumerate(lines):
            if line.endswith(" '@%s@'" % name):
                indent = ' ' * (len(line) - len(line.lstrip()) + 2)
                encrypted = vault_encrypt(secret).strip().split('\n')
                lines[index] = line[:-len(" '@%s@'" % name)] + ' !vault |\n' + '\n'.join(
                    indent + part for part in encrypted)
        text = '\n'.join(lines)
    return text


@pytest.fixture(scope='module')
def inventory_dir(cimoms, tmp_path_factory):
    """An inventory directory: fleet.wbem.yml, group_vars/wbem.yml, the vault password file."""
    directory = tmp_path_factory.mktemp('inventory')
    dead = 'https://127.0.0.1:%d' % free_port()
    config = {
        'plugin': 'hostsec.mgmt.wbem',
        'username': cimoms[0].username,
        'password': '@password@',
        'ca_certs': cimoms[0].ca_file,
        'timeout': 5,
        'max_workers': 3,
        'endpoints': [
            {'url': cimoms[0].https_url, 'name': NAMES[0]},
            {'url': cimoms[1].https_url, 'name': NAMES[1], 'ca_certs': cimoms[1].ca_file,
             'password': "{{ lookup('ansible.builtin.env', 'HOSTSEC_TEST_WBEM_PASSWORD') }}"},
            {'url': cimoms[2].https_url, 'ca_certs': cimoms[2].ca_file},
            {'url': dead, 'name': 'dead'},
        ],
        'groups': {'wbem_down': 'not wbem_reachable',
                   'hostsec_cimoms': "wbem_object_manager.name | default('') == '%s'"
                                     % OBJECT_MANAGER_NAME},
        'keyed_groups': [{'key': "wbem_profiles | map(attribute='name')", 'prefix': 'profile'}],
        'compose': {'wbem_system_name': 'wbem_computer_systems | first | default(None)'},
        'cache': True,
        'cache_plugin': 'ansible.builtin.jsonfile',
        'cache_connection': str(directory / 'cache'),
        'cache_timeout': 3600,
    }
    with open(directory / 'fleet.wbem.yml', 'w') as handle:
        handle.write(vault_yaml(config, {'password': PASSWORD}))
    os.makedirs(directory / 'group_vars')
    with open(directory / 'group_vars' / 'wbem.yml', 'w') as handle:
        handle.write(vault_yaml({'wbem_password': '@password@'}, {'password': PASSWORD}))
    with open(directory / 'vault-password', 'w') as handle:
        handle.write(VAULT_PASSWORD + '\n')
    return directory


def run_inventory(inventory_dir, source='fleet.wbem.yml', args=()):
    argv = [paths.tool('ansible-inventory'), '-i', str(inventory_dir / source), '--list',
            '--vault-password-file', str(inventory_dir / 'vault-password')] + list(args)
    return ansible.run_command(argv, env={'HOSTSEC_TEST_WBEM_PASSWORD': PASSWORD})


def requests_of(cimoms):
    return [service.count() for service in cimoms]


def cache_text(inventory_dir):
    texts = []
    for root, _dirs, files in os.walk(str(inventory_dir / 'cache')):
        for name in files:
            with open(os.path.join(root, name), encoding='utf-8') as handle:
                texts.append(handle.read())
    return '\n'.join(texts)


def plain(value):
    """``value`` without the unsafe markers of ``ansible-inventory --list`` (2.19+:
    ``{'__ansible_unsafe': text}``)."""
    if isinstance(value, dict):
        if list(value) == ['__ansible_unsafe']:
            return value['__ansible_unsafe']
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def test_inventory_lists_every_endpoint_and_caches(cimoms, inventory_dir):
    run = run_inventory(inventory_dir)
    assert run.rc == 0, run.explain()
    listing = json.loads(run.stdout)
    raw_manager = listing['_meta']['hostvars'][NAMES[0]]['wbem_object_manager']
    assert raw_manager['name'] == {'__ansible_unsafe': OBJECT_MANAGER_NAME}, 'server data is unsafe'
    hostvars = plain(listing['_meta']['hostvars'])
    assert sorted(hostvars) == sorted(NAMES + ('127.0.0.1', 'dead')), run.explain()
    assert sorted(hostvars) == sorted(NAMES + ('127.0.0.1', 'dead'))
    assert sorted(listing['wbem']['hosts']) == sorted(hostvars)
    for name, service in zip(NAMES + ('127.0.0.1',), cimoms):
        facts = hostvars[name]
        assert facts['wbem_reachable'] is True, facts
        assert facts['wbem_server_url'] == service.https_url
        assert facts['wbem_username'] == service.username and facts['wbem_validate_certs'] is True
        assert facts['wbem_ca_certs'] == service.ca_file and 'wbem_error' not in facts
        assert facts['wbem_interop_namespace'] == 'root/interop'
        assert facts['wbem_object_manager']['name'] == OBJECT_MANAGER_NAME
        assert 'CIM_ObjectManager.' in facts['wbem_object_manager']['path'] and \
            'Name="%s"' % OBJECT_MANAGER_NAME in facts['wbem_object_manager']['path']
        assert SYSTEM_NAME in facts['wbem_computer_systems']
        assert facts['wbem_system_name'] == facts['wbem_computer_systems'][0]
        assert facts['wbem_profiles'] and all(sorted(p) == ['name', 'organization', 'version']
                                              for p in facts['wbem_profiles'])
    dead = hostvars['dead']
    assert dead['wbem_reachable'] is False and dead['wbem_error']['class'] == 'WBEMConnectionError'
    assert dead['wbem_error']['name'] == 'ECONNREFUSED'
    assert 'WBEM endpoint dead' in run.stderr and 'ECONNREFUSED' in run.stderr
    assert listing['wbem_down']['hosts'] == ['dead']
    assert sorted(listing['hostsec_cimoms']['hosts']) == sorted(NAMES + ('127.0.0.1',))
    profile_groups = [group for group in listing if group.startswith('profile_')]
    assert profile_groups and all(len(listing[group]['hosts']) == 3 for group in profile_groups)
    # every server was asked, with the password given to it (vault, lookup, default)
    asked = requests_of(cimoms)
    assert all(count >= 3 for count in asked), asked
    assert not any(service.requests(http_status=401) for service in cimoms)
    # the password is neither printed, nor a host variable, nor in the cache
    cached = cache_text(inventory_dir)
    assert cached and 'cimom-a' in cached
    for text in (run.stdout, run.stderr, cached):
        assert PASSWORD not in text and VAULT_PASSWORD not in text

    again = run_inventory(inventory_dir)
    assert again.rc == 0, again.explain()
    assert json.loads(again.stdout) == listing
    assert requests_of(cimoms) == asked, 'the second run must come from the cache'

    flushed = run_inventory(inventory_dir, args=['--flush-cache'])
    assert flushed.rc == 0, flushed.explain()
    assert all(now > before for now, before in zip(requests_of(cimoms), asked))


def test_strict_inventory_fails_for_an_unreachable_endpoint(inventory_dir):
    with open(inventory_dir / 'fleet.wbem.yml') as handle:
        text = handle.read()
    with open(inventory_dir / 'strict.wbem.yml', 'w') as handle:
        handle.write(text.replace('cache: true', 'cache: false') + 'strict: true\n')
    # as every failing inventory source: a warning and no hosts, or with
    # any_unparsed_is_failed an error
    run = run_inventory(inventory_dir, source='strict.wbem.yml')
    assert 'WBEM endpoint dead' in run.stderr and 'ECONNREFUSED' in run.stderr, run.explain()
    assert NAMES[0] not in run.stdout, run.explain()
    fatal = ansible.run_command(
        [paths.tool('ansible-inventory'), '-i', str(inventory_dir / 'strict.wbem.yml'), '--list',
         '--vault-password-file', str(inventory_dir / 'vault-password')],
        env={'HOSTSEC_TEST_WBEM_PASSWORD': PASSWORD, 'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': '1'})
    assert fatal.rc != 0 and 'WBEM endpoint dead' in fatal.stderr, fatal.explain()
    assert PASSWORD not in run.stdout + run.stderr + fatal.stdout + fatal.stderr


FLEET_PLAY = """
- name: Inventory of the fleet
  hosts: wbem:!wbem_down
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/hostsec.mgmt.wbem:
      server: "{{ wbem_server_url }}"
      username: "{{ wbem_username }}"
      password: "{{ wbem_password }}"
      ca_certs: "{{ wbem_ca_certs }}"
  tasks:
    - name: The computer systems of each server
      hostsec.mgmt.wbem_info:
        class_name: CIM_ComputerSystem
      register: systems

    - name: Each server answers for the systems the inventory found
      ansible.builtin.assert:
        that:
          - systems.instances | map(attribute='properties.Name') | unique | sort == wbem_computer_systems
"""


def test_fleet_play_runs_wbem_info_on_every_reachable_host(cimoms, inventory_dir):
    playbook = inventory_dir / 'fleet.yml'
    with open(playbook, 'w') as handle:
        handle.write(FLEET_PLAY)
    run = ansible.run_playbook(str(playbook), inventory=str(inventory_dir / 'fleet.wbem.yml'),
                               args=['--vault-password-file', str(inventory_dir / 'vault-password')],
                               env={'HOSTSEC_TEST_WBEM_PASSWORD': PASSWORD})
    assert run.rc == 0, run.explain()
    assert sorted(run.recap) == sorted(NAMES + ('127.0.0.1',)), run.explain()
    assert all(recap['failed'] == 0 and recap['ok'] == 2 for recap in run.recap.values())
    assert PASSWORD not in run.output


@pytest.fixture()
def silent_port():
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    sock.listen(8)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_bad_sources_are_refused_and_unreachable_endpoints_skipped(cimoms, inventory_dir,
                                                                   silent_port):
    """Five sources in one run: two endpoints with one name, an unknown endpoint option, a
    password in an endpoint URL (twice; each refused with a clear message that does not quote
    it); and unreachable: skip, with a server that never answers
    (a per-endpoint timeout) and a closed port, next to a good server."""
    good = {'url': cimoms[0].https_url, 'name': 'good', 'ca_certs': cimoms[0].ca_file,
            'username': cimoms[0].username, 'password': PASSWORD}
    sources = {
        'twice.wbem.yml': {'plugin': 'hostsec.mgmt.wbem', 'endpoints': [
            'https://twin.invalid:5989', 'https://twin.invalid:15989']},
        'unknown.wbem.yml': {'plugin': 'hostsec.mgmt.wbem', 'endpoints': [
            {'url': 'https://x.invalid', 'passwd': 'x'}]},
        # credentials in the URL: refused before a message, a host variable or the cache
        # could quote it, named endpoint or not
        'userinfo.wbem.yml': {'plugin': 'hostsec.mgmt.wbem', 'endpoints': [
            'https://good.invalid:5989',
            {'url': 'https://admin:%s@127.0.0.1:5989' % PASSWORD, 'name': 'leaky'}]},
        'userinfo2.wbem.yml': {'plugin': 'hostsec.mgmt.wbem', 'endpoints': [
            'https://admin:%s@127.0.0.1:5989' % PASSWORD]},
        'skip.wbem.yml': {'plugin': 'hostsec.mgmt.wbem', 'unreachable': 'skip', 'endpoints': [
            good, {'url': 'https://127.0.0.1:%d' % silent_port, 'name': 'silent', 'timeout': 2},
            {'url': 'https://127.0.0.1:%d' % free_port(), 'name': 'closed'}]},
    }
    argv = [paths.tool('ansible-inventory'), '--list']
    for name, config in sources.items():
        with open(inventory_dir / name, 'w') as handle:
            yaml.safe_dump(config, handle)
        argv += ['-i', str(inventory_dir / name)]
    run = ansible.run_command(argv)
    assert run.rc == 0, run.explain()
    stderr = ' '.join(run.stderr.split())
    assert 'the endpoints https://twin.invalid:5989 and https://twin.invalid:15989 both have ' \
           'the inventory name twin.invalid' in stderr, run.explain()
    assert 'unknown endpoint option(s) passwd in the endpoint https://x.invalid' in stderr
    assert 'endpoint 2: put credentials into username and password' in stderr, run.explain()
    assert 'endpoint 1: put credentials into username and password' in stderr, run.explain()
    assert 'WBEM endpoint silent' in stderr and 'TIMEOUT' in stderr
    assert 'WBEM endpoint closed' in stderr and 'ECONNREFUSED' in stderr
    hostvars = json.loads(run.stdout)['_meta']['hostvars']
    assert sorted(hostvars) == ['good'] and hostvars['good']['wbem_reachable'] is True
    assert PASSWORD not in run.stdout + run.stderr
