# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway MIT Kerberos realm: k5test's K5Realm database plus our own krb5kdc process.

k5test (``K5Realm``) writes krb5.conf and kdc.conf and creates the KDC database with
``kdb5_util`` and ``kadmin.local``. The KDC itself is started here with
:class:`harness.process.ManagedProcess`, so that a test can stop it (proving that a run
contacts no KDC), restart it, or start it under libfaketime with its clock off (the clock skew
test). It listens on 127.0.0.1 only (``kdc_listen``/``kdc_tcp_listen``), on a free port, and is
stopped by the PID we started. The client krb5.conf turns off DNS lookups and
``kdc_timesync`` (which would otherwise quietly correct a skewed clock).

Principals (realm ``HOSTSEC.TEST``), see :data:`USERS`:

``alice``, ``bob``
    users with passwords, pre-authentication required, renewable tickets up to 7 days;
``robot``
    a client with a random key, in the client keytab ``robot.keytab``;
``expired``
    an account whose expiry date has passed (``modprinc -expire``): KRB5KDC_ERR_NAME_EXP;
``pwexpired``
    a password that has expired (``-pwexpire``): KRB5KDC_ERR_KEY_EXP;
``HTTP/www.hostsec.test``
    a service whose keys are in ``service.keytab``;
``HTTP/stale.hostsec.test``
    a service whose keytab ``stale.keytab`` holds kvno 1 while the KDC has moved on to kvno 2.

