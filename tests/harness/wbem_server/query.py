# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small query engine for the test CIMOM: WQL/CQL ``SELECT`` statements and DMTF:FQL filters.

pywbem_mock does not implement ExecQuery, OpenQueryInstances or the FilterQuery of the pull
operations, so the server evaluates them here, on the instances pywbem_mock enumerates.

Supported syntax (keywords are case-insensitive)::

    SELECT * | prop [, prop ...] FROM class [WHERE condition]     (WQL, CQL, DMTF:CQL)
    condition                                                      (DMTF:FQL)

    condition := term [OR term ...]
    term      := factor [AND factor ...]
    factor    := NOT factor | ( condition ) | comparison
    comparison := operand (= | <> | != | < | <= | > | >=) operand
                | operand IS [NOT] NULL
                | operand [NOT] LIKE 'pattern'          (% any string, _ one character)
                | property ISA class                     (embedded instances)
    operand   := property | 'string' | "string" | number | TRUE | FALSE | NULL

A comparison with an array property is true when any element satisfies it. Comparisons with
NULL values are false. Anything else raises :class:`QueryError`.
"""

import re

from pywbem import CIMDateTime, CIMInstance

QUERY_LANGUAGES = ('WQL', 'CQL', 'DMTF:CQL')
FILTER_QUERY_LANGUAGE = 'DMTF:FQL'

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")
    | (?P<number>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
    | (?P<op><>|!=|<=|>=|=|<|>)
    | (?P<punct>[(),*])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::)[A-Za-z_][A-Za-z0-9_]*)*)
    )""", re.VERBOSE)

_KEYWORDS = ('SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IS', 'NULL', 'LIKE', 'TRUE', 'FALSE',
             'ISA')


class QueryError(Exception):
    """The query cannot be parsed or uses something this engine does not support."""


def _tokenize(text):
    tokens = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError('unexpected text at position %d: %r' % (pos, text[pos:pos + 20]))
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == 'name' and value.upper() in _KEYWORDS:
            kind, value = 'keyword', value.upper()
        tokens.append((kind, value))
    return tokens


class _Parser(object):

    def __init__(self, text):
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self, kind=None, value=None):
        if self.pos >= len(self.tokens):
            return None
        token = self.tokens[self.pos]
        if kind is not None and token[0] != kind:
            return None
        if value is not None and token[1] != value:
            return None
        return token

    def take(self, kind=None, value=None):
        token = self.peek(kind, value)
        if token is None:
            found = self.tokens[self.pos][1] if self.pos < len(self.tokens) else 'end of query'
            raise QueryError('expected %s, found %r' % (value or kind, found))
        self.pos += 1
        return token

    def at_end(self):
        return self.pos >= len(self.tokens)

    def select(self):
        self.take('keyword', 'SELECT')
        properties = None
        if self.peek('punct', '*'):
            self.take()
        else:
            properties = [self.take('name')[1].split('.')[-1]]
            while self.peek('punct', ','):
                self.take()
                properties.append(self.take('name')[1].split('.')[-1])
        self.take('keyword', 'FROM')
        classname = self.take('name')[1]
        condition = None
        if self.peek('keyword', 'WHERE'):
            self.take()
            condition = self.condition()
        if not self.at_end():
            raise QueryError('unexpected %r after the query' % self.tokens[self.pos][1])
        return classname, properties, condition

    def where(self):
        condition = self.condition()
        if not self.at_end():
            raise QueryError('unexpected %r after the condition' % self.tokens[self.pos][1])
        return condition

    def condition(self):
        node = self.term()
        while self.peek('keyword', 'OR'):
            self.take()
            node = ('or', node, self.term())
        return node

    def term(self):
        node = self.factor()
        while self.peek('keyword', 'AND'):
            self.take()
            node = ('and', node, self.factor())
        return node

    def factor(self):
        if self.peek('keyword', 'NOT'):
            self.take()
            return ('not', self.factor())
        if self.peek('punct', '('):
            self.take()
            node = self.condition()
            self.take('punct', ')')
            return node
        return self.comparison()

    def comparison(self):
        left = self.operand()
        if self.peek('keyword', 'IS'):
            self.take()
            negate = bool(self.peek('keyword', 'NOT'))
            if negate:
                self.take()
            self.take('keyword', 'NULL')
            node = ('isnull', left)
            return ('not', node) if negate else node
        negate = False
        if self.peek('keyword', 'NOT'):
            self.take()
            negate = True
            if not self.peek('keyword', 'LIKE'):
                raise QueryError('expected LIKE after NOT')
        if self.peek('keyword', 'LIKE'):
            self.take()
            pattern = self.operand()
            if pattern[0] != 'literal' or not isinstance(pattern[1], str):
                raise QueryError('LIKE needs a string pattern')
            node = ('like', left, _like_regex(pattern[1]))
            return ('not', node) if negate else node
        if self.peek('keyword', 'ISA'):
            self.take()
            return ('isa', left, self.take('name')[1])
        operator = self.take('op')[1]
        return ('cmp', '<>' if operator == '!=' else operator, left, self.operand())

    def operand(self):
        token = self.peek()
        if token is None:
            raise QueryError('expected an operand, found end of query')
        kind, value = token
        self.pos += 1
        if kind == 'string':
            if value[0] == "'":
                return ('literal', value[1:-1].replace("''", "'"))
            return ('literal', re.sub(r'\\(.)', r'\1', value[1:-1]))
        if kind == 'number':
            if re.match(r'^[+-]?\d+$', value):
                return ('literal', int(value))
            return ('literal', float(value))
        if kind == 'keyword' and value in ('TRUE', 'FALSE'):
            return ('literal', value == 'TRUE')
        if kind == 'keyword' and value == 'NULL':
            return ('literal', None)
        if kind == 'name':
            # Class-qualified names (CIM_Foo.Prop, SourceInstance::Prop): the last part counts.
            return ('property', re.split(r'\.|::', value)[-1])
        raise QueryError('unexpected %r' % value)


