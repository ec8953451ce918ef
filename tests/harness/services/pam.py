# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PAM under pam_wrapper: a private service directory with pam_matrix and pam_unix services.

pam_wrapper (Debian ``libpam-wrapper``) is preloaded into the process that calls libpam and
makes it read service files from ``PAM_WRAPPER_SERVICE_DIR`` instead of /etc/pam.d. pam_matrix
authenticates against a text file of ``user:password:service`` lines. Nothing of the system's
PAM configuration is read or changed.

Services written into the directory:

``hostsec-matrix``
    pam_matrix for auth, account, password and session (HOMEDIR is set in the session).
``hostsec-matrix-verbose``
    the same, with pam_matrix sending info and error messages through the conversation.
``hostsec-otp``
    pam_matrix for the password, then pam_google_authenticator asking ``Verification code:``
    for a TOTP code (RFC 6238) computed from the user's secret (:func:`totp`).
``hostsec-items``
    pam_unix, then pam_get_items, which copies every PAM item (PAM_RHOST, PAM_TTY, and
    PAM_AUTHTOK, the password pam_unix stored) into the PAM environment.
``hostsec-unix``
    pam_unix for auth, account and session: real local users (tests create throwaway ones).
``hostsec-deny``
    pam_deny everywhere.
``hostsec-flood``
    pam_exec with its ``stdout`` option running a script that prints :data:`FLOOD_BYTES`
    (50 MiB) in lines of 1000 characters: pam_exec sends each line as an info message.
``hostsec-big-message``
    pam_echo sending one info message of :data:`BIG_MESSAGE_BYTES` (1 MiB), then pam_matrix.
``other``
    pam_deny, used by Linux-PAM for any service without a file.