With ``with_kadmind=True`` (krb5_keytab's tests) the realm also runs kadmind
(:meth:`Krb5Service.start_kadmind`), listening on 127.0.0.1 only (``kadmind_listen``,
``kpasswd_listen``) on the two ports after the KDC's, stopped by its PID. Its ACL grants
``keytab/admin`` (password :data:`ADMIN_PASSWORD`, keys also in ``admin.keytab``) every
privilege including key extraction (``*e``, for ``ktadd -norandkey``), and ``noextract/admin``
every privilege but extraction.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from . import Service
from .. import krb5_pkinit
from ..process import LOOPBACK, ManagedProcess, free_port, wait_for_port

REALM = 'HOSTSEC.TEST'
# user -> password (throwaway test passwords of a throwaway realm).
USERS = {
    'alice': 'alice-Kerb3ros-pw',
    'bob': 'bob-Kerb3ros-pw',
    'expired': 'expired-Kerb3ros-pw',
    'pwexpired': 'pwexpired-Kerb3ros-pw',
}
# kadmind's administrators (with_kadmind): throwaway test passwords of a throwaway realm.
ADMIN = 'keytab/admin'
ADMIN_PASSWORD = 'keytab-Adm1n-pw'
NOEXTRACT_ADMIN = 'noextract/admin'
NOEXTRACT_PASSWORD = 'noextract-Adm1n-pw'
# An enterprise name and the principal it names (the realm's database has no aliases).
ENTERPRISE = {'name': 'carol@hostsec.test', 'password': 'carol-Kerb3ros-pw',
              'principal': 'carol\\@hostsec.test@HOSTSEC.TEST'}
SERVICE = 'HTTP/www.hostsec.test'
STALE_SERVICE = 'HTTP/stale.hostsec.test'
FAKETIME_LIBS = ('/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
                 '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
                 '/usr/lib64/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1')


def faketime_library():
    for candidate in FAKETIME_LIBS:
        if os.path.exists(candidate):
            return candidate
    return None


def _krb5kdc():
    for candidate in ('/usr/sbin/krb5kdc', shutil.which('krb5kdc')):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError('krb5kdc is not installed (Debian package krb5-kdc)')


def _kadmind():
    for candidate in ('/usr/sbin/kadmind', shutil.which('kadmind')):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError('kadmind is not installed (Debian package krb5-admin-server)')


def _port_free(port):
    import socket  # pylint: disable=import-outside-toplevel
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


class Krb5Service(Service):
    """The realm, its KDC, keytabs and a directory for the tests' credential caches."""

    name = 'krb5'

    def __init__(self, workdir, with_kadmind=False):
        super(Krb5Service, self).__init__(workdir)
        self.realm = None
        self.kdc = None
        self.port = None
        self.with_kadmind = with_kadmind
        self.kadmind = None

    # -- setup ---------------------------------------------------------------------------
    def start(self):
        from k5test import K5Realm  # pylint: disable=import-outside-toplevel
        self.port = free_port()
        # PKINIT (when the krb5-pkinit plugin is installed): a throwaway CA, KDC certificate
        # and a client certificate for alice (tests/harness/krb5_pkinit.py).
        self.pkinit = None
        kdc_pkinit = {}
        if krb5_pkinit.plugin_available():
            self.pkinit = krb5_pkinit.make_pki(os.path.join(self.workdir, 'pkinit'), REALM,
                                               ['alice'])
            kdc_pkinit = {'pkinit_identity': self.pkinit['kdc']['identity'],
                          'pkinit_anchors': 'FILE:' + self.pkinit['ca']}
        previous = tempfile.tempdir
        tempfile.tempdir = self.workdir  # K5Realm makes its directory with mkdtemp()
        try:
            self.realm = K5Realm(
                realm=REALM, portbase=self.port, create_user=False, create_host=False,
                get_creds=False, start_kdc=False,
                krb5_conf={
                    'libdefaults': {'dns_lookup_realm': 'false', 'rdns': 'false',
                                    'dns_canonicalize_hostname': 'false',
                                    'kdc_timesync': '0', 'udp_preference_limit': '1',
                                    'ticket_lifetime': '10h', 'renew_lifetime': '0'},
                    'realms': {'$realm': {'kdc': '%s:$port0' % LOOPBACK,
                                          'admin_server': '%s:$port1' % LOOPBACK,
                                          'kpasswd_server': '%s:$port2' % LOOPBACK}}},
                kdc_conf={'realms': {'$realm': {
                    'kdc_ports': None, 'kdc_tcp_ports': None,
                    'kdc_listen': '%s:$port0' % LOOPBACK,
                    'kdc_tcp_listen': '%s:$port0' % LOOPBACK,
                    'kadmind_listen': '%s:$port1' % LOOPBACK,
                    'kpasswd_listen': '%s:$port2' % LOOPBACK,
                    'max_life': '1d', 'max_renewable_life': '7d', **kdc_pkinit}}})
        finally:
            tempfile.tempdir = previous
        self.dir = self.realm.tmpdir
        self.krb5_conf = os.path.join(self.dir, 'krb5.conf')
        self.ccache_dir = os.path.join(self.workdir, 'ccaches')
        os.makedirs(self.ccache_dir, exist_ok=True)
        self.keytabs = {name: os.path.join(self.dir, '%s.keytab' % name)
                        for name in ('robot', 'service', 'stale')}
        for user in ('alice', 'bob'):
            self.kadmin('addprinc +requires_preauth -maxrenewlife "7 days" -pw %s %s'
                        % (USERS[user], user))
        self.kadmin('addprinc +requires_preauth -pw %s -expire "2001-01-01" expired'
                    % USERS['expired'])
        self.kadmin('addprinc +requires_preauth -pw %s -pwexpire "2001-01-01" pwexpired'
                    % USERS['pwexpired'])
        self.kadmin('addprinc +requires_preauth -maxrenewlife "7 days" -randkey robot')
        self.kadmin('ktadd -k %s -norandkey robot' % self.keytabs['robot'])
        self.kadmin('addprinc -randkey %s' % SERVICE)
        self.kadmin('ktadd -k %s -norandkey %s' % (self.keytabs['service'], SERVICE))
        self.kadmin('addprinc -randkey %s' % STALE_SERVICE)
        self.kadmin('ktadd -k %s -norandkey %s' % (self.keytabs['stale'], STALE_SERVICE))
        # New random keys (kvno 2) for the stale service: its keytab keeps kvno 1.
        self.kadmin('cpw -randkey %s' % STALE_SERVICE)
        # carol's principal name is an enterprise name (its one component holds an '@'): a
        # request with the enterprise name carol@hostsec.test (kinit -E) finds it.
        self.kadmin('addprinc +requires_preauth -pw %s %s'
                    % (ENTERPRISE['password'], ENTERPRISE['principal']))
        if self.pkinit:
            # Anonymous PKINIT needs the well-known anonymous principal.
            self.kadmin('addprinc -randkey WELLKNOWN/ANONYMOUS')
        self.start_kdc()
        if self.with_kadmind:
            self.keytabs['admin'] = os.path.join(self.dir, 'admin.keytab')
            with open(os.path.join(self.dir, 'acl'), 'w') as handle:
                handle.write('%s@%s *e\n%s@%s *\n' % (ADMIN, REALM, NOEXTRACT_ADMIN, REALM))
            self.kadmin('addprinc -pw %s %s' % (ADMIN_PASSWORD, ADMIN))
            self.kadmin('addprinc -pw %s %s' % (NOEXTRACT_PASSWORD, NOEXTRACT_ADMIN))
            self.kadmin('ktadd -k %s -norandkey %s' % (self.keytabs['admin'], ADMIN))
            self.start_kadmind()

    def kadmin(self, query):
        """Run a kadmin.local query against the realm's database."""
        return self.realm.run_kadminl(query).decode('utf-8', 'replace')

    @property
    def env(self):
        """Environment for Kerberos clients of this realm (krb5.conf, no default keytabs)."""
        return {'KRB5_CONFIG': self.krb5_conf,
                'KRB5CCNAME': 'FILE:' + os.path.join(self.ccache_dir, 'default'),
                'KRB5_KTNAME': self.keytabs['service'],
                'KRB5_CLIENT_KTNAME': os.path.join(self.dir, 'no-client.keytab')}

    def client_env(self, **extra):
        env = dict(os.environ)
        env.update(self.env)
        env.update(extra)
        return env

    # -- the KDC -------------------------------------------------------------------------
    def start_kdc(self, clock_offset=None):
        """Start krb5kdc; with ``clock_offset`` (e.g. ``'+2h'``) under libfaketime."""
        if self.kdc is not None:
            raise RuntimeError('the KDC is running already')
        env = dict(os.environ)
        env.update(self.realm.env)
        if clock_offset:
            library = faketime_library()
            if not library:
                raise RuntimeError('libfaketime is not installed (Debian package faketime)')
            env.update({'LD_PRELOAD': library, 'FAKETIME': clock_offset,
                        'FAKETIME_DONT_FAKE_MONOTONIC': '1', 'DONT_FAKE_MONOTONIC': '1'})
        self.kdc = ManagedProcess([_krb5kdc(), '-n', '-r', REALM],
                                  os.path.join(self.dir, 'krb5kdc.out'), env=env)
        try:
            wait_for_port(self.port, process=self.kdc.popen)
        except RuntimeError:
            self.stop_kdc()
            raise

    def stop_kdc(self):
        if self.kdc is not None:
            self.kdc.stop()
            self.kdc = None

    def restart_kdc(self, clock_offset=None):
        self.stop_kdc()
        self.start_kdc(clock_offset)

    # -- kadmind (with_kadmind) ------------------------------------------------------------
    @property
    def admin_port(self):
        return self.port + 1

    def start_kadmind(self):
        """Start kadmind in the foreground (-nofork) on 127.0.0.1:port+1 (kpasswd port+2)."""
        if self.kadmind is not None:
            raise RuntimeError('kadmind is running already')
        for port in (self.port + 1, self.port + 2):
            if not _port_free(port):
                raise RuntimeError('port %d for kadmind is taken' % port)
        env = dict(os.environ)
        env.update(self.realm.env)
        self.kadmind = ManagedProcess([_kadmind(), '-nofork', '-r', REALM],
                                      os.path.join(self.dir, 'kadmind.out'), env=env)
        try:
            wait_for_port(self.admin_port, process=self.kadmind.popen)
        except RuntimeError:
            self.stop_kadmind()
            raise

    def stop_kadmind(self):
        if self.kadmind is not None:
            self.kadmind.stop()
            self.kadmind = None

    def kdc_log(self):
        try:
            with open(os.path.join(self.dir, 'kdc.log')) as handle:
                return handle.read()
        except OSError:
            return ''

    def stop(self):
        self.stop_kadmind()
        self.stop_kdc()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- clients -------------------------------------------------------------------------
    def principal(self, name):
        return '%s@%s' % (name, REALM)

    def kinit(self, user, ccache, lifetime=None, renewable=None):
        argv = ['kinit', '-c', ccache]
        if lifetime:
            argv += ['-l', lifetime]
        if renewable:
            argv += ['-r', renewable]
        argv.append(self.principal(user))
        return subprocess.run(argv, input=USERS[user] + '\n', env=self.client_env(),
                              capture_output=True, text=True, check=False)

    def klist(self, *args):
        return subprocess.run(['klist'] + list(args), env=self.client_env(),
                              capture_output=True, text=True, check=False)

    def ansible_vars(self):
        return {
            'krb5_realm': REALM,
            'krb5_config': self.krb5_conf,
            'krb5_kdc': '%s:%d' % (LOOPBACK, self.port),
            'krb5_env': self.env,
            'krb5_ccache_dir': self.ccache_dir,
            'krb5_users': {user: {'principal': self.principal(user), 'password': password}
                           for user, password in USERS.items()},
            'krb5_robot_principal': self.principal('robot'),
            'krb5_keytabs': dict(self.keytabs),
            'krb5_service_principal': self.principal(SERVICE),
            'krb5_stale_service_principal': self.principal(STALE_SERVICE),
            **(self.kadmin_vars() if self.kadmind is not None else {}),
            'krb5_enterprise': dict(ENTERPRISE),
            # PKINIT files (null without the krb5-pkinit plugin): anchors and alice's identity.
            'krb5_pkinit': ({'anchors': 'FILE:' + self.pkinit['ca'],
                             'alice_identity': self.pkinit['alice']['identity'],
                             'alice_key': self.pkinit['alice']['key']}
                            if self.pkinit else None),
        }

    def kadmin_vars(self):
        return {'krb5_admin_server': '%s:%d' % (LOOPBACK, self.admin_port),
                'krb5_admin_principal': self.principal(ADMIN),
                'krb5_admin_password': ADMIN_PASSWORD,
                'krb5_admin_keytab': self.keytabs['admin'],
                'krb5_noextract_admin_principal': self.principal(NOEXTRACT_ADMIN),
                'krb5_noextract_admin_password': NOEXTRACT_PASSWORD}


# -- a KDC for molecule and other processes that outlive one Python call ------------------
def _main(argv):
    """``python -m harness.services.krb5 start|stop STATE_DIR``.

    ``start`` sets the realm up in STATE_DIR, starts its KDC in the background and writes
    STATE_DIR/vars.json (:meth:`Krb5Service.ansible_vars`) and STATE_DIR/kdc.pid. ``stop``
    stops the KDC by that PID (after checking it is a krb5kdc) and removes STATE_DIR.
    """
    if len(argv) != 3 or argv[1] not in ('start', 'stop'):
        sys.stderr.write('usage: %s start|stop STATE_DIR\n' % argv[0])
        return 2
    state = os.path.abspath(argv[2])
    pid_file = os.path.join(state, 'kdc.pid')
    if argv[1] == 'start':
        service = Krb5Service(state)
        os.makedirs(state, exist_ok=True)
        try:
            service.start()
        except BaseException:
            service.stop()
            raise
        with open(os.path.join(state, 'vars.json'), 'w') as handle:
            json.dump(service.ansible_vars(), handle, indent=2)
        with open(pid_file, 'w') as handle:
            handle.write('%d\n' % service.kdc.popen.pid)
        return 0
    if os.path.exists(pid_file):
        with open(pid_file) as handle:
            pid = int(handle.read().strip())
        _stop_pid(pid)
    shutil.rmtree(state, ignore_errors=True)
    return 0


def _stop_pid(pid, timeout=10.0):
    try:
        with open('/proc/%d/comm' % pid) as handle:
            if handle.read().strip() != 'krb5kdc':
                return
    except OSError:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists('/proc/%d' % pid):
            return
        try:
            with open('/proc/%d/stat' % pid) as handle:
                if handle.read().rsplit(')', 1)[1].split()[0] == 'Z':
                    return
        except (OSError, IndexError):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


if __name__ == '__main__':
    sys.exit(_main(sys.argv))
