# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM data types (DSP0004) as Python types.

===========  ==========================================
CIM type     Python value
===========  ==========================================
boolean      ``bool``
string       ``str``
char16       ``str`` of one UCS-2 character (:class:`Char16` to force the type)
uint8..64    :class:`Uint8` ... :class:`Uint64` (``int`` with a range check)
sint8..64    :class:`Sint8` ... :class:`Sint64`
real32/64    :class:`Real32`, :class:`Real64` (``float``)
datetime     :class:`CIMDateTime` (point in time or interval)
reference    ``CIMInstanceName`` / ``CIMClassName`` (see cim_obj)
===========  ==========================================

The integer classes refuse values outside their range with :class:`WBEMValueError` (a
``ValueError``). The names follow pywbem's.
"""

import re
from datetime import datetime, timedelta, tzinfo

from .exceptions import WBEMTypeError, WBEMValueError

__all__ = ['CIMType', 'CIMInt', 'Uint8', 'Sint8', 'Uint16', 'Sint16', 'Uint32', 'Sint32',
           'Uint64', 'Sint64', 'CIMFloat', 'Real32', 'Real64', 'Char16', 'CIMDateTime',
           'MinutesFromUTC', 'cimtype', 'type_from_name', 'ALL_CIMTYPES', 'INTEGER_TYPES',
           'REAL_TYPES', 'value_to_xml_text']


class MinutesFromUTC(tzinfo):
    """A fixed UTC offset in minutes, as CIM datetime values carry it."""

    __slots__ = ('_offset',)

    def __init__(self, offset):
        super(MinutesFromUTC, self).__init__()
        self._offset = offset

    def __repr__(self):
        return 'MinutesFromUTC(offset=%r)' % self._offset

    def __reduce__(self):
        return (MinutesFromUTC, (self._offset,))

    def utcoffset(self, dt):
        return timedelta(minutes=self._offset)

    def dst(self, dt):
        return timedelta(0)

    def tzname(self, dt):
        hours, minutes = divmod(abs(self._offset), 60)
        return '%s%02d:%02d' % ('-' if self._offset < 0 else '', hours, minutes)


class CIMType(object):
    """Base class of the CIM data types that are not plain Python types."""

    __slots__ = ()
    cimtype = None


class Char16(CIMType, str):
    """A char16 value: a ``str`` that remembers its CIM type."""

    __slots__ = ()
    cimtype = 'char16'


class CIMInt(CIMType, int):
    """Base class of the CIM integer types; the value must be within ``minvalue..maxvalue``."""

    __slots__ = ()
    minvalue = None
    maxvalue = None

    def __new__(cls, *args, **kwargs):
        if 'x' in kwargs:  # pywbem accepts the value as keyword argument x
            args = args + (kwargs.pop('x'),)
        value = int(*args, **kwargs)
        if value < cls.minvalue or value > cls.maxvalue:
            raise WBEMValueError('Integer value %s is out of range for CIM type %s (%s..%s)'
                                 % (value, cls.cimtype, cls.minvalue, cls.maxvalue))
        return int.__new__(cls, value)

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__, int.__repr__(self))

    __str__ = int.__repr__


def _int_type(name, bits, signed):
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
    return type(name, (CIMInt,), {'__slots__': (), 'cimtype': name.lower(),
                                  'minvalue': low, 'maxvalue': high,
                                  '__doc__': 'CIM %s: an int in %d..%d.'
                                             % (name.lower(), low, high)})


Uint8 = _int_type('Uint8', 8, False)
Sint8 = _int_type('Sint8', 8, True)
Uint16 = _int_type('Uint16', 16, False)
Sint16 = _int_type('Sint16', 16, True)
Uint32 = _int_type('Uint32', 32, False)
Sint32 = _int_type('Sint32', 32, True)
Uint64 = _int_type('Uint64', 64, False)
Sint64 = _int_type('Sint64', 64, True)


class CIMFloat(CIMType, float):
    """Base class of the CIM real types."""

    __slots__ = ()

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__, float.__repr__(self))

    __str__ = float.__repr__


class Real32(CIMFloat):
    """CIM real32 (IEEE 754 single precision, held in a Python float)."""

    __slots__ = ()
    cimtype = 'real32'


class Real64(CIMFloat):
    """CIM real64."""

    __slots__ = ()
    cimtype = 'real64'


_TIMESTAMP = re.compile(r'^([\d*]{4})([\d*]{2})([\d*]{2})([\d*]{2})([\d*]{2})([\d*]{2})\.'
                        r'([\d*]{6})([+-])(\d{3})$')
_INTERVAL = re.compile(r'^([\d*]{8})([\d*]{2})([\d*]{2})([\d*]{2})\.([\d*]{6}):000$')


def _precision(text, what):
    """Index of the first ``*`` (the precision), ``None`` when there is none."""
    if '*' not in text:
        return None
    first = text.index('*')
    last = text.rindex('*') + 1
    if text[first:last].replace('.', '').strip('*') or last != 21:
        raise WBEMValueError('Asterisks in CIM datetime %s %r must be consecutive and reach '
                             'the last digit' % (what, text))
    return first


def _field(text, default, fill=None):
    if '*' in text:
        if fill is None:
            return default
        text = text.replace('*', fill)
    return int(text)


class CIMDateTime(CIMType):
    """A CIM datetime: a point in time with a UTC offset, or an interval.

    Built from a CIM datetime string (``20240131123000.000000+060`` or
    ``00000001020304.000000:000``), a ``datetime`` (naive means UTC) or ``timedelta``, or
    another CIMDateTime. Asterisks in the string (reduced precision) are accepted; the
    position of the first is kept in :attr:`precision` and used again by ``str()``.
    Equality compares the point in time (or the interval), not its spelling.
    """

    __slots__ = ('_datetime', '_timedelta', '_precision')
    cimtype = 'datetime'

    def __init__(self, dtarg):
        self._datetime = None
        self._timedelta = None
        self._precision = None
        if isinstance(dtarg, bytes):
            dtarg = dtarg.decode('utf-8')
        if isinstance(dtarg, CIMDateTime):
            self._datetime = dtarg.datetime
            self._timedelta = dtarg.timedelta
            self._precision = dtarg.precision
        elif isinstance(dtarg, datetime):
            self._datetime = dtarg if dtarg.tzinfo is not None else \
                dtarg.replace(tzinfo=MinutesFromUTC(0))
        elif isinstance(dtarg, timedelta):
            self._timedelta = dtarg
        elif isinstance(dtarg, str):
            self._parse(dtarg.strip())
        else:
            raise WBEMTypeError('CIMDateTime needs a string, datetime, timedelta or '
                                'CIMDateTime, not %s' % type(dtarg).__name__)

    def _parse(self, text):
        match = _TIMESTAMP.match(text)
        try:
            if match:
                self._precision = _precision(text, 'timestamp')
                parts = match.groups()
                offset = int(parts[8]) * (-1 if parts[7] == '-' else 1)
                self._datetime = datetime(
                    _field(parts[0], 0), _field(parts[1], 1), _field(parts[2], 1),
                    _field(parts[3], 0), _field(parts[4], 0), _field(parts[5], 0),
                    _field(parts[6], 0, '0'), MinutesFromUTC(offset))
                return
            match = _INTERVAL.match(text)
            if match:
                self._precision = _precision(text, 'interval')
                parts = match.groups()
                self._timedelta = timedelta(
                    days=_field(parts[0], 0), hours=_field(parts[1], 0),
                    minutes=_field(parts[2], 0), seconds=_field(parts[3], 0),
                    microseconds=_field(parts[4], 0, '0'))
                return
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, WBEMValueError):
                raise
            raise WBEMValueError('Invalid CIM datetime value %r: %s' % (text, exc))
        raise WBEMValueError('Invalid format of CIM datetime value: %r' % (text,))

    @property
    def datetime(self):
        """The point in time (timezone-aware ``datetime``), ``None`` for an interval."""
        return self._datetime

    @property
    def timedelta(self):
        """The interval (``timedelta``), ``None`` for a point in time."""
        return self._timedelta

    @property
    def precision(self):
        """Index of the first wildcard character of the string form, or ``None``."""
        return self._precision

    @property
    def is_interval(self):
        return self._timedelta is not None

    @property
    def minutes_from_utc(self):
        """UTC offset of a point in time in minutes (0 for intervals)."""
        if self._datetime is None:
            return 0
        offset = self._datetime.utcoffset()
        return int(offset.total_seconds() // 60) if offset is not None else 0

    def _digits(self, value, begin, width):
        text = '%0*d' % (width, value)
        if self._precision is not None and self._precision < begin + width:
            keep = max(0, self._precision - begin)
            text = text[:keep] + '*' * (width - keep)
        return text

    def __str__(self):
        if self._timedelta is not None:
            delta = self._timedelta
            hours, rest = divmod(delta.seconds, 3600)
            minutes, seconds = divmod(rest, 60)
            return '%s%s%s%s.%s:000' % (
                self._digits(delta.days, 0, 8), self._digits(hours, 8, 2),
                self._digits(minutes, 10, 2), self._digits(seconds, 12, 2),
                self._digits(delta.microseconds, 15, 6))
        stamp = self._datetime
        offset = self.minutes_from_utc
        return '%s%s%s%s%s%s.%s%s%03d' % (
            self._digits(stamp.year, 0, 4), self._digits(stamp.month, 4, 2),
            self._digits(stamp.day, 6, 2), self._digits(stamp.hour, 8, 2),
            self._digits(stamp.minute, 10, 2), self._digits(stamp.second, 12, 2),
            self._digits(stamp.microsecond, 15, 6), '-' if offset < 0 else '+', abs(offset))

    def __repr__(self):
        return 'CIMDateTime(%r)' % str(self)

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, CIMDateTime):
            return False
        return self._datetime == other._datetime and self._timedelta == other._timedelta

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self._datetime, self._timedelta))

    def __reduce__(self):
        return (CIMDateTime, (str(self),))

    @classmethod
    def now(cls, tzi=None):
        """The current time, in ``tzi`` (default: UTC)."""
        return cls(datetime.now(tzi or MinutesFromUTC(0)))

    @classmethod
    def fromtimestamp(cls, ts, tzi=None):
        """The POSIX timestamp ``ts`` as a point in time in ``tzi`` (default: UTC)."""
        return cls(datetime.fromtimestamp(ts, tzi or MinutesFromUTC(0)))


INTEGER_TYPES = dict((cls.cimtype, cls) for cls in
                     (Uint8, Sint8, Uint16, Sint16, Uint32, Sint32, Uint64, Sint64))
REAL_TYPES = {'real32': Real32, 'real64': Real64}
_TYPE_FROM_NAME = {'boolean': bool, 'string': str, 'char16': str, 'datetime': CIMDateTime}
_TYPE_FROM_NAME.update(INTEGER_TYPES)
_TYPE_FROM_NAME.update(REAL_TYPES)
ALL_CIMTYPES = frozenset(list(_TYPE_FROM_NAME) + ['reference'])


def type_from_name(type_name):
    """The Python type for a CIM type name (``reference`` gives CIMInstanceName)."""
    if type_name == 'reference':
        from .cim_obj import CIMInstanceName  # pylint: disable=import-outside-toplevel
        return CIMInstanceName
    try:
        return _TYPE_FROM_NAME[type_name]
    except (KeyError, TypeError):
        raise WBEMValueError('Unknown CIM data type name: %r' % (type_name,))


def cimtype(obj):
    """The CIM type name of a Python value; raises :class:`WBEMTypeError` if there is none."""
    if isinstance(obj, CIMType):
        return obj.cimtype
    if isinstance(obj, bool):
        return 'boolean'
    if isinstance(obj, (str, bytes)):
        return 'string'
    if isinstance(obj, list):
        if not obj:
            raise WBEMValueError('Cannot determine the CIM data type of an empty array')
        return cimtype(obj[0])
    if isinstance(obj, (datetime, timedelta)):
        return 'datetime'
    from .cim_obj import CIMInstanceName, CIMInstance, CIMClass  # pylint: disable=import-outside-toplevel
    if isinstance(obj, CIMInstanceName):
        return 'reference'
    if isinstance(obj, (CIMInstance, CIMClass)):
        return 'string'
    raise WBEMTypeError('Object does not have a valid CIM data type: %r' % (obj,))


def _real_text(value, digits):
    text = '%.*G' % (digits, value)
    if text == 'NAN':
        return 'NaN'
    if text in ('INF', '-INF'):
        return text
    if '.' not in text:
        parts = text.split('E')
        parts[0] += '.0'
        text = 'E'.join(parts)
    return text


def value_to_xml_text(value):
    """The CIM-XML text of a scalar value (not escaped), ``None`` for ``None``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return 'TRUE' if value else 'FALSE'
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, CIMDateTime):
        return str(value)
    if isinstance(value, (datetime, timedelta)):
        return str(CIMDateTime(value))
    if isinstance(value, Real32):
        return _real_text(value, 11)
    if isinstance(value, float):
        return _real_text(value, 17)
    if isinstance(value, bytes):
        return value.decode('utf-8')
    raise WBEMTypeError('Value %r of type %s cannot be converted to CIM-XML'
                        % (value, type(value).__name__))
