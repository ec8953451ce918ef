# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: wbem
short_description: WBEM servers as inventory hosts, with their object manager, profiles and systems
version_added: 1.1.0
description:
  - Reads a list of WBEM server endpoints (CIM-XML over HTTP/HTTPS) from a YAML file whose name
    ends in C(wbem.yml) or C(wbem.yaml), asks every endpoint (in parallel, at most
    O(max_workers) at a time) for its object manager (C(CIM_ObjectManager)), its registered
    profiles (C(CIM_RegisteredProfile)) and the names of its C(CIM_ComputerSystem) instances,
    and adds one host per endpoint with these facts as host variables.
  - The host variables hold what the hostsec.mgmt.wbem modules need to connect
    (C(wbem_server_url), C(wbem_username), C(wbem_ca_certs), ...), B(never the password).
    Keep the password in C(group_vars) (vault encrypted) and give it to the modules there, see
    the examples.
  - An endpoint that cannot be asked (refused, timeout, TLS or authentication failure, CIM
    error) is reported as a warning and added with C(wbem_reachable=false) and C(wbem_error)
    (or left out, O(unreachable=skip)); with O(strict=true) it fails the inventory.
  - Groups, keyed groups and composed variables work as in
    P(ansible.builtin.constructed#inventory); the results can be cached (O(cache)), so that a
    second run within O(cache_timeout) sends no request at all.
  - Uses the WBEM client of this collection (Python package C(lxml) needed on the controller).
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; the file must say V(hostsec.mgmt.wbem).
    type: str
    required: true
    choices: [hostsec.mgmt.wbem]
  endpoints:
    description:
      - The WBEM servers. Each item is a URL, or a dictionary with O(endpoints[].url) and
        options that override the defaults given at the top level of the file.
      - Values may be templates (C({{ lookup('ansible.builtin.env', 'WBEM_PASSWORD') }})) or
        vault encrypted (C(!vault)).
    type: list
    elements: raw
    required: true
    suboptions:
      url:
        description:
          - The URL of the WBEM server, V(https://host[:port]) (default port 5989) or
            V(http://host[:port]) (default port 5988); without scheme HTTPS is used.
        type: str
        required: true
      name:
        description:
          - The inventory hostname. Default the host part of O(endpoints[].url).
          - Two endpoints with the same name fail the inventory (give each a name).
        type: str
      username:
        description: Overrides O(username) for this endpoint.
        type: str
      password:
        description: Overrides O(password) for this endpoint. Never a host variable, never logged.
        type: str
      ca_certs:
        description: Overrides O(ca_certs) for this endpoint.
        type: path
      validate_certs:
        description: Overrides O(validate_certs) for this endpoint.
        type: bool
      client_cert:
        description: Overrides O(client_cert) for this endpoint.
        type: path
      client_key:
        description: Overrides O(client_key) for this endpoint.
        type: path
      timeout:
        description: Overrides O(timeout) for this endpoint.
        type: float
      namespace:
        description: Overrides O(namespace) for this endpoint.
        type: str
      interop_namespace:
        description: Overrides O(interop_namespace) for this endpoint.
        type: str
      allow_plain_http_auth:
        description: Overrides O(allow_plain_http_auth) for this endpoint.
        type: bool
  username:
    description: The user for HTTP Basic authentication, for every endpoint that does not set its own.
    type: str
  password:
    description:
      - The password of O(username), for every endpoint that does not set its own.
      - A template or a vault encrypted value. Never a host variable, never in the cache, never
        logged.
    type: str
  ca_certs:
    description:
      - A PEM file of CA certificates, or a directory of hashed CA certificates, to verify the
        servers with (default the system's CA store).
    type: path
  validate_certs:
    description: Whether server certificates and host names are verified.
    type: bool
    default: true
  client_cert:
    description: A PEM certificate to authenticate with (TLS client certificate authentication).
    type: path
  client_key:
    description: The PEM private key of O(client_cert) (default O(client_cert) itself).
    type: path
  timeout:
    description:
      - The deadline of each request, in seconds. An endpoint sends about six requests, one
        after the other, so an endpoint that does not answer costs at most six times this.
    type: float
    default: 10
  namespace:
    description: The namespace of the C(CIM_ComputerSystem) instances.
    type: str
    default: root/cimv2
  interop_namespace:
    description:
      - The Interop namespace (object manager and profiles). Default the first of
        V(interop), V(root/interop), V(root/PG_InterOp), V(root/PG_Interop) that the server has.
    type: str
  allow_plain_http_auth:
    description: Allow sending the password over unencrypted V(http://) URLs.
    type: bool
    default: false
  max_workers:
    description: How many endpoints are asked at the same time.
    type: int
    default: 8
  unreachable:
    description:
      - What to do with an endpoint that cannot be asked (when O(strict) is V(false)).
      - V(keep) adds it with C(wbem_reachable=false) and C(wbem_error); V(skip) leaves it out.
        Either way a warning names it and the error.
    type: str
    choices: [keep, skip]
    default: keep
  group:
    description: The group every host of this inventory source is added to.
    type: str
    default: wbem
  strict:
    description:
      - If V(true), an endpoint that cannot be asked fails the whole inventory with its error,
        and so do invalid entries of O(compose), O(groups) and O(keyed_groups).
      - If V(false), such an endpoint is reported as a warning (see O(unreachable)) and invalid
        entries are skipped.
    type: bool
    default: false
notes:
  - Every host has the host variables C(wbem_server_url), C(wbem_username) (when set),
    C(wbem_ca_certs), C(wbem_validate_certs), C(wbem_namespace) and C(wbem_reachable).
  - A reachable host also has C(wbem_interop_namespace), C(wbem_object_manager) (C(name),
    C(system_name), C(element_name), C(description), C(path)), C(wbem_profiles) (a list of
    C(organization), C(name), C(version)) and C(wbem_computer_systems) (a list of names).
  - An unreachable host also has C(wbem_error) (C(class), C(name), C(message)).
  - With O(strict=true) an unreachable endpoint fails this inventory source; Ansible then
    warns that it cannot parse the source and goes on without its hosts, unless the
    C(any_unparsed_is_failed) setting (E(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED)) is on.
seealso:
  - module: hostsec.mgmt.wbem_info
"""

EXAMPLES = r"""
# fleet.wbem.yml -- ansible-inventory -i fleet.wbem.yml --graph
plugin: hostsec.mgmt.wbem
username: cimadmin
password: "{{ lookup('ansible.builtin.env', 'WBEM_PASSWORD') }}"
ca_certs: /etc/pki/wbem/ca.pem
timeout: 5
max_workers: 16
endpoints:
  - https://cimom1.example.org
  - url: https://10.0.4.17:15989
    name: rack4-bmc
    username: monitor
    password: !vault |
      $ANSIBLE_VAULT;1.1;AES256
      ...
keyed_groups:
  # profile_Indications, profile_Server, ... (one group per registered profile name)
  - key: wbem_profiles | map(attribute='name')
    prefix: profile
groups:
  pegasus: wbem_object_manager.name is defined and 'Pegasus' in wbem_object_manager.name
  wbem_down: not wbem_reachable
compose:
  wbem_system_name: wbem_computer_systems | first | default(omit)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/hostsec-wbem-inventory
cache_timeout: 3600

# group_vars/wbem.yml -- what the play needs besides the host variables of this plugin
# wbem_password: !vault |
#   $ANSIBLE_VAULT;1.1;AES256 ...

# The fleet play: every reachable WBEM server, from the controller
# - name: Inventory of the fleet
#   hosts: wbem:!wbem_down
#   connection: local
#   gather_facts: false
#   module_defaults:
#     group/hostsec.mgmt.wbem:
#       server: "{{ wbem_server_url }}"
#       username: "{{ wbem_username }}"
#       password: "{{ wbem_password }}"
#       ca_certs: "{{ wbem_ca_certs }}"
#   tasks:
#     - name: The computer systems of each server
#       hostsec.mgmt.wbem_info:
#         class_name: CIM_ComputerSystem
#       register: systems
"""

import concurrent.futures
from urllib.parse import urlsplit

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import HostsecError
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.http import parse_url
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.info import (
    gather_cimom, gather_registered_profiles)
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.module_args import (
    connection_from_params)

#: Host variables that come from the configuration; all others come from the servers and are
#: marked unsafe (never templated: a server may send ``{{ ... }}`` in any string).
CONFIGURED_VARS = ('wbem_server_url', 'wbem_ca_certs', 'wbem_validate_certs', 'wbem_namespace',
                   'wbem_username', 'wbem_client_cert', 'wbem_client_key')

#: Options an endpoint may set for itself; the same names at the top level are the defaults.
ENDPOINT_OPTIONS = ('username', 'password', 'ca_certs', 'validate_certs', 'client_cert',
                    'client_key', 'timeout', 'namespace', 'interop_namespace',
                    'allow_plain_http_auth')
SECRET_OPTIONS = ('password',)
COMPUTER_SYSTEM = 'CIM_ComputerSystem'


def _refuse_userinfo(url, index):
    """An endpoint URL with a user or password in it is refused before any message, host
    variable or cache entry quotes it (the message names the endpoint by its position)."""
    if not isinstance(url, str):
        return
    try:
        parts = urlsplit(url if '://' in url else 'https://' + url)
        userinfo = parts.username is not None or parts.password is not None
    except ValueError:
        userinfo = '@' in url
    if userinfo:
        raise AnsibleParserError(
            'hostsec.mgmt.wbem: endpoint %d: put credentials into username and password (or '
            'the endpoint\'s own), not into the url' % (index + 1))


def query_endpoint(params):
    """The host variables of one endpoint (``params``: the module-style connection options
    plus ``interop_namespace``); raises the client's errors."""
    with connection_from_params(params) as conn:
        cimom = gather_cimom(conn, {'interop_namespace': params.get('interop_namespace')},
                             None)['cimom']
        interop = cimom['interop_namespace']
        profiles = gather_registered_profiles(conn, {'interop_namespace': interop}, None)
        systems = sorted(set(
            to_text(path.keybindings.get('Name'))
            for path in conn.IterEnumerateInstancePaths(COMPUTER_SYSTEM,
                                                        namespace=conn.default_namespace)
            if path.keybindings.get('Name') is not None))
    manager = None
    if cimom['object_manager'] is not None:
        manager = dict((key, cimom[key]) for key in ('name', 'system_name', 'element_name',
                                                     'description'))
        manager['path'] = cimom['object_manager']['path']['uri']
    return {
        'wbem_reachable': True,
        'wbem_interop_namespace': interop,
        'wbem_object_manager': manager,
        'wbem_profiles': [dict((key, profile[key]) for key in ('organization', 'name', 'version'))
                          for profile in profiles['registered_profiles']],
        'wbem_computer_systems': systems,
    }


def connection_vars(params):
    """The host variables that tell the modules how to connect (never a secret)."""
    variables = {
        'wbem_server_url': params['server'],
        'wbem_ca_certs': params.get('ca_certs'),
        'wbem_validate_certs': params.get('validate_certs') is not False,
        'wbem_namespace': params.get('namespace'),
    }
    if params.get('username'):
        variables['wbem_username'] = params['username']
    for option in ('client_cert', 'client_key'):
        if params.get(option):
            variables['wbem_%s' % option] = params[option]
    return variables


def error_vars(exc):
    if isinstance(exc, HostsecError):
        error = {'class': exc.error_class, 'name': exc.error_name, 'message': exc.message}
    else:
        error = {'class': type(exc).__name__, 'name': None, 'message': to_text(exc)}
    return {'wbem_reachable': False, 'wbem_error': error}


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """WBEM servers (endpoints of a YAML file) as hosts, with what they say about themselves."""

    NAME = 'hostsec.mgmt.wbem'

    def verify_file(self, path):
        if super(InventoryModule, self).verify_file(path):
            return path.endswith(('wbem.yml', 'wbem.yaml'))
        return False

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        endpoints = self._endpoints()
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        results = None
        if use_cache:
            try:
                results = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if results is None:
            results = self._query_all(endpoints)
        if update_cache:
            self._cache[cache_key] = results
        self._populate(results)

    # -- options -----------------------------------------------------------------------

    def _value(self, value):
        """A templated, vault-decrypted option value."""
        if value is None:
            return None
        value = self.templar.template(value)
        if isinstance(value, str) or type(value).__name__ in ('AnsibleVaultEncryptedUnicode',
                                                              'EncryptedString'):
            return to_text(value)
        return value

    def _endpoints(self):
        """One dict of connection options (module names) per endpoint, and its name."""
        defaults = dict((option, self.get_option(option)) for option in ENDPOINT_OPTIONS)
        endpoints = []
        names = {}
        for index, item in enumerate(self.get_option('endpoints') or []):
            if not isinstance(item, dict):
                item = {'url': item}
            _refuse_userinfo(item.get('url'), index)
            unknown = sorted(set(item) - set(ENDPOINT_OPTIONS) - {'url', 'name'})
            if unknown:
                raise AnsibleParserError('hostsec.mgmt.wbem: unknown endpoint option(s) %s in '
                                         'the endpoint %s' % (', '.join(unknown), item.get('url')))
            params = dict(defaults)
            params.update((key, value) for key, value in item.items() if value is not None)
            params = dict((key, self._value(value)) for key, value in params.items())
            url = params.pop('url', None)
            if not url:
                raise AnsibleParserError('hostsec.mgmt.wbem: an endpoint has no url')
            _refuse_userinfo(url, index)  # again: a templated or vaulted url is text only now
            params['server'] = to_text(url)
            name = params.pop('name', None) or self._default_name(params['server'])
            if name in names:
                raise AnsibleParserError(
                    'hostsec.mgmt.wbem: the endpoints %s and %s both have the inventory name '
                    '%s; give them a name each' % (names[name], params['server'], name))
            names[name] = params['server']
            endpoints.append((to_text(name), params))
        if not endpoints:
            raise AnsibleParserError('hostsec.mgmt.wbem: no endpoints')
        return endpoints

    @staticmethod
    def _default_name(url):
        try:
            return parse_url(url)[1]
        except (HostsecError, ValueError) as exc:
            raise AnsibleParserError('hostsec.mgmt.wbem: invalid endpoint url %s: %s'
                                     % (url, to_text(exc)))

    # -- asking the endpoints ----------------------------------------------------------

    def _query_all(self, endpoints):
        """``{'hosts': [{'name': ..., 'vars': {...}}, ...]}`` in the order of the endpoints
        (what is cached: no secret)."""
        workers = max(1, min(int(self.get_option('max_workers') or 1), len(endpoints)))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(self._query_one, params) for _name, params in endpoints]
            answers = [future.result() for future in futures]
        hosts = []
        for (name, params), answer in zip(endpoints, answers):
            variables = connection_vars(params)
            variables.update(answer)
            hosts.append({'name': name, 'vars': variables})
        return {'hosts': hosts}

    @staticmethod
    def _query_one(params):
        try:
            return query_endpoint(params)
        except Exception as exc:  # pylint: disable=broad-except
            # one endpoint's failure, whatever it is, is that endpoint's result
            return error_vars(exc)

    # -- the inventory -----------------------------------------------------------------

    def _populate(self, results):
        strict = self.get_option('strict')
        group = self.inventory.add_group(self.get_option('group'))
        for host in results['hosts']:
            name, variables = host['name'], host['vars']
            if not variables.get('wbem_reachable'):
                error = variables.get('wbem_error') or {}
                text = 'WBEM endpoint %s (%s) cannot be asked: %s: %s: %s' % (
                    name, variables.get('wbem_server_url'), error.get('class'),
                    error.get('name'), error.get('message'))
                if strict:
                    raise AnsibleError('hostsec.mgmt.wbem: %s' % text)
                self.display.warning(text)
                if self.get_option('unreachable') == 'skip':
                    continue
            self.inventory.add_host(name, group=group)
            variables = dict((key, value if key in CONFIGURED_VARS else wrap_var(value))
                             for key, value in variables.items())
            for key, value in variables.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option('compose'), variables, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), variables, name,
                                              strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, name,
                                           strict=strict)
