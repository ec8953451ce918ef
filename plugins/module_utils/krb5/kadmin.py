# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MIT ``kadmin`` client, run as a subprocess: ``getprinc`` and ``ktadd``.

:class:`Kadmin` authenticates as an administrator with a keytab (``-k -t``) or a password.
The password is written to kadmin's standard input, where kadmin's prompt reads it; it is
never on the command line (``kadmin -w`` would show it to every local user in ``ps``), in the
environment or in a file. Every run has a private temporary directory: kadmin's credential
cache and the keytab ``ktadd`` writes live there and are removed afterwards, so the
administrator's own caches and the destination keytab are untouched.

kadmin reports a failed query on standard error (and often exits 0): every run is judged by
its output. Failures raise :class:`KadminError` (or :class:`KadminAuthError` when the
administrator could not log in) with kadmin's message and the KADM5/Kerberos name of it.
"""

import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone

from .errors import Krb5Error
from .keytabfile import parse
from ..common.files import read_file

TIMEOUT = 120


class KadminError(Krb5Error):
    """kadmin refused or failed a query (unknown principal, missing privilege ...)."""


class KadminAuthError(KadminError):
    """kadmin could not log in to the admin server (wrong password or key, unreachable)."""


# kadmin's messages (com_err texts of kadm5 and krb5) -> their error names.
MESSAGES = (
    ('Incorrect password', 'KADM5_BAD_PASSWORD'),
    ('Password incorrect', 'KRB5KDC_ERR_PREAUTH_FAILED'),
    ('Preauthentication failed', 'KRB5KDC_ERR_PREAUTH_FAILED'),
    ('Client not found in Kerberos database', 'KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN'),
    ('not found in Kerberos database', 'KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN'),
    ('Cannot contact any KDC', 'KRB5_KDC_UNREACH'),
    ('Communication failure with server', 'KADM5_RPC_ERROR'),
    ('Principal does not exist', 'KADM5_UNK_PRINC'),
    ("requires ``extract-keys'' privilege", 'KADM5_AUTH_EXTRACT'),
    ("requires ``get'' privilege", 'KADM5_AUTH_GET'),
    ("requires ``change-password'' privilege", 'KADM5_AUTH_CHANGEPW'),
    ('Operation requires', 'KADM5_AUTH_INSUFFICIENT'),
    ('Insufficient permission', 'KADM5_AUTH_INSUFFICIENT'),
    ('Invalid enctype', 'KRB5_BAD_ENCTYPE'),
    ('Key table entry not found', 'KRB5_KT_NOTFOUND'),
    ('Key table file', 'KRB5_KT_NOTFOUND'),
    ('Clock skew too great', 'KRB5KRB_AP_ERR_SKEW'),
    ('Cannot find KDC for', 'KRB5_REALM_CANT_RESOLVE'),
    ('Cannot resolve', 'KRB5_REALM_CANT_RESOLVE'),
)
# A login failure: kadmin could not even start (before any query).
_INIT = 'while initializing kadmin interface'

_KEY = re.compile(r'^Key: vno (\d+), (\S+?)(?::\S+)?\s*$')


def _default_ccache():
    from . import deps  # pylint: disable=import-outside-toplevel
    from .ccache import context  # pylint: disable=import-outside-toplevel
    if deps.krb5 is None:
        return os.environ.get('KRB5CCNAME') or 'FILE:/tmp/krb5cc_%d' % os.geteuid()
    return deps.krb5.cc_default_name(context()).decode('utf-8')


def error_name(message):
    for text, name in MESSAGES:
        if text in message:
            return name
    return 'KADM5_FAILURE'


def _date(text):
    text = text.strip()
    if not text or text.startswith('['):
        return None
    for fmt in ('%a %b %d %H:%M:%S %Z %Y', '%a %b %d %H:%M:%S %Y'):
        try:
            return int(datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp())
        except ValueError:
            continue
    return None


def parse_getprinc(text):
    """``{'principal', 'kvno', 'enctypes', 'last_password_change', 'last_modified'}``."""
    info = {'principal': None, 'kvno': None, 'enctypes': [], 'last_password_change': None,
            'last_modified': None}
    for line in text.splitlines():
        if line.startswith('Principal: '):
            info['principal'] = line[len('Principal: '):].strip()
        elif line.startswith('Last password change: '):
            info['last_password_change'] = _date(line[len('Last password change: '):])
        elif line.startswith('Last modified: '):
            info['last_modified'] = _date(line[len('Last modified: '):].split(' (')[0])
        else:
            match = _KEY.match(line)
            if match:
                kvno = int(match.group(1))
                if info['kvno'] is None or kvno > info['kvno']:
                    info['kvno'], info['enctypes'] = kvno, []
                if kvno == info['kvno'] and match.group(2) not in info['enctypes']:
                    info['enctypes'].append(match.group(2))
    return info


def _query_arg(value, what):
    """A principal or enctype list for a kadmin query: no quoting games, no options."""
    if not value or value.startswith('-') or any(c in value for c in ' \t\r\n"\'\\;'):
        from ..common.errors import InvalidInputError  # pylint: disable=import-outside-toplevel
        raise InvalidInputError('%s %r cannot be passed to kadmin (empty, a leading "-", '
                                'blanks, quotes or backslashes)' % (what, value))
    return value


class Kadmin(object):
    """An authenticated way to run kadmin queries as ``principal``."""

    def __init__(self, principal, keytab=None, password=None, server=None, realm=None,
                 ccache=None, executable=None, timeout=TIMEOUT):
        self.principal = principal
        self.keytab = keytab
        self.password = password
        self.ccache = ccache
        self.server = server
        self.realm = realm
        self.executable = executable or shutil.which('kadmin') or '/usr/bin/kadmin'
        self.timeout = timeout

    def _run(self, query, workdir):
        argv = [self.executable, '-p', self.principal]
        if self.realm:
            argv += ['-r', self.realm]
        if self.server:
            argv += ['-s', self.server]
        if self.keytab:
            argv += ['-k', '-t', self.keytab]
        elif self.password is None:
            argv += ['-c', self.ccache or _default_ccache()]
        argv += ['-q', query]
        env = dict(os.environ)
        env.update({'LC_ALL': 'C', 'LANG': 'C', 'TZ': 'UTC',
                    'KRB5CCNAME': 'FILE:' + os.path.join(workdir, 'kadmin.ccache')})
        stdin = (self.password + '\n') if self.password is not None and not self.keytab else ''
        try:
            proc = subprocess.run(argv, input=stdin.encode('utf-8'), env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=self.timeout, check=False)
        except OSError as exc:
            raise KadminError('cannot run %s: %s' % (self.executable, exc.strerror or exc),
                              error_name='ENOENT')
        except subprocess.TimeoutExpired:
            raise KadminError('kadmin did not answer within %d seconds (%s)'
                              % (self.timeout, query.split()[0]), error_name='ETIMEDOUT')
        out = proc.stdout.decode('utf-8', 'replace')
        err = proc.stderr.decode('utf-8', 'replace')
        problem = self._problem(err, proc.returncode)
        if problem:
            raise problem
        return out

    def _problem(self, err, returncode):
        lines = [line.strip() for line in err.splitlines() if line.strip()]
        if not lines and returncode == 0:
            return None
        message = lines[-1] if lines else 'kadmin exited with status %d' % returncode
        if self.password:
            message = message.replace(self.password, '********')
        cls = KadminAuthError if _INIT in message else KadminError
        return cls('kadmin as %s: %s' % (self.principal, message),
                   error_name=error_name(message), details={'kadmin_message': message})

    def getprinc(self, principal):
        """The principal's canonical name, current kvno, its enctypes and dates."""
        workdir = tempfile.mkdtemp(prefix='hostsec-kadmin-')
        try:
            out = self._run('getprinc %s' % _query_arg(principal, 'principal'), workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        info = parse_getprinc(out)
        if info['principal'] is None or info['kvno'] is None:
            raise KadminError('kadmin as %s: getprinc %s returned no principal with keys'
                              % (self.principal, principal), error_name='KADM5_UNK_PRINC')
        return info

    def ktadd(self, principal, norandkey=True, enctypes=None):
        """The entries ``ktadd`` writes for ``principal`` (into a private temporary keytab).

        With ``norandkey`` the principal's current keys are extracted unchanged (needs the
        ``e`` privilege); without it the KDC gives the principal new random keys (a new kvno),
        of ``enctypes`` when given.
        """
        workdir = tempfile.mkdtemp(prefix='hostsec-kadmin-')
        try:
            os.chmod(workdir, 0o700)
            target = os.path.join(workdir, 'fetched.keytab')
            query = ['ktadd', '-k', target]
            if norandkey:
                query.append('-norandkey')
            elif enctypes:
                query += ['-e', _query_arg(','.join(e if ':' in e else e + ':normal'
                                                    for e in enctypes), 'enctypes')]
            query.append(_query_arg(principal, 'principal'))
            self._run(' '.join(query), workdir)
            data = read_file(target)
            entries = parse(data or b'', 'the keytab kadmin wrote')
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if not entries:
            raise KadminError('kadmin as %s: ktadd %s wrote no key' % (self.principal, principal),
                              error_name='KRB5_KT_NOTFOUND')
        return entries
