# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An ordered dictionary with case-insensitive string keys, as CIM names require.

Keys keep the spelling they were first stored with; lookups, ``in``, deletion and equality
ignore case. Equality ignores order (like ``dict``) and accepts plain dicts on either side.
``None`` is accepted as a key only where ``allow_unnamed_keys`` is set (a keybinding without
a name, which DSP0201 allows in an INSTANCENAME).
"""

from .exceptions import WBEMTypeError, WBEMValueError

_OMITTED = object()


def _lower(key):
    if key is None:
        return None
    try:
        return key.lower()
    except AttributeError:
        raise WBEMTypeError('A CIM name must be a string, not %s' % type(key).__name__)


class NocaseDict(object):
    """Case-insensitive ordered mapping ``name -> value``."""

    __slots__ = ('_data', 'allow_unnamed_keys')

    def __init__(self, *args, **kwargs):
        # _data: lower-case key -> (original key, value); dicts keep insertion order.
        self._data = {}
        self.allow_unnamed_keys = False
        if len(args) > 1:
            raise WBEMTypeError('NocaseDict expects at most one positional argument')
        if args and args[0] is not None:
            self.update(args[0])
        if kwargs:
            self.update(kwargs)

    @classmethod
    def _from_pairs(cls, pairs):
        """Fast constructor from ``(key, value)`` pairs with string keys (parser use)."""
        obj = cls.__new__(cls)
        obj.allow_unnamed_keys = False
        obj._data = dict((key.lower(), (key, value)) for key, value in pairs)
        return obj

    def _check(self, key):
        if key is None and not self.allow_unnamed_keys:
            raise WBEMValueError('Key None (unnamed key) is not allowed for this object')
        return _lower(key)

    def __getitem__(self, key):
        try:
            return self._data[self._check(key)][1]
        except KeyError:
            raise KeyError(key)

    def __setitem__(self, key, value):
        low = self._check(key)
        old = self._data.get(low)
        self._data[low] = (old[0] if old is not None else key, value)

    def __delitem__(self, key):
        try:
            del self._data[self._check(key)]
        except KeyError:
            raise KeyError(key)

    def __contains__(self, key):
        if key is None and not self.allow_unnamed_keys:
            return False
        try:
            return _lower(key) in self._data
        except WBEMTypeError:
            return False

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return (item[0] for item in self._data.values())

    def __bool__(self):
        return bool(self._data)

    __nonzero__ = __bool__

    def keys(self):
        return [item[0] for item in self._data.values()]

    def values(self):
        return [item[1] for item in self._data.values()]

    def items(self):
        return list(self._data.values())

    def iterkeys(self):
        return iter(self)

    def itervalues(self):
        return (item[1] for item in self._data.values())

    def iteritems(self):
        return iter(self._data.values())

    def get(self, key, default=None):
        try:
            return self[key]
        except (KeyError, WBEMValueError, WBEMTypeError):
            return default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key, default=_OMITTED):
        try:
            value = self[key]
        except KeyError:
            if default is _OMITTED:
                raise
            return default
        del self[key]
        return value

    def popitem(self):
        low = next(reversed(list(self._data)))
        return self._data.pop(low)

    def clear(self):
        self._data.clear()

    def update(self, *args, **kwargs):
        for other in args + ((kwargs,) if kwargs else ()):
            if other is None:
                continue
            if hasattr(other, 'items'):
                iterator = other.items()
            else:
                iterator = other
            for item in iterator:
                if isinstance(item, tuple) and len(item) == 2:
                    self[item[0]] = item[1]
                elif hasattr(item, 'name'):
                    self[item.name] = item
                else:
                    raise WBEMTypeError('Cannot add %r to a NocaseDict' % (item,))

    def copy(self):
        new = NocaseDict.__new__(NocaseDict)
        new._data = dict(self._data)
        new.allow_unnamed_keys = self.allow_unnamed_keys
        return new

    def __copy__(self):
        return self.copy()

    def lower_keys(self):
        """The keys in lower case, in order."""
        return list(self._data)

    def __eq__(self, other):
        if self is other:
            return True
        if isinstance(other, NocaseDict):
            data = other._data
        elif isinstance(other, dict):
            try:
                data = dict((_lower(k), (k, v)) for k, v in other.items())
            except WBEMTypeError:
                return False
        else:
            return NotImplemented
        if len(data) != len(self._data):
            return False
        for low, item in self._data.items():
            theirs = data.get(low, _OMITTED)
            if theirs is _OMITTED:
                return False
            mine, their_value = item[1], theirs[1]
            if mine is None or their_value is None:
                if mine is not their_value:
                    return False
            elif not mine == their_value:
                return False
        return True

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash(frozenset((low, _hashable(item[1])) for low, item in self._data.items()))

    def __repr__(self):
        return 'NocaseDict({%s})' % ', '.join('%r: %r' % item for item in self._data.values())

    def __reduce__(self):
        return (_rebuild_nocasedict, (self.items(), self.allow_unnamed_keys))


def _rebuild_nocasedict(items, allow_unnamed_keys):
    new = NocaseDict()
    new.allow_unnamed_keys = allow_unnamed_keys
    for key, value in items:
        new[key] = value
    return new


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value
