# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test CIMOM (tests/harness/wbem_server) as a service: a CIM-XML server on 127.0.0.1.

It runs in its own process (``python tests/harness/wbem_server``, stopped by the PID we
started), on ports the kernel picks, with throwaway TLS material in its working directory::

    with WbemService(tmp_path / 'wbem') as wbem:
        run_playbook(..., extra_vars=wbem.ansible_vars())
        assert wbem.count(operation='GetInstance') == 1 and not wbem.requests(write=True)

        with wbem.quirked(delay=3):            # quirks switch at run time (see quirks.py)
            ...

Working directory layout: ``tls/`` (ca.pem, server.pem, client.pem, client-key.pem,
untrusted-*.pem ...), ``state/`` (quirks.json, requests.jsonl, ready.json, password),
``server.log`` (the server's stderr).

What the repository holds is described in tests/harness/wbem_server/repository.py.
"""

import contextlib
import json
import os
import secrets
import sys

from . import Service
from ..process import LOOPBACK, ManagedProcess, wait_for_file
from ..wbem_server import certs
from ..wbem_server.quirks import write_quirks

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_DIR = os.path.join(os.path.dirname(HERE), 'wbem_server')

#: Namespaces and names of the test repository (see repository.py).
CIMV2 = 'root/cimv2'
INTEROP = 'root/interop'
SYSTEM_NAME = 'cimom.example.org'
OBJECT_MANAGER_NAME = 'hostsec-test-cimom'


class WbemService(Service):
    """The test CIMOM.

    :param workdir: working directory (created).
    :param username: user for HTTP Basic authentication; ``None`` disables authentication.
    :param password: its password (default: a random one, so leak tests can grep for it).
    :param http: serve plain HTTP.
    :param https: serve HTTPS (certificate for ``cert_hostnames``, signed by ``ca_file``).
    :param client_cert_auth: accept client certificates signed by ``ca_file`` as authentication.
    :param require_client_cert: refuse TLS connections without a client certificate.
    :param quirks: quirks in force from the start (see :meth:`set_quirks`).
    :param bulk: number of HOSTSEC_BulkElement instances.
    :param cert_hostnames: names and addresses in the server certificate (the first is its CN).
    :param netns: run the server inside this network namespace (``ip netns exec``): its
        127.0.0.1 is then the namespace's, out of the controller's reach.
    :param extra_https_ports: serve HTTPS on this many more free ports (a fleet of endpoints
        sharing one repository; :attr:`fleet_urls`, the request log's ``port`` tells them apart).
    """

    name = 'wbem'

    def __init__(self, workdir, username='cimadmin', password=None, http=True, https=True, client_cert_auth=True,
                 require_client_cert=False, quirks=None, bulk=50, cert_hostnames=('localhost', '127.0.0.1', '::1'),
                 start_timeout=60.0, extra_https_ports=0, netns=None):
        super().__init__(workdir)
        if not http and not https:
            raise ValueError('serve HTTP, HTTPS or both')
        self.username = username
        self.password = (password if password is not None else 'wbem-' + secrets.token_urlsafe(12)) \
            if username is not None else None
        self.http = http
        self.https = https
        self.client_cert_auth = client_cert_auth
        self.require_client_cert = require_client_cert
        self.initial_quirks = dict(quirks or {})
        self.bulk = bulk
        self.cert_hostnames = tuple(cert_hostnames)
        self.start_timeout = start_timeout
        self.extra_https_ports = extra_https_ports
        self.netns = netns
        self.fleet_ports = []
        self.tls_dir = os.path.join(self.workdir, 'tls')
        self.state_dir = os.path.join(self.workdir, 'state')
        self.log_path = os.path.join(self.workdir, 'server.log')
        self.quirks_file = os.path.join(self.state_dir, 'quirks.json')
        self.request_log_path = os.path.join(self.state_dir, 'requests.jsonl')
        self.ready_file = os.path.join(self.state_dir, 'ready.json')
        self.tls = {}
        self.process = None
        self.http_port = self.https_port = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        for stale in (self.ready_file, self.request_log_path):
            if os.path.exists(stale):
                os.unlink(stale)
        write_quirks(self.quirks_file, self.initial_quirks)
        argv = [sys.executable, SERVER_DIR, '--state-dir', self.state_dir, '--ready-file', self.ready_file,
                '--bulk', str(self.bulk)]
        if self.http:
            argv += ['--http-port', '0']
        if self.https:
            self.tls = certs.generate(self.tls_dir, hostnames=self.cert_hostnames, client_cn=self.username or 'cimclient')
            argv += ['--https-port', '0', '--certfile', self.tls['server_cert'], '--keyfile', self.tls['server_key']]
            if self.client_cert_auth:
                argv += ['--client-ca', self.tls['ca']]
            if self.require_client_cert:
                argv += ['--require-client-cert']
            if self.extra_https_ports:
                argv += ['--extra-https-ports', str(self.extra_https_ports)]
        if self.username is not None:
            password_file = os.path.join(self.state_dir, 'password')
            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w') as handle:
                handle.write(self.password + '\n')
            argv += ['--username', self.username, '--password-file', password_file]
        env = dict(os.environ)
        env.pop('HOSTSEC_WBEM_PASSWORD', None)
        if self.netns:
            argv = ['ip', 'netns', 'exec', self.netns] + argv  # exec: the PID stays the server's
        self.process = ManagedProcess(argv, self.log_path, env=env, cwd=self.workdir)
        try:
            wait_for_file(self.ready_file, timeout=self.start_timeout, process=self.process.popen)
        except RuntimeError as exc:
            raise RuntimeError('%s\n--- %s\n%s' % (exc, self.log_path, self.process.log()[-5000:]))
        with open(self.ready_file) as handle:
            ready = json.load(handle)
        self.http_port, self.https_port = ready['http_port'], ready['https_port']
        self.fleet_ports = ready.get('extra_https_ports') or []

    def stop(self):
        if self.process is not None:
            self.process.stop()
            self.process = None

    @property
    def pid(self):
        return self.process.pid if self.process is not None else None

    # -- addresses and credentials -------------------------------------------------------

    @property
    def http_url(self):
        return 'http://%s:%d' % (LOOPBACK, self.http_port) if self.http_port else None

    @property
    def https_url(self):
        return 'https://%s:%d' % (LOOPBACK, self.https_port) if self.https_port else None

    @property
    def url(self):
        """The HTTPS URL if HTTPS is served, else the HTTP URL."""
        return self.https_url or self.http_url

    @property
    def fleet_urls(self):
        """The HTTPS URLs of the extra ports (``extra_https_ports``), one per fleet endpoint."""
        return ['https://%s:%d' % (LOOPBACK, port) for port in self.fleet_ports]

    def https_url_for(self, host):
        """The HTTPS URL with another host name (``localhost``; or one not in the certificate)."""
        return 'https://%s:%d' % (host, self.https_port)

    @property
    def credentials(self):
        return (self.username, self.password) if self.username is not None else None

    @property
    def ca_file(self):
        return self.tls.get('ca')

    @property
    def client_cert(self):
        return self.tls.get('client_cert')

    @property
    def client_key(self):
        return self.tls.get('client_key')

    @property
    def untrusted_ca_file(self):
        return self.tls.get('untrusted_ca')

    @property
    def untrusted_client_cert(self):
        return self.tls.get('untrusted_client_cert')

    @property
    def untrusted_client_key(self):
        return self.tls.get('untrusted_client_key')

    def log(self):
        """What the server wrote to stderr."""
        return self.process.log() if self.process is not None else ''

    # -- quirks --------------------------------------------------------------------------

    def set_quirks(self, quirks=None, **more):
        """Replace the quirks in force (``set_quirks(delay=2)``, ``set_quirks({'cim_error':
        {'code': 'CIM_ERR_ACCESS_DENIED', 'operations': ['ModifyInstance']}})``); no argument
        clears them. Takes effect with the server's next request."""
        combined = dict(quirks or {})
        combined.update(more)
        write_quirks(self.quirks_file, combined)

    def clear_quirks(self):
        self.set_quirks({})

    def current_quirks(self):
        with open(self.quirks_file) as handle:
            return json.load(handle)

    @contextlib.contextmanager
    def quirked(self, quirks=None, **more):
        """Context manager: these quirks inside the block, the previous ones after it."""
        previous = self.current_quirks()
        self.set_quirks(quirks, **more)
        try:
            yield self
        finally:
            self.set_quirks(previous)

    # -- request log ---------------------------------------------------------------------

    def requests(self, **filters):
        """Entries of the request log (dicts, see server.RequestLog) whose keys equal ``filters``
        (operation names compare case-insensitively)."""
        entries = []
        if os.path.exists(self.request_log_path):
            with open(self.request_log_path, encoding='utf-8') as handle:
                for line in handle:
                    if line.strip():
                        entries.append(json.loads(line))
        return [entry for entry in entries if _matches(entry, filters)]

    def operations(self, **filters):
        """The operation names of the logged requests, in order (``InvokeMethod:Name`` for methods)."""
        return ['%s:%s' % (e['operation'], e['method']) if e.get('method') else e.get('operation')
                for e in self.requests(**filters)]

    def count(self, **filters):
        return len(self.requests(**filters))

    def reset_requests(self):
        """Empty the request log."""
        with open(self.request_log_path, 'w'):
            pass

    # -- Ansible -------------------------------------------------------------------------

    def ansible_vars(self):
        return {
            'wbem_server_url': self.url,
            'wbem_https_url': self.https_url,
            'wbem_http_url': self.http_url,
            'wbem_username': self.username,
            'wbem_password': self.password,
            'wbem_ca_certs': self.ca_file,
            'wbem_client_cert': self.client_cert,
            'wbem_client_key': self.client_key,
            'wbem_namespace': CIMV2,
            'wbem_interop_namespace': INTEROP,
            'wbem_system_name': SYSTEM_NAME,
            'wbem_request_log': self.request_log_path,
            'wbem_quirks_file': self.quirks_file,
        }

    def environment(self):
        """Connection environment variables for ad-hoc ``ansible -m hostsec.mgmt.wbem_*`` calls."""
        env = {'WBEM_SERVER': self.url}
        if self.username is not None:
            env.update(WBEM_USERNAME=self.username, WBEM_PASSWORD=self.password)
        if self.ca_file:
            env['WBEM_CA_CERTS'] = self.ca_file
        return env


def _matches(entry, filters):
    for key, wanted in filters.items():
        value = entry.get(key)
        if isinstance(wanted, str) and isinstance(value, str):
            if key in ('operation', 'method', 'classname', 'namespace'):
                if value.lower() != wanted.lower():
                    return False
                continue
        if value != wanted:
            return False
    return True