"""

import base64
import ctypes.util
import hashlib
import hmac
import os
import shutil
import struct
import subprocess
import time

from . import Service

MULTIARCH = subprocess.run(['dpkg-architecture', '-qDEB_HOST_MULTIARCH'], capture_output=True,
                           text=True, check=False).stdout.strip() if shutil.which(
    'dpkg-architecture') else ''


def _find(*candidates):
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def wrapper_library():
    return _find('/usr/lib/%s/libpam_wrapper.so' % MULTIARCH if MULTIARCH else None,
                 '/usr/lib/x86_64-linux-gnu/libpam_wrapper.so',
                 '/usr/lib/aarch64-linux-gnu/libpam_wrapper.so',
                 '/usr/lib64/libpam_wrapper.so', '/usr/lib/libpam_wrapper.so')


def matrix_module():
    return _find('/usr/lib/%s/pam_wrapper/pam_matrix.so' % MULTIARCH if MULTIARCH else None,
                 '/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_matrix.so',
                 '/usr/lib/aarch64-linux-gnu/pam_wrapper/pam_matrix.so',
                 '/usr/lib64/pam_wrapper/pam_matrix.so', '/usr/lib/pam_wrapper/pam_matrix.so')


# The pam_matrix users of the demo and the tests: user -> (password, allowed service).
MATRIX_USERS = {
    'alice': ('alice-Secr3t', 'hostsec-matrix'),
    'bob': ('bob-Secr3t', 'hostsec-matrix'),
    # carol's password is right but the account only allows another service: acct_mgmt fails.
    'carol': ('carol-Secr3t', 'sshd'),
}


# What the hostile services send (hostsec-flood, hostsec-big-message).
FLOOD_BYTES = 50 * 1024 * 1024
FLOOD_LINE = 1000
BIG_MESSAGE_BYTES = 1024 * 1024

# TOTP secrets (base32) of the users who have one, for the hostsec-otp service.
OTP_SECRETS = {'alice': 'JBSWY3DPEHPK3PXPHOSTSECMGMTALIC'}


def totp(secret, at=None, step=30, digits=6):
    """The RFC 6238 TOTP code of a base32 secret (what pam_google_authenticator expects)."""
    key = base64.b32decode(secret + '=' * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack('>Q', counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return '%0*d' % (digits, value % (10 ** digits))


class PamWrapperService(Service):
    """A pam_wrapper service directory; use :meth:`environment` for the PAM-calling process."""

    name = 'pam'

    def start(self):
        library, matrix = wrapper_library(), matrix_module()
        if not library or not matrix:
            raise RuntimeError('pam_wrapper is not installed (Debian package libpam-wrapper)')
        self.library = library
        self.service_dir = os.path.join(self.workdir, 'pam.d')
        self.passdb = os.path.join(self.workdir, 'passdb')
        os.makedirs(self.service_dir, exist_ok=True)
        with open(self.passdb, 'w') as handle:
            for user, (password, service) in sorted(MATRIX_USERS.items()):
                handle.write('%s:%s:%s\n' % (user, password, service))
        os.chmod(self.passdb, 0o600)
        self.otp_dir = os.path.join(self.workdir, 'otp')
        os.makedirs(self.otp_dir, exist_ok=True)
        for user, secret in OTP_SECRETS.items():
            path = os.path.join(self.otp_dir, user)
            with open(path, 'w') as handle:
                handle.write('%s\n" TOTP_AUTH\n" WINDOW_SIZE 3\n' % secret)
            os.chmod(path, 0o600)
        flood = os.path.join(self.workdir, 'flood.sh')
        with open(flood, 'w') as handle:
            # pam_exec reads the output with fgets() into 4 KiB and sends every line.
            handle.write('#!/bin/sh\nyes %s | head -c %d\nexit 0\n'
                         % ('F' * (FLOOD_LINE - 1), FLOOD_BYTES))
        os.chmod(flood, 0o755)
        big = os.path.join(self.workdir, 'big-message.txt')
        with open(big, 'w') as handle:
            handle.write('B' * BIG_MESSAGE_BYTES)
        matrix_line = '{kind}\trequired\t%s passdb=%s{extra}\n' % (matrix, self.passdb)
        kinds = ('auth', 'account', 'password', 'session')
        services = {
            'hostsec-matrix': ''.join(matrix_line.format(kind=k, extra='') for k in kinds),
            'hostsec-matrix-verbose': ''.join(
                ['auth\toptional\tpam_echo.so Welcome to %s, %u\n']
                + [matrix_line.format(kind=k, extra=' verbose') for k in kinds]),
            'hostsec-otp': ''.join(
                [matrix_line.format(kind='auth', extra=''),
                 'auth\trequired\tpam_google_authenticator.so secret=%s/${USER} user=root\n'
                 % self.otp_dir]
                + [matrix_line.format(kind=k, extra='') for k in ('account', 'session')]),
            'hostsec-items': 'auth\trequired\tpam_unix.so\nauth\trequired\t%s\n'
                             % matrix.replace('pam_matrix.so', 'pam_get_items.so'),
            'hostsec-unix': 'auth\trequired\tpam_unix.so\n'
                            'account\trequired\tpam_unix.so\n'
                            'session\trequired\tpam_unix.so\n',
            'hostsec-deny': ''.join('%s\trequired\tpam_deny.so\n' % k for k in kinds),
            'hostsec-flood': 'auth\trequired\tpam_exec.so stdout quiet %s\n%s' % (
                flood, ''.join(matrix_line.format(kind=k, extra='') for k in kinds)),
            'hostsec-big-message': 'auth\toptional\tpam_echo.so file=%s\n%s' % (
                big, ''.join(matrix_line.format(kind=k, extra='') for k in kinds)),
            'other': ''.join('%s\trequired\tpam_deny.so\n' % k for k in kinds),
        }
        for service, text in services.items():
            with open(os.path.join(self.service_dir, service), 'w') as handle:
                handle.write(text)

    def stop(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def environment(self):
        """Environment variables that make libpam in a process use this service directory."""
        return {'LD_PRELOAD': self.library, 'PAM_WRAPPER': '1',
                'PAM_WRAPPER_SERVICE_DIR': self.service_dir}

    def ansible_vars(self):
        return {
            'pam_wrapper_environment': self.environment(),
            'pam_service_dir': self.service_dir,
            'pam_matrix_users': {user: {'password': password, 'service': service}
                                 for user, (password, service) in MATRIX_USERS.items()},
            'pam_otp_secrets': dict(OTP_SECRETS),
        }


def libpam_available():
    return bool(ctypes.util.find_library('pam'))
