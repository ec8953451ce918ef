# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one duration type of the collection: every lifetime option of every domain.

A duration is a number of seconds (``3600``, ``"3600"``, ``7200.0``), units ``w``, ``d``,
``h``, ``m``, ``s`` in any combination (``"90m"``, ``"12h"``, ``"1d12h"``, ``"1h 30m"``,
``"2w"``, case-insensitive), or a clock form ``H:MM[:SS]`` (``"2:30"``) as krb5.conf accepts.
Modules declare such options with ``type: raw`` (an integer or a string) and convert them with
:func:`parse_duration` before anything is contacted.
"""

import re

from .errors import InvalidInputError

_PART = re.compile(r'(\d+)\s*([wdhms])', re.I)
_CLOCK = re.compile(r'^(\d+):(\d{1,2})(?::(\d{1,2}))?$')
_UNITS = {'w': 7 * 86400, 'd': 86400, 'h': 3600, 'm': 60, 's': 1}
EXAMPLES = '3600, 90m, 12h, 1d12h or 7d'


def _seconds(value):
    """Seconds of ``value``, or ``None`` when it is not a duration at all."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.match(r'^-?\d+$', text):
        return int(text)
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, secs = (int(g or 0) for g in clock.groups())
        return None if minutes > 59 or secs > 59 else (hours * 60 + minutes) * 60 + secs
    compact = re.sub(r'\s+', '', text)
    parts = _PART.findall(compact)
    if not parts or ''.join(n + u for n, u in parts).lower() != compact.lower():
        return None
    return sum(int(number) * _UNITS[unit.lower()] for number, unit in parts)


def parse_duration(value, option, allow_zero=True, maximum=None, none_ok=False,
                   error=InvalidInputError):
    """Seconds of the duration ``value`` of option ``option``.

    ``None`` is returned as ``None`` when ``none_ok``, refused otherwise. ``allow_zero=False``
    refuses ``0``; ``maximum`` (seconds) caps the value. Errors are raised as ``error`` (the
    domain's input error class), naming the option and the accepted forms.
    """
    if value is None and none_ok:
        return None
    seconds = _seconds(value)
    if seconds is None:
        raise error('%s must be a duration such as %s, not %r' % (option, EXAMPLES, value))
    if seconds < 0:
        raise error('%s: a duration cannot be negative' % option)
    if seconds == 0 and not allow_zero:
        raise error('%s must be more than zero seconds' % option)
    if maximum is not None and seconds > maximum:
        raise error('%s must not exceed %s' % (option, format_duration(maximum)))
    return seconds


def format_duration(seconds):
    """``1d2h3m4s`` for a number of seconds (also the krb5.conf form)."""
    seconds = int(seconds)
    parts = []
    for unit, size in (('d', 86400), ('h', 3600), ('m', 60)):
        if seconds >= size:
            parts.append('%d%s' % (seconds // size, unit))
            seconds %= size
    if seconds or not parts:
        parts.append('%ds' % seconds)
    return ''.join(parts)