def _like_regex(pattern):
    out = []
    for char in pattern:
        if char == '%':
            out.append('.*')
        elif char == '_':
            out.append('.')
        else:
            out.append(re.escape(char))
    return re.compile('^%s$' % ''.join(out), re.DOTALL)


def parse_select(text):
    """``(classname, property_list or None, condition or None)`` of a WQL/CQL SELECT."""
    return _Parser(text).select()


def parse_filter(text):
    """The condition tree of a DMTF:FQL filter query."""
    return _Parser(text).where()


def select_classname(text):
    """The FROM class of a SELECT statement (raises :class:`QueryError` when it has none)."""
    return parse_select(text)[0]


def _value(operand, instance):
    if operand[0] == 'literal':
        return operand[1], False
    name = operand[1]
    if name not in instance.properties:
        return None, False
    prop = instance.properties[name]
    return prop.value, prop.is_array


def _coerce_pair(left, right):
    """Make two scalar values comparable, or return None when they are not."""
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return left, right
        return None
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return float(left), float(right)
    if isinstance(left, CIMDateTime) or isinstance(right, CIMDateTime):
        try:
            left, right = CIMDateTime(left), CIMDateTime(right)
        except (TypeError, ValueError):
            return None
        if left.is_interval != right.is_interval:
            return None
        if left.is_interval:
            return left.timedelta, right.timedelta
        return left.datetime, right.datetime
    if isinstance(left, str) and isinstance(right, str):
        return str(left), str(right)
    return None


_COMPARE = {
    '=': lambda a, b: a == b,
    '<>': lambda a, b: a != b,
    '<': lambda a, b: a < b,
    '<=': lambda a, b: a <= b,
    '>': lambda a, b: a > b,
    '>=': lambda a, b: a >= b,
}


def evaluate(condition, instance, is_subclass=None):
    """True when ``instance`` (a CIMInstance) satisfies the parsed ``condition``."""
    if condition is None:
        return True
    kind = condition[0]
    if kind == 'or':
        return evaluate(condition[1], instance, is_subclass) or evaluate(condition[2], instance, is_subclass)
    if kind == 'and':
        return evaluate(condition[1], instance, is_subclass) and evaluate(condition[2], instance, is_subclass)
    if kind == 'not':
        return not evaluate(condition[1], instance, is_subclass)
    if kind == 'isnull':
        value, is_array = _value(condition[1], instance)
        return value is None or (is_array and not value)
    if kind == 'like':
        value, is_array = _value(condition[1], instance)
        values = value if is_array else [value]
        return any(isinstance(v, str) and condition[2].match(v) for v in values or [])
    if kind == 'isa':
        value, is_array = _value(condition[1], instance)
        values = value if is_array else [value]
        for item in values or []:
            if isinstance(item, CIMInstance) and is_subclass is not None and is_subclass(item.classname, condition[2]):
                return True
        return False
    operator, left_op, right_op = condition[1], condition[2], condition[3]
    left, left_array = _value(left_op, instance)
    right, right_array = _value(right_op, instance)
    lefts = left if left_array else [left]
    rights = right if right_array else [right]
    for lval in lefts or []:
        for rval in rights or []:
            if lval is None or rval is None:
                continue
            pair = _coerce_pair(lval, rval)
            if pair is not None and _COMPARE[operator](*pair):
                return True
    return False
