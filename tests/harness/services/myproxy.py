# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Debian's myproxy-server on 127.0.0.1, on a free port, with a throwaway PKI.

The working directory gets:

``certificates/``
    the trusted CA directory (``X509_CERT_DIR``): the test CA as ``<hash>.0`` with its
    ``<hash>.signing_policy``. The server sends it as its trust roots (``cert_dir``).
``rogue-certificates/``
    a CA directory holding only an unrelated CA: a client using it must not trust the server.
``hostcert.pem`` / ``hostkey.pem``
    the server's certificate, ``/O=Hostsec Test/CN=localhost`` with subjectAltName
    ``DNS:localhost``.
``users/<name>/usercert.pem``, ``userkey.pem`` (encrypted with the user's key passphrase),
``userkey-plain.pem``
    end-entity credentials of the test users (:data:`USERS`), and ``expired`` whose
    certificate ended yesterday.
``myproxy-server.config``, ``passphrase-policy``, ``store/``
    the server configuration (everyone may store and retrieve; key retrieval only where the
    credential allows it; passphrases containing "weak" are refused by the policy program),
    and the credential storage directory.

Options for other server modes (additive): ``extra_config`` lines are appended to the
configuration, a line replacing the base lines of the same directive (for example
``default_renewers "*/CN=carol"``); ``online_ca=True`` makes the server an online CA as well
(``certificate_issuer_cert``/``certificate_issuer_key`` of a second CA,
``/O=Hostsec Test/CN=Hostsec Online CA``, installed into ``certificates/`` too;
``certificate_mapfile`` mapping each test user to ``/O=Hostsec Test/CN=<user>``);
``server_env`` is added to the server's environment (pam_wrapper's variables for ``pam``
``"required"`` with a ``pam_id`` from :class:`~harness.services.pam.PamWrapperService`).

``myproxy-server`` daemonizes; it writes its port (``-p 0 -z``) and PID (``-P``) files and is
stopped by the PID from that file (and the PID we started), never by name.
"""

import datetime
import os
import shutil

from .. import gridpki
from ..process import LOOPBACK, ManagedProcess, wait_for_file, wait_for_port
from . import Service

# user -> passphrase of the user's key file.
USERS = {
    'alice': 'alice-key-Secr3t',
    'bob': 'bob-key-Secr3t',
    'carol': 'carol-key-Secr3t',
}
EXPIRED_USER = 'expired'
ORG = '/O=Hostsec Test'

POLICY_PROGRAM = """#!/bin/sh
# Passphrase policy of the test server: refuse passphrases that contain "weak".
read -r pass
case "$pass" in
  *weak*) echo "Passphrase policy: the passphrase must not contain the word weak"; exit 1 ;;
