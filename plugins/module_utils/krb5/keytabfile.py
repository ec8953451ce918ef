# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MIT keytab file format (version 0x502), read and written in memory.

A keytab is ``05 02`` followed by records: a signed 32-bit big-endian length, then that many
bytes of entry (a negative length is a hole of that size, left by a removed entry). An entry
is the principal (component count, realm, components, name type), a timestamp, an 8-bit kvno,
the key (enctype and key bytes) and, when there is room, the full 32-bit kvno.

:func:`parse` keeps each entry's raw bytes, so an entry that is kept is written back byte for
byte; :func:`serialize` writes the header and the kept entries (holes are dropped). The key
bytes stay inside :class:`Entry` and are never part of :meth:`Entry.describe`, the only view of
an entry that goes into results, diffs and messages.
"""

import struct

from .errors import KeytabError
from .util import enctype_name, iso

HEADER = b'\x05\x02'
# More would not be a keytab anyone uses; refusing it bounds the memory of a hostile file.
MAX_ENTRIES = 100000


def _escape(component):
    out = []
    for char in component:
        if char in '/@\\':
            out.append('\\' + char)
        elif char == '\n':
            out.append('\\n')
        elif char == '\t':
            out.append('\\t')
        elif char == '\b':
            out.append('\\b')
        elif char == '\0':
            out.append('\\0')
        else:
            out.append(char)
    return ''.join(out)


class Entry(object):
    """One keytab entry: ``principal``, ``kvno``, ``enctype`` (number), ``timestamp``, ``raw``."""

    __slots__ = ('principal', 'kvno', 'enctype', 'timestamp', 'raw')

    def __init__(self, principal, kvno, enctype, timestamp, raw):
        self.principal = principal
        self.kvno = kvno
        self.enctype = enctype
        self.timestamp = timestamp
        self.raw = raw

    def describe(self):
        """The entry without key material (as krb5_keytab_info returns entries)."""
        return {'principal': self.principal, 'kvno': self.kvno,
                'enctype': enctype_name(self.enctype), 'enctype_number': self.enctype,
                'timestamp': iso(self.timestamp)}

    def line(self):
        return '%s kvno %d %s' % (self.principal, self.kvno, enctype_name(self.enctype))

    def __repr__(self):
        return '<keytab entry %s>' % self.line()


class _Reader(object):
    def __init__(self, data, where):
        self.data = data
        self.pos = 0
        self.where = where

    def take(self, size):
        if size < 0 or self.pos + size > len(self.data):
            raise _format_error(self.where, 'an entry is truncated')
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def counted(self):
        (size,) = self.unpack('>H')
        return self.take(size)


def _format_error(where, why):
    return KeytabError('%s is not a keytab of format 0x502: %s' % (where, why),
                       error_name='KRB5_KT_FORMAT', details={'code': -1765328186})


def _entry(raw, where):
    reader = _Reader(raw, where)
    (count,) = reader.unpack('>H')
    realm = reader.counted().decode('utf-8', 'replace')
    components = [_escape(reader.counted().decode('utf-8', 'replace')) for _i in range(count)]
    reader.unpack('>I')  # name type
    (timestamp,) = reader.unpack('>I')
    (kvno,) = reader.unpack('>B')
    (enctype,) = reader.unpack('>H')
    reader.counted()  # the key itself: never looked at, only carried in ``raw``
    if len(raw) - reader.pos >= 4:
        (kvno32,) = reader.unpack('>I')
        if kvno32:
            kvno = kvno32
    principal = '%s@%s' % ('/'.join(components), _escape(realm))
    return Entry(principal, kvno, enctype, timestamp, raw)


def parse(data, where='keytab'):
    """The entries of keytab ``data`` (bytes); an empty file has none."""
    if not data:
        return []
    if data[:2] != HEADER:
        if data[:2] == b'\x05\x01':
            raise _format_error(where, 'format 0x501 (native byte order) is not supported')
        raise _format_error(where, 'it does not start with 05 02')
    entries = []
    pos = 2
    while pos < len(data):
        if len(data) - pos < 4:
            raise _format_error(where, 'a record length is truncated')
        (size,) = struct.unpack('>i', data[pos:pos + 4])
        pos += 4
        if size < 0:
            pos += -size
            continue
        if size == 0:
            break  # the end, as libkrb5 reads it
        if pos + size > len(data):
            raise _format_error(where, 'an entry is truncated')
        entries.append(_entry(data[pos:pos + size], where))
        if len(entries) > MAX_ENTRIES:
            raise _format_error(where, 'more than %d entries' % MAX_ENTRIES)
        pos += size
    if pos > len(data):
        raise _format_error(where, 'a hole runs past the end of the file')
    return entries


def serialize(entries):
    """Keytab bytes holding ``entries`` (their raw bytes) in order."""
    parts = [HEADER]
    for entry in entries:
        parts.append(struct.pack('>i', len(entry.raw)))
        parts.append(entry.raw)
    return b''.join(parts)
