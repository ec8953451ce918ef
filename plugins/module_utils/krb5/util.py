# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small Kerberos helpers: durations, timestamps, enctype and ticket-flag names, krb5.conf."""

import contextlib
import os
import re
import shutil
import tempfile
import time
from datetime import datetime, timezone

from ..common.duration import format_duration, parse_duration as _parse_duration  # noqa: F401  pylint: disable=unused-import


def parse_duration(value, option='duration'):
    """Seconds of a duration (the collection's one duration type, common/duration.py);
    ``None`` stays ``None``."""
    return _parse_duration(value, option, none_ok=True)


_ABSOLUTE = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?(Z|[+-]00:?00)?$')


def parse_start_time(value, option='start_time'):
    """Seconds from now of a postdated ticket's start: a duration from now (``5m``), or an
    absolute UTC time ``YYYY-MM-DDTHH:MM[:SS][Z]`` that lies in the future. ``None`` stays
    ``None``."""
    if value is None:
        return None
    match = _ABSOLUTE.match(value.strip()) if isinstance(value, str) else None
    if match:
        parts = [int(g or 0) for g in match.groups()[:6]]
        try:
            when = datetime(*parts, tzinfo=timezone.utc).timestamp()
        except ValueError:
            from ..common.errors import InvalidInputError  # pylint: disable=import-outside-toplevel
            raise InvalidInputError('%s: %r is not a valid time' % (option, value))
        seconds = int(when) - now()
        if seconds <= 0:
            from ..common.errors import InvalidInputError  # pylint: disable=import-outside-toplevel
            raise InvalidInputError('%s: %s lies in the past' % (option, value))
        return seconds
    return _parse_duration(value, option, allow_zero=False)


def iso(timestamp):
    """ISO 8601 UTC of a Kerberos timestamp; ``None`` for 0 (not set)."""
    if not timestamp:
        return None
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def now():
    return int(time.time())


# IANA Kerberos encryption type numbers -> MIT's canonical names.
ENCTYPES = {
    1: 'des-cbc-crc', 2: 'des-cbc-md4', 3: 'des-cbc-md5', 5: 'des3-cbc-md5',
    7: 'des3-cbc-sha1-kd', 16: 'des3-cbc-sha1', 17: 'aes128-cts-hmac-sha1-96',
    18: 'aes256-cts-hmac-sha1-96', 19: 'aes128-cts-hmac-sha256-128',
    20: 'aes256-cts-hmac-sha384-192', 23: 'arcfour-hmac', 24: 'arcfour-hmac-exp',
    25: 'camellia128-cts-cmac', 26: 'camellia256-cts-cmac',
}


def enctype_name(number):
    if number is None:
        return None
    return ENCTYPES.get(int(number), 'enctype-%d' % int(number))


# Ticket flags as pykrb5's TicketFlags names them, with klist's letters.
FLAG_LETTERS = [
    ('forwardable', 'F'), ('forwarded', 'f'), ('proxiable', 'P'), ('proxy', 'p'),
    ('may_postdate', 'D'), ('postdated', 'd'), ('invalid', 'i'), ('renewable', 'R'),
    ('initial', 'I'), ('hw_authent', 'H'), ('pre_authent', 'A'),
    ('transited_policy_checked', 'T'), ('ok_as_delegate', 'O'), ('anonymous', 'a'),
]


def flag_names(flags):
    """``(['renewable', 'initial'], 'RI')`` for a pykrb5 ``TicketFlags`` value."""
    names, letters = [], ''
    for name, letter in FLAG_LETTERS:
        member = getattr(type(flags), name, None)
        if member is not None and flags & member:
            names.append(name)
            letters += letter
    return names, letters


def realm_of(principal):
    """The realm of ``user@REALM`` (``None`` when the principal has none)."""
    if principal and '@' in principal:
        return principal.rsplit('@', 1)[1]
    return None


def _config_path():
    return os.environ.get('KRB5_CONFIG') or '/etc/krb5.conf'


def _profile_line(name, seconds):
    return '%s = %s\n' % (name, format_duration(seconds))


@contextlib.contextmanager
def libdefaults_overlay(realm=None, ticket_lifetime=None, renew_lifetime=None, settings=None):
    """Make krb5 (and so GSSAPI) request this ticket and renew lifetime within the block.

    GSSAPI's credential acquisition takes the requested lifetimes from ``[libdefaults]``
    (``ticket_lifetime``, ``renew_lifetime``, also per realm); it has no parameter for them.
    This writes a small profile with those two settings into a private temporary directory and
    puts it in front of the configuration in ``KRB5_CONFIG`` for the block, so that it wins
    over the site's krb5.conf (the realm subsection is set too, because the library prefers it).
    ``renew_lifetime=0`` asks for a ticket that is not renewable. ``settings``: further
    ``[libdefaults]`` relations (name -> value), e.g. ``{'noaddresses': 'false'}``.
    """
    if ticket_lifetime is None and renew_lifetime is None and not settings:
        yield
        return
    lines = ['[libdefaults]\n']
    realm_lines = []
    if ticket_lifetime is not None:
        realm_lines.append(_profile_line('ticket_lifetime', ticket_lifetime))
    if renew_lifetime is not None:
        realm_lines.append(_profile_line('renew_lifetime', renew_lifetime))
    for name, value in sorted((settings or {}).items()):
        realm_lines.append('%s = %s\n' % (name, value))
    lines += ['\t' + line for line in realm_lines]
    if realm and re.match(r'^[A-Za-z0-9._-]+$', realm):
        lines.append('\t%s = {\n' % realm)
        lines += ['\t\t' + line for line in realm_lines]
        lines.append('\t}\n')
    directory = tempfile.mkdtemp(prefix='hostsec-krb5conf-')
    path = os.path.join(directory, 'krb5.conf')
    previous = os.environ.get('KRB5_CONFIG')
    try:
        with open(path, 'w') as handle:
            handle.write(''.join(lines))
        os.environ['KRB5_CONFIG'] = path + os.pathsep + _config_path()
        yield
    finally:
        if previous is None:
            os.environ.pop('KRB5_CONFIG', None)
        else:
            os.environ['KRB5_CONFIG'] = previous
        shutil.rmtree(directory, ignore_errors=True)