esac
exit 0
"""


def myproxy_server_binary():
    for candidate in ('/usr/sbin/myproxy-server', '/usr/bin/myproxy-server'):
        if os.path.exists(candidate):
            return candidate
    return shutil.which('myproxy-server')


class MyProxyService(Service):
    """A running myproxy-server; ``port``, ``ca_dir``, ``users`` after :meth:`start`."""

    name = 'myproxy'
    host = 'localhost'

    def __init__(self, workdir, key_bits=2048, extra_config=None, online_ca=False,
                 server_env=None):
        super(MyProxyService, self).__init__(workdir)
        self.key_bits = key_bits
        self.extra_config = list(extra_config or [])
        self.online_ca = online_ca
        self.server_env = dict(server_env or {})
        self.process = None
        self.port = None

    # ------------------------------------------------------------------ PKI and config

    def _pki(self):
        join = os.path.join
        self.ca = gridpki.CertificateAuthority(ORG + '/CN=Hostsec Test CA', bits=self.key_bits)
        self.ca_dir = join(self.workdir, 'certificates')
        self.ca_hash = self.ca.install(self.ca_dir)
        rogue = gridpki.CertificateAuthority('/O=Rogue/CN=Rogue CA', bits=self.key_bits)
        self.rogue_ca_dir = join(self.workdir, 'rogue-certificates')
        rogue.install(self.rogue_ca_dir)
        host_key, host_cert = self.ca.issue(ORG + '/CN=localhost', bits=self.key_bits,
                                            host='localhost')
        self.host_cert = gridpki.write(join(self.workdir, 'hostcert.pem'),
                                       gridpki.cert_pem(host_cert), 0o644)
        self.host_key = gridpki.write(join(self.workdir, 'hostkey.pem'),
                                      gridpki.key_pem(host_key), 0o600)
        self.host_subject = ORG + '/CN=localhost'
        if self.online_ca:
            issuer = gridpki.CertificateAuthority(ORG + '/CN=Hostsec Online CA',
                                                  bits=self.key_bits)
            issuer.install(self.ca_dir)
            self.issuer_subject = issuer.subject
            self.issuer_cert = gridpki.write(join(self.workdir, 'issuer-cert.pem'),
                                             gridpki.cert_pem(issuer.cert), 0o644)
            self.issuer_key = gridpki.write(join(self.workdir, 'issuer-key.pem'),
                                            gridpki.key_pem(issuer.key), 0o600)
        self.users = {}
        now = datetime.datetime.now(datetime.timezone.utc)
        for user, key_passphrase in sorted(USERS.items()) + [(EXPIRED_USER, 'expired-key-Secr3t')]:
            directory = join(self.workdir, 'users', user)
            os.makedirs(directory, mode=0o700)
            if user == EXPIRED_USER:
                key, cert = self.ca.issue(ORG + '/CN=' + user, bits=self.key_bits,
                                          not_before=now - datetime.timedelta(days=3),
                                          not_after=now - datetime.timedelta(days=1))
            else:
                key, cert = self.ca.issue(ORG + '/CN=' + user, bits=self.key_bits)
            self.users[user] = {
                'subject': ORG + '/CN=' + user,
                'cert': gridpki.write(join(directory, 'usercert.pem'), gridpki.cert_pem(cert),
                                      0o644),
                'key': gridpki.write(join(directory, 'userkey.pem'),
                                     gridpki.key_pem(key, key_passphrase), 0o600),
                'key_plain': gridpki.write(join(directory, 'userkey-plain.pem'),
                                           gridpki.key_pem(key), 0o600),
                'key_passphrase': key_passphrase,
            }

    def _config(self):
        join = os.path.join
        self.policy_program = gridpki.write(join(self.workdir, 'passphrase-policy'),
                                            POLICY_PROGRAM.encode(), 0o755)
        self.store_dir = join(self.workdir, 'store')
        os.makedirs(self.store_dir, mode=0o700)
        os.chmod(self.store_dir, 0o700)
        lines = [
            'accepted_credentials "*"',
            'authorized_retrievers "*"',
            'default_retrievers "*"',
            'authorized_renewers "*"',
            'default_renewers "none"',
            'authorized_key_retrievers "*"',
            'default_key_retrievers "none"',
            'passphrase_policy_program %s' % self.policy_program,
            'cert_dir %s' % self.ca_dir,
            'request_timeout 60',
        ]
        extra = list(self.extra_config)
        if self.online_ca:
            self.mapfile = gridpki.write(join(self.workdir, 'grid-mapfile'), ''.join(
                '"%s" %s\n' % (ORG + '/CN=' + user, user) for user in sorted(USERS)).encode(),
                0o644)
            extra = ['certificate_issuer_cert %s' % self.issuer_cert,
                     'certificate_issuer_key %s' % self.issuer_key,
                     'certificate_mapfile %s' % self.mapfile] + extra
        replaced = set(line.split(None, 1)[0] for line in extra if line.strip())
        lines = [line for line in lines if line.split(None, 1)[0] not in replaced] + extra
        self.config = gridpki.write(join(self.workdir, 'myproxy-server.config'),
                                    ''.join(line + '\n' for line in lines).encode(), 0o644)

    def environment(self):
        """What the server (and the Globus C clients) need in their environment."""
        env = dict(os.environ)
        for name in ('X509_USER_PROXY', 'X509_USER_CERT', 'X509_USER_KEY', 'MYPROXY_SERVER',
                     'MYPROXY_SERVER_PORT', 'MYPROXY_SERVER_DN', 'GT_PROXY_MODE'):
            env.pop(name, None)
        env['X509_CERT_DIR'] = self.ca_dir
        return env

    # ------------------------------------------------------------------ lifecycle

    def start(self):
        binary = myproxy_server_binary()
        if not binary:
            raise RuntimeError('myproxy-server is not installed (Debian package myproxy-server)')
        self._pki()
        self._config()
        self.port_file = os.path.join(self.workdir, 'myproxy.port')
        self.pid_file = os.path.join(self.workdir, 'myproxy.pid')
        env = self.environment()
        env.update(X509_USER_CERT=self.host_cert, X509_USER_KEY=self.host_key)
        env.update(self.server_env)
        self.process = ManagedProcess(
            [binary, '-l', LOOPBACK, '-p', '0', '-z', self.port_file, '-P', self.pid_file,
             '-c', self.config, '-s', self.store_dir],
            os.path.join(self.workdir, 'myproxy-server.log'), env=env, cwd=self.workdir,
            pid_file=self.pid_file)
        wait_for_file(self.port_file, timeout=30)
        wait_for_file(self.pid_file, timeout=30)
        with open(self.port_file) as handle:
            self.port = int(handle.read().strip())
        wait_for_port(self.port, LOOPBACK, timeout=30)

    def stop(self):
        if self.process is not None:
            self.process.stop()
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def pid(self):
        return self.process.pid if self.process else None

    # ------------------------------------------------------------------ for tests and playbooks

    def client_env(self, user=None, proxy=None):
        """Environment for the Globus C clients against this server."""
        env = self.environment()
        env.update(MYPROXY_SERVER=self.host, MYPROXY_SERVER_PORT=str(self.port))
        if proxy:
            env['X509_USER_PROXY'] = proxy
        elif user:
            env['X509_USER_CERT'] = self.users[user]['cert']
            env['X509_USER_KEY'] = self.users[user]['key_plain']
        return env

    def ansible_vars(self):
        return {
            'myproxy_server': self.host,
            'myproxy_port': self.port,
            'myproxy_ca_dir': self.ca_dir,
            'myproxy_rogue_ca_dir': self.rogue_ca_dir,
            'myproxy_server_subject': self.host_subject,
            'myproxy_ca_hash': self.ca_hash,
            'myproxy_workdir': self.workdir,
            'myproxy_users': {user: dict(info) for user, info in self.users.items()},
            'myproxy_issuer_subject': getattr(self, 'issuer_subject', None),
        }
