# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MOF subset parser of wbem_class/wbem_qualifier, checked against pywbem's MOF compiler.

The test CIMOM's schema (tests/harness/wbem_server/schema: 44 qualifier declarations, 39
classes with properties, references, arrays, defaults and methods) is parsed by our parser
and compiled by pywbem's; both must agree on every declaration.
"""

import os

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import mof

pywbem_mock = pytest.importorskip('pywbem_mock')

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..',
                      'harness', 'wbem_server', 'schema')


def _read(name):
    with open(os.path.join(SCHEMA, name), encoding='utf-8') as handle:
        return handle.read()


@pytest.fixture(scope='module')
def compiled():
    conn = pywbem_mock.FakedWBEMConnection(default_namespace='root/cimv2')
    conn.compile_mof_string(_read('qualifiers.mof'), namespace='root/cimv2')
    conn.compile_mof_string(_read('classes.mof'), namespace='root/cimv2')
    return conn


def _plain(value):
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    return str(value)


def _quals(qualifiers, local_only=True):
    return dict((name, _plain(q.value)) for name, q in qualifiers.items()
                if not (local_only and q.propagated))


def _ptype(element):
    return element.type + ('[]' if element.is_array else '')


def test_qualifier_declarations_match_pywbem(compiled):
    ours = mof.parse(_read('qualifiers.mof'))
    assert len(ours) == 44
    theirs = dict((q.name, q) for q in compiled.EnumerateQualifiers(namespace='root/cimv2'))
    assert sorted(d['name'] for d in ours) == sorted(theirs)
    for decl in ours:
        other = theirs[decl['name']]
        assert decl['type'] == _ptype(other), decl['name']
        assert decl['value'] == _plain(other.value), decl['name']
        scopes = sorted(s for s, on in other.scopes.items() if on and s != 'ANY')
        if other.scopes.get('ANY'):
            scopes = sorted(mof.SCOPES)
        assert decl['scopes'] == scopes, decl['name']
        for flavor in ('overridable', 'tosubclass', 'translatable'):
            # pywbem leaves flavors the MOF does not name unset (None): DSP0004's defaults
            expected = getattr(other, flavor)
            if expected is None:
                expected = mof.DEFAULT_FLAVORS[flavor]
            assert decl[flavor] == expected, (decl['name'], flavor)


def test_class_declarations_match_pywbem(compiled):
    ours = mof.parse(_read('classes.mof'))
    assert len(ours) == 39
    store = compiled.cimrepository.get_class_store('root/cimv2')
    for decl in ours:
        other = store.get(decl['classname'])
        name = decl['classname']
        assert decl['superclass'] == other.superclass, name
        assert decl['qualifiers'] == _quals(other.qualifiers), name
        local = dict((pname, prop) for pname, prop in other.properties.items()
                     if not prop.propagated or pname in decl['properties'])
        assert sorted(decl['properties']) == sorted(local), name
        for pname, spec in decl['properties'].items():
            prop = other.properties[pname]
            assert spec['type'] == _ptype(prop), (name, pname)
            assert spec['default'] == _plain(prop.value), (name, pname)
            assert spec['reference_class'] == prop.reference_class, (name, pname)
            assert spec['array_size'] == prop.array_size, (name, pname)
            assert spec['qualifiers'] == dict(
                (q, v) for q, v in _quals(prop.qualifiers, local_only=False).items()
                if q in spec['qualifiers'] or not prop.qualifiers[q].propagated), (name, pname)
        assert sorted(decl['methods']) == sorted(m for m, meth in other.methods.items()
                                                 if not meth.propagated), name
        for mname, spec in decl['methods'].items():
            meth = other.methods[mname]
            assert spec['return_type'] == meth.return_type, (name, mname)
            assert spec['qualifiers'] == _quals(meth.qualifiers), (name, mname)
            assert list(spec['parameters']) == list(meth.parameters), (name, mname)
            for param_name, pspec in spec['parameters'].items():
                param = meth.parameters[param_name]
                assert pspec['type'] == _ptype(param), (name, mname, param_name)
                assert pspec['reference_class'] == param.reference_class
                assert pspec['qualifiers'] == _quals(param.qualifiers, local_only=False)


def test_literals():
    decl = mof.parse_one(r'''
        // comment
        /* block
           comment */
        #pragma locale ("en_US")
        [Description ("one " "two"), ValueMap {"1", "0x2"}]
        class X : Y {
            uint8 A = 0x1F;
            uint8 B = 101b;
            sint8 C = -017;
            sint32 D = -12;
            real32 E = -1.5e3;
            real64 F = .25;
            char16 G = '\x41';
            string H = "tab\there \"quoted\" back\\slash \x263A";
            uint8 I[4] = {1, 2};
            boolean J = false;
            string K = null;
            datetime L = "20240101000000.000000+000";
        };''', 'class')
    props = decl['properties']
    assert decl['qualifiers'] == {'Description': 'one two', 'ValueMap': ['1', '0x2']}
    assert [props[n]['default'] for n in 'ABCDEFGHIJKL'] == [
        31, 5, -15, -12, -1500.0, 0.25, 'A', 'tab\there "quoted" back\\slash \u263a', [1, 2],
        False, None, '20240101000000.000000+000']
    assert props['I']['type'] == 'uint8[]' and props['I']['array_size'] == 4
    assert props['K']['type'] == 'string' and props['A']['qualifiers'] == {}


def test_qualifier_declaration_flavors_and_any_scope():
    decl = mof.parse_one('Qualifier Tag : string[] = {"a"}, Scope(any), '
                         'Flavor(DisableOverride, Restricted, Translatable);', 'qualifier')
    assert decl == {'kind': 'qualifier', 'name': 'Tag', 'type': 'string[]', 'value': ['a'],
                    'array_size': None, 'scopes': sorted(mof.SCOPES), 'overridable': False,
                    'tosubclass': False, 'translatable': True, 'toinstance': False}
    plain = mof.parse_one('Qualifier Flag : boolean, Scope(property);', 'qualifier')
    assert plain['value'] is None and plain['overridable'] and plain['tosubclass']


def test_references_methods_and_flavors_after_values():
    decl = mof.parse_one('''
        [Association: DisableOverride]
        class A_B {
            [Key] CIM_X REF Left;
            [Key, Override ("Right") : ToSubclass] CIM_Y REF Right;
            [Static] uint32 Run([In, Required] string Name, [Out] CIM_X REF Jobs[],
                                uint16 Codes[3]);
            string Empty();
        };''', 'class')
    assert decl['qualifiers'] == {'Association': True}
    assert decl['properties']['Left'] == {'type': 'reference', 'default': None,
                                          'reference_class': 'CIM_X', 'array_size': None,
                                          'qualifiers': {'Key': True}}
    assert decl['properties']['Right']['qualifiers'] == {'Key': True, 'Override': 'Right'}
    run = decl['methods']['Run']
    assert run['return_type'] == 'uint32' and run['qualifiers'] == {'Static': True}
    assert run['parameters']['Jobs'] == {'type': 'reference[]', 'reference_class': 'CIM_X',
                                         'array_size': None, 'qualifiers': {'Out': True}}
    assert run['parameters']['Codes']['array_size'] == 3
    assert decl['methods']['Empty']['parameters'] == {}


@pytest.mark.parametrize('text,message', [
    ('instance of Foo { Name = "x"; };', 'instance declarations are not supported'),
    ('class A { string x };', "line 1: expected ';', found '}'"),
    ('class A {\n uint99 x;\n};', 'line 2: expected a CIM data type'),
    ('[Key(] class A {};', 'expected a value'),
    ('#pragma include ("x.mof")\nclass A {};', '#pragma include is not supported'),
    ('class A : { };', 'expected a superclass name'),
    ('class A { string x; string X; };', 'declared twice'),
    ('class A { CIM_X REF r = $alias; };', 'default values of references are not supported'),
    ('association A { };', 'MOF 3 association declarations are not supported'),
    ('class A { string x = "unterminated; };', "unexpected character '\"'"),
    ('class A { string x; ', 'class A is not closed'),
    ('Qualifier Q : string, Scope(nowhere);', 'unknown scope NOWHERE'),
    ('Qualifier Q : string, Scope(class), Flavor(Sticky);', 'unknown flavor sticky'),
    ('class A { string s = "\\q"; };', 'invalid escape'),
    ('class A { uint8 n = 09; };', 'invalid octal number'),
])
def test_errors_name_the_line(text, message):
    with pytest.raises(mof.MOFParseError) as info:
        mof.parse(text)
    assert message in str(info.value)
    assert info.value.error_name == 'MOF_PARSE_ERROR'


def test_parse_one_wants_exactly_one():
    with pytest.raises(mof.MOFParseError, match='exactly one class declaration, not 2'):
        mof.parse_one('class A {}; class B {};', 'class')
    with pytest.raises(mof.MOFParseError, match='exactly one qualifier declaration'):
        mof.parse_one('class A {};', 'qualifier')
    with pytest.raises(mof.MOFParseError, match='none'):
        mof.parse_one('// nothing', 'class')
