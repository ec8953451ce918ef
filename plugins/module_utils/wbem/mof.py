# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A parser for the subset of MOF (DMTF DSP0004) that declares classes and qualifier types.

Supported:

- ``class`` declarations with a qualifier list, a superclass, properties (scalar, fixed and
  variable size arrays, default values), references (``CIM_Foo REF Name``) and methods with
  parameters (data types, references, arrays), each with qualifier lists;
- ``Qualifier`` declarations with type, array, default value, ``Scope(...)`` and
  ``Flavor(...)``;
- values: strings (with DSP0004 escapes and concatenation of adjacent literals), char16
  literals, decimal, hexadecimal (``0x1F``), binary (``101b``) and octal (``017``) integers,
  reals, ``true``/``false``/``null`` and array initializers ``{...}``;
- ``//`` and ``/* */`` comments; ``#pragma`` directives are skipped (``#pragma include`` is
  refused).

Not supported (a clear :class:`MOFParseError` names the line): ``instance of``
declarations, aliases and reference default values, MOF 3 ``structure``/``enumeration``
declarations. Flavors written after a qualifier value (``[Key: DisableOverride]``) are
accepted and ignored: the qualifier declaration's flavors apply.

The result is plain dicts in the format of :mod:`.convert` (``class_from_dict``,
``qualifier_declaration_from_dict``) plus a ``kind`` key (``class`` or ``qualifier``).
Qualifier values stay untyped (Python int, float, str, bool, list): their CIM type comes from
the qualifier declarations of the namespace.
"""

import re

from ..common.errors import InvalidInputError

DATA_TYPES = ('boolean', 'string', 'char16', 'datetime', 'uint8', 'sint8', 'uint16', 'sint16',
              'uint32', 'sint32', 'uint64', 'sint64', 'real32', 'real64')
SCOPES = ('CLASS', 'ASSOCIATION', 'INDICATION', 'PROPERTY', 'REFERENCE', 'METHOD',
          'PARAMETER')
FLAVORS = {'enableoverride': ('overridable', True), 'disableoverride': ('overridable', False),
           'tosubclass': ('tosubclass', True), 'restricted': ('tosubclass', False),
           'translatable': ('translatable', True), 'toinstance': ('toinstance', True)}
#: The flavors a qualifier declaration has when it names none (DSP0004).
DEFAULT_FLAVORS = {'overridable': True, 'tosubclass': True, 'translatable': False,
                   'toinstance': False}

_TOKEN = re.compile(r'''
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<pragma>\#pragma[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<char>'(?:[^'\\\n]|\\.[0-9a-fA-F]*)')
  | (?P<real>[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d+[eE][+-]?\d+)
  | (?P<hex>[+-]?0[xX][0-9a-fA-F]+)
  | (?P<binary>[+-]?[01]+[bB](?![0-9A-Za-z_]))
  | (?P<int>[+-]?\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}\[\]();,:=$])
''', re.X | re.S)

_ESCAPES = {'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', '"': '"', "'": "'",
            '\\': '\\'}


class MOFParseError(InvalidInputError):
    """The MOF text is not valid, or uses something outside the supported subset."""

    def __init__(self, message, line=None):
        text = message if line is None else 'MOF line %d: %s' % (line, message)
        super(MOFParseError, self).__init__(text, error_name='MOF_PARSE_ERROR',
                                            details={'line': line})


def _unescape(text, line):
    out = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char != '\\':
            out.append(char)
            pos += 1
            continue
        nxt = text[pos + 1:pos + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            pos += 2
        elif nxt in ('x', 'X'):
            match = re.match(r'[0-9a-fA-F]{1,4}', text[pos + 2:])
            if not match:
                raise MOFParseError('invalid \\x escape', line)
            out.append(chr(int(match.group(0), 16)))
            pos += 2 + len(match.group(0))
        else:
            raise MOFParseError('invalid escape \\%s' % nxt, line)
    return ''.join(out)


def tokenize(text):
    """``[(kind, value, line)]`` of a MOF text."""
    tokens = []
    pos = 0
    line = 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise MOFParseError('unexpected character %r' % text[pos], line)
        kind = match.lastgroup
        value = match.group(kind)
        if kind == 'pragma':
            if re.match(r'#pragma\s+include\b', value, re.I):
                raise MOFParseError('#pragma include is not supported: give the whole '
                                    'declaration', line)
        elif kind not in ('space', 'comment'):
            tokens.append((kind, value, line))
        line += value.count('\n')
        pos = match.end()
    tokens.append(('eof', None, line))
    return tokens


class _Parser(object):

    def __init__(self, text):
        self.tokens = tokenize(text)
        self.pos = 0

    # -- token helpers

    def peek(self, offset=0):
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def next(self):
        token = self.tokens[self.pos]
        if token[0] != 'eof':
            self.pos += 1
        return token

    def error(self, message, token=None):
        token = token or self.peek()
        return MOFParseError(message, token[2])

    def is_punct(self, char, offset=0):
        token = self.peek(offset)
        return token[0] == 'punct' and token[1] == char

    def is_word(self, word, offset=0):
        token = self.peek(offset)
        return token[0] == 'ident' and token[1].lower() == word

    def expect_punct(self, char):
        token = self.next()
        if token[0] != 'punct' or token[1] != char:
            raise self.error('expected %r, found %s' % (char, _describe(token)), token)
        return token

    def expect_ident(self, what):
        token = self.next()
        if token[0] != 'ident':
            raise self.error('expected %s, found %s' % (what, _describe(token)), token)
        return token[1]

    def accept_punct(self, char):
        if self.is_punct(char):
            self.next()
            return True
        return False

    # -- values

    def constant(self):
        token = self.next()
        kind, value, line = token
        if kind == 'string':
            parts = [_unescape(value[1:-1], line)]
            while self.peek()[0] == 'string':
                nxt = self.next()
                parts.append(_unescape(nxt[1][1:-1], nxt[2]))
            return ''.join(parts)
        if kind == 'char':
            char = _unescape(value[1:-1], line)
            if len(char) != 1:
                raise self.error('a char16 literal must be one character', token)
            return char
        if kind == 'real':
            return float(value)
        if kind == 'hex':
            return int(value, 16)
        if kind == 'binary':
            return int(value[:-1], 2)
        if kind == 'int':
            digits = value.lstrip('+-')
            if len(digits) > 1 and digits.startswith('0'):
                try:
                    number = int(digits, 8)
                except ValueError:
                    raise self.error('invalid octal number %s' % value, token)
                return -number if value.startswith('-') else number
            return int(value)
        if kind == 'ident':
            word = value.lower()
            if word in ('true', 'false'):
                return word == 'true'
            if word == 'null':
                return None
        if kind == 'punct' and value == '$':
            raise self.error('aliases are not supported', token)
        raise self.error('expected a value, found %s' % _describe(token), token)

    def initializer(self):
        if self.accept_punct('{'):
            values = []
            if not self.accept_punct('}'):
                while True:
                    values.append(self.constant())
                    if self.accept_punct('}'):
                        break
                    self.expect_punct(',')
            return values
        return self.constant()

    # -- qualifiers

    def qualifier_list(self):
        qualifiers = {}
        if not self.accept_punct('['):
            return qualifiers
        while True:
            name = self.expect_ident('a qualifier name')
            if self.accept_punct('('):
                value = self.constant()
                self.expect_punct(')')
            elif self.is_punct('{'):
                value = self.initializer()
            else:
                value = True
            if self.accept_punct(':'):
                while self.peek()[0] == 'ident' and self.peek()[1].lower() in FLAVORS:
                    self.next()
            if name.lower() in [q.lower() for q in qualifiers]:
                raise self.error('qualifier %s is given twice' % name)
            qualifiers[name] = value
            if self.accept_punct(']'):
                return qualifiers
            self.expect_punct(',')

    def array_spec(self):
        """``None`` (no array), ``0`` (variable size) or the fixed size."""
        if not self.accept_punct('['):
            return None
        if self.accept_punct(']'):
            return 0
        token = self.next()
        if token[0] != 'int' or int(token[1]) <= 0:
            raise self.error('expected an array size', token)
        self.expect_punct(']')
        return int(token[1])

    # -- declarations

    def data_type(self):
        token = self.next()
        if token[0] != 'ident' or token[1].lower() not in DATA_TYPES:
            raise self.error('expected a CIM data type (%s), found %s'
                             % (', '.join(DATA_TYPES), _describe(token)), token)
        return token[1].lower()

    def type_or_reference(self):
        """``(None, type)`` for a data type, ``(class name, 'reference')`` for ``X REF``."""
        if self.peek()[0] == 'ident' and self.is_word('ref', 1):
            reference_class = self.expect_ident('a class name')
            self.next()
            return reference_class, 'reference'
        return None, self.data_type()

    def feature(self):
        qualifiers = self.qualifier_list()
        reference_class, type_ = self.type_or_reference()
        name = self.expect_ident('a property or method name')
        if self.accept_punct('('):
            if reference_class is not None:
                raise self.error('a method cannot return a reference')
            params = {}
            if not self.accept_punct(')'):
                while True:
                    pname, param = self.parameter()
                    if pname.lower() in [p.lower() for p in params]:
                        raise self.error('parameter %s is declared twice' % pname)
                    params[pname] = param
                    if self.accept_punct(')'):
                        break
                    self.expect_punct(',')
            self.expect_punct(';')
            return 'method', name, {'return_type': type_, 'parameters': params,
                                    'qualifiers': qualifiers}
        array = self.array_spec()
        if array is not None and reference_class is not None:
            raise self.error('reference properties cannot be arrays')
        default = None
        if self.accept_punct('='):
            if reference_class is not None:
                raise self.error('default values of references are not supported')
            default = self.initializer()
        self.expect_punct(';')
        descriptor = type_ + ('[]' if array is not None else '')
        return 'property', name, {'type': descriptor, 'default': default,
                                  'reference_class': reference_class,
                                  'array_size': array or None, 'qualifiers': qualifiers}

    def parameter(self):
        qualifiers = self.qualifier_list()
        reference_class, type_ = self.type_or_reference()
        name = self.expect_ident('a parameter name')
        array = self.array_spec()
        if self.accept_punct('='):
            raise self.error('parameter default values are not supported')
        return name, {'type': type_ + ('[]' if array is not None else ''),
                      'reference_class': reference_class, 'array_size': array or None,
                      'qualifiers': qualifiers}

    def class_declaration(self, qualifiers):
        self.next()  # class
        classname = self.expect_ident('a class name')
        superclass = None
        if self.accept_punct(':'):
            superclass = self.expect_ident('a superclass name')
        self.expect_punct('{')
        properties = {}
        methods = {}
        while not self.accept_punct('}'):
            if self.peek()[0] == 'eof':
                raise self.error('class %s is not closed with "};"' % classname)
            kind, name, spec = self.feature()
            if name.lower() in [n.lower() for n in list(properties) + list(methods)]:
                raise self.error('%s is declared twice in class %s' % (name, classname))
            (methods if kind == 'method' else properties)[name] = spec
        self.expect_punct(';')
        return {'kind': 'class', 'classname': classname, 'superclass': superclass,
                'qualifiers': qualifiers, 'properties': properties, 'methods': methods}

    def qualifier_declaration(self):
        self.next()  # Qualifier
        name = self.expect_ident('a qualifier name')
        self.expect_punct(':')
        type_ = self.data_type()
        array = self.array_spec()
        value = None
        if self.accept_punct('='):
            value = self.initializer()
        self.expect_punct(',')
        if not self.is_word('scope'):
            raise self.error('expected Scope(...)')
        self.next()
        self.expect_punct('(')
        scopes = set()
        while True:
            scope = self.expect_ident('a scope').upper()
            if scope == 'ANY':
                scopes.update(SCOPES)
            elif scope in SCOPES:
                scopes.add(scope)
            else:
                raise self.error('unknown scope %s' % scope)
            if self.accept_punct(')'):
                break
            self.expect_punct(',')
        flavors = dict(DEFAULT_FLAVORS)
        if self.accept_punct(','):
            if not self.is_word('flavor'):
                raise self.error('expected Flavor(...)')
            self.next()
            self.expect_punct('(')
            while True:
                flavor = self.expect_ident('a flavor').lower()
                if flavor not in FLAVORS:
                    raise self.error('unknown flavor %s' % flavor)
                key, setting = FLAVORS[flavor]
                flavors[key] = setting
                if self.accept_punct(')'):
                    break
                self.expect_punct(',')
        self.expect_punct(';')
        result = {'kind': 'qualifier', 'name': name,
                  'type': type_ + ('[]' if array is not None else ''), 'value': value,
                  'array_size': array or None, 'scopes': sorted(scopes)}
        result.update(flavors)
        return result

    def declarations(self):
        result = []
        while self.peek()[0] != 'eof':
            if self.is_word('qualifier'):
                result.append(self.qualifier_declaration())
                continue
            if self.is_word('instance') and self.is_word('of', 1):
                raise self.error('instance declarations are not supported (use '
                                 'hostsec.mgmt.wbem_instance)')
            qualifiers = self.qualifier_list()
            if self.is_word('class'):
                result.append(self.class_declaration(qualifiers))
            elif self.is_word('instance'):
                raise self.error('instance declarations are not supported (use '
                                 'hostsec.mgmt.wbem_instance)')
            elif self.is_word('association') or self.is_word('indication') or \
                    self.is_word('structure') or self.is_word('enumeration'):
                raise self.error('MOF 3 %s declarations are not supported (use [%s] class)'
                                 % (self.peek()[1], self.peek()[1].capitalize()))
            else:
                raise self.error('expected a class or qualifier declaration, found %s'
                                 % _describe(self.peek()))
        return result


def _describe(token):
    if token[0] == 'eof':
        return 'the end of the text'
    return repr(token[1])


def parse(text):
    """The class and qualifier declarations of a MOF text, as dicts (see the module doc)."""
    if not isinstance(text, str):
        raise MOFParseError('MOF must be a string')
    return _Parser(text).declarations()


def parse_one(text, kind):
    """The one declaration of ``kind`` (``class`` or ``qualifier``) in ``text``."""
    found = parse(text)
    wanted = [decl for decl in found if decl['kind'] == kind]
    if len(wanted) != 1 or len(found) != 1:
        raise MOFParseError('the MOF text must hold exactly one %s declaration, not %d '
                            'declaration(s) (%s)' % (kind, len(found), ', '.join(
                                '%s %s' % (d['kind'], d.get('classname') or d.get('name'))
                                for d in found) or 'none'))
    return wanted[0]
