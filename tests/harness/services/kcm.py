# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private KCM daemon (Heimdal's ``kcm``, Debian package heimdal-kcm) for KCM: cache tests.

MIT's client (1.13 and later) speaks the KCM protocol over a Unix socket whose path is
``kcm_socket`` in krb5.conf ``[libdefaults]``. Heimdal's kcm 7.8 always listens on
``/var/run/.heim_org.h5l.kcm-socket`` (its ``--socket-path`` option is not used for the
listening socket) and writes ``/var/run/kcm.pid``; so it runs in a mount namespace of its own
(``unshare -m``) where a private directory of ours is bind-mounted over ``/run``: the socket
and PID file land in that directory, nothing is written to the host's /run, and the daemon
serves only clients that use our ``kcm_socket``. It is started and stopped by the PID we
started (``unshare`` execs the daemon, so that PID is kcm's).

:meth:`KcmService.unavailable` says precisely why it cannot run here (no kcm binary, no mount
namespace allowed), for a test to skip with that reason.
"""

import os
import shutil
import subprocess
import time

from . import Service
from ..process import ManagedProcess

KCM = '/usr/sbin/kcm'
SOCKET = '.heim_org.h5l.kcm-socket'


def unavailable():
    """``None`` when a private KCM daemon can run here, else why not."""
    if not os.path.exists(KCM):
        return 'no KCM daemon: %s is missing (Debian package heimdal-kcm)' % KCM
    if not shutil.which('unshare'):
        return 'unshare (util-linux) is missing'
    probe = subprocess.run(['unshare', '-m', '--propagation', 'private', 'true'],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return ('no private mount namespace for the KCM daemon (unshare -m: %s)'
                % probe.stderr.strip())
    return None


class KcmService(Service):
    """Heimdal kcm on a private socket; ``krb5_conf`` sets ``kcm_socket`` for MIT clients."""

    name = 'kcm'

    def __init__(self, workdir):
        super(KcmService, self).__init__(workdir)
        self.process = None
        self.run_dir = os.path.join(self.workdir, 'run')
        self.socket = os.path.join(self.run_dir, SOCKET)
        self.krb5_conf = os.path.join(self.workdir, 'kcm-krb5.conf')

    def start(self):
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        os.makedirs(self.run_dir, mode=0o700, exist_ok=True)
        config = os.path.join(self.workdir, 'kcm.conf')
        with open(config, 'w') as handle:
            handle.write('[libdefaults]\n')
        with open(self.krb5_conf, 'w') as handle:
            handle.write('[libdefaults]\n\tkcm_socket = %s\n' % self.socket)
        self.process = ManagedProcess(
            ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
             'mount --bind "$1" /run && exec "$2" -c "$3"', 'kcm', self.run_dir, KCM, config],
            os.path.join(self.workdir, 'kcm.log'))
        deadline = time.monotonic() + 15
        while not os.path.exists(self.socket):
            if self.process.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('kcm did not start: %s' % self.process.log())
            time.sleep(0.05)

    def stop(self):
        if self.process is not None:
            self.process.stop()
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def config_path(self, realm_conf):
        """``KRB5_CONFIG``: our kcm_socket in front of the realm's krb5.conf."""
        return self.krb5_conf + os.pathsep + realm_conf
