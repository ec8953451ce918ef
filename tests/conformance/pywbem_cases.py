# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay pywbem's recorded client test cases against our WBEM client.

pywbem's sdist (1.9.x, from PyPI, downloaded into build/cache at test time and never
committed) holds ``tests/functiontest/*.yaml``: for each case the WBEMConnection method and
arguments, the exact HTTP request pywbem sends, the HTTP response a server gave, and the
result or exception pywbem returns. For each case we

1. build the arguments with OUR classes (the yaml names pywbem's constructors, which ours
   mirror),
2. run the operation on our WBEMConnection whose socket is replaced by one that records the
   bytes we send and plays back the recorded HTTP response (or raises the recorded network
   failure) -- everything above the socket, HTTP included, is ours,
3. compare our HTTP request with the recorded one: method, URL, the recorded CIM-XML headers
   (CIMObject after %-decoding, which DSP0200 requires of us) and the body as XML (attribute
   order, whitespace, order of IPARAMVALUE/PROPERTY/PARAMETER/KEYBINDING by NAME and the
   MESSAGE ID do not matter; embedded objects are compared as XML too),
4. compare our result (``==`` on our objects) or our exception with the expected one.

tests/conformance/skips.yml lists, each with its reason, the cases that are skipped (the
recording itself is wrong, so no client can pass them) and the deviations: cases that run,
request comparison included, but against the outcome our client deliberately gives instead of
pywbem's (``pywbem_response`` there replaces the recorded one).
"""

import codecs
import fcntl
import glob
import os
import socket
import ssl
import subprocess
import sys
import tarfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, 'build', 'cache')
PYWBEM_SPEC = 'pywbem==1.9.*'
SKIPS_FILE = os.path.join(HERE, 'skips.yml')


# ---------------------------------------------------------------- getting the cases

def _sdist_dir():
    """The sdist's functiontest directory, downloaded once: under a lock, since every
    pytest-xdist worker of `make test` collects the cases at the same time."""
    os.makedirs(CACHE, exist_ok=True)
    fd = os.open(os.path.join(CACHE, '.lock-pywbem-sdist'), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _sdist_dir_unlocked()
    finally:
        os.close(fd)


def _sdist_dir_unlocked():
    existing = sorted(glob.glob(os.path.join(CACHE, 'pywbem-1.9.*', 'tests', 'functiontest')))
    if existing:
        return existing[-1]
    archives = sorted(glob.glob(os.path.join(CACHE, 'pywbem-1.9.*.tar.gz')))
    if not archives:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps',
                        '--no-binary', ':all:', '--dest', CACHE, PYWBEM_SPEC], check=True,
                       stdout=subprocess.DEVNULL)
        archives = sorted(glob.glob(os.path.join(CACHE, 'pywbem-1.9.*.tar.gz')))
    if not archives:
        raise RuntimeError('pip download of %s did not produce an sdist' % PYWBEM_SPEC)
    with tarfile.open(archives[-1]) as tar:
        members = [m for m in tar.getmembers()
                   if '/tests/functiontest/' in m.name and m.name.endswith('.yaml')
                   and m.isfile() and '..' not in m.name]
        if hasattr(tarfile, 'data_filter'):
            tar.extractall(CACHE, members=members, filter='data')
        else:
            tar.extractall(CACHE, members=members)  # nosec - names checked above
    return sorted(glob.glob(os.path.join(CACHE, 'pywbem-1.9.*', 'tests', 'functiontest')))[-1]


class _Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """The pure-Python loader: it tolerates the invalid Unicode some cases contain."""


def load_cases():
    """[(case_id, case dict)] for every case of every yaml file, in file order."""
    directory = _sdist_dir()
    cases = []
    for path in sorted(glob.glob(os.path.join(directory, '*.yaml'))):
        with codecs.open(path, encoding='utf-8', errors='surrogateescape') as handle:
            data = yaml.load(handle, Loader=_Loader)  # nosec - SafeLoader subclass
        base = os.path.basename(path)[:-5]
        seen = set()
        for case in data or ():
            name = case['name']
            case_id = '%s::%s' % (base, name)
            while case_id in seen:
                case_id += '+'
            seen.add(case_id)
            cases.append((case_id, case))
    deviations = _load_list('deviations', [case_id for case_id, _case in cases])
    return [(case_id, dict(case, pywbem_response=deviations[case_id]['pywbem_response'])
             if case_id in deviations else case) for case_id, case in cases]


def _load_list(key, case_ids=None):
    """``{case id: entry}`` of one list of skips.yml; every entry names an existing case."""
    with open(SKIPS_FILE) as handle:
        data = yaml.safe_load(handle) or {}
    entries = {}
    for item in data.get(key) or []:
        if not item.get('reason'):
            raise ValueError('skips.yml: %s has no reason' % item.get('case'))
        entries[item['case']] = dict(item, reason=' '.join(item['reason'].split()))
    if case_ids is not None:
        unknown = sorted(set(entries) - set(case_ids))
        if unknown:
            raise ValueError('skips.yml names cases that do not exist: %s' % ', '.join(unknown))
    return entries


def load_skips(case_ids=None):
    """``{case id: reason}`` of the skipped cases."""
    return dict((case_id, entry['reason'])
                for case_id, entry in _load_list('skips', case_ids).items())


# ---------------------------------------------------------------- the fake socket

class FakeSocket(object):
    """Records what the client sends; answers with the recorded response bytes."""

    def __init__(self, response=None, fail=None):
        self.sent = b''
        self.response = response or b''
        self.fail = fail
        self.closed = False

    def settimeout(self, timeout):
        self.timeout = timeout

    def sendall(self, data):
        self.sent += bytes(data)
        if self.fail == 'ssl':
            raise ssl.SSLError(1, 'recorded SSL failure')
        if self.fail == 'reset':
            raise ConnectionResetError(104, 'Connection reset by peer')

    def recv(self, size):
        if self.fail == 'timeout':
            raise socket.timeout('timed out')
        data, self.response = self.response[:size], self.response[size:]
        return data

    def close(self):
        self.closed = True


def _http_response(http_response):
    status = http_response.get('status', 200)
    headers = http_response.get('headers') or {}
    body = http_response.get('data') or ''
    if isinstance(body, str):
        body = codecs.encode(body, 'utf-8', 'surrogatepass')
    lines = ['HTTP/1.1 %d %s' % (status, 'OK' if status == 200 else 'Error')]
    for name, value in headers.items():
        lines.append('%s: %s' % (name, value))
    lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


class Wire(object):
    """The socket_factory given to WBEMConnection for one case."""

    def __init__(self, http_response):
        self.http_response = http_response or {}
        self.sockets = []

    def __call__(self, address, timeout):
        self.address = address
        failure = self.http_response.get('exception')
        if failure == 'requests_connection_error':
            raise ConnectionRefusedError(111, 'Connection refused')
        if failure == 'requests_retry_error':
            raise socket.timeout('timed out (retries exhausted)')
        if failure == 'requests_read_timeout':
            sock = FakeSocket(fail='timeout')
        elif failure == 'requests_ssl_error':
            sock = FakeSocket(fail='ssl')
        elif failure == 'requests_http_error':
            sock = FakeSocket(response=b'HTTP/1.1 garbage\r\n\r\n')
        elif failure:
            raise ValueError('unknown recorded failure %r' % failure)
        else:
            sock = FakeSocket(response=_http_response(self.http_response))
        self.sockets.append(sock)
        return sock

    def last_request(self):
        """(method, path, headers dict (lower-case names), body) of the request sent."""
        if not self.sockets or not self.sockets[-1].sent:
            return None
        raw = self.sockets[-1].sent
        head, _sep, body = raw.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        method, path, _version = lines[0].split(' ', 2)
        headers = {}
        for line in lines[1:]:
            name, _sep, value = line.partition(':')
            headers[name.strip().lower()] = value.strip()
        return method, path, headers, body


# ---------------------------------------------------------------- XML comparison

SORTED_ELEMENTS = ('IPARAMVALUE', 'PROPERTY', 'PROPERTY.ARRAY', 'PROPERTY.REFERENCE',
                   'PARAMETER', 'KEYBINDING', 'PARAMVALUE')


def _norm(text):
    return ' '.join((text or '').split())


def _xml_tree(data):
    from lxml import etree  # pylint: disable=import-outside-toplevel
    if isinstance(data, str):
        data = codecs.encode(data, 'utf-8', 'surrogatepass')
    data = data.strip()
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)


def _canon(elem):
    """A comparable nested tuple of an element: sorted attributes, normalised text."""
    attrs = dict(elem.attrib)
    if elem.tag == 'MESSAGE':
        attrs.pop('ID', None)
    text = _norm(elem.text)
    if text and (elem.getparent() is not None) and (
            elem.getparent().get('EmbeddedObject') or elem.getparent().get('EMBEDDEDOBJECT')
            or (elem.getparent().getparent() is not None and (
                elem.getparent().getparent().get('EmbeddedObject')
                or elem.getparent().getparent().get('EMBEDDEDOBJECT')))):
        try:
            text = _canon(_xml_tree(elem.text))
        except Exception:  # pylint: disable=broad-except
            pass
    elif text and elem.tag == 'VALUE' and _declared_type(elem) in ('real32', 'real64'):
        # DSP0201 allows any real literal: 1.23450000E+04 (old pywbem) and 12345.0 are equal
        try:
            text = repr(float(text))
        except ValueError:
            pass
    children = [_canon(child) for child in elem]
    keyed = [(child[1].get('NAME', '') if child[0] in SORTED_ELEMENTS else None, child)
             for child in children]
    ordered = []
    run = []
    for key, child in keyed:
        if key is not None:
            run.append(child)
        else:
            ordered.extend(sorted(run, key=lambda c: (c[0], c[1].get('NAME', ''))))
            run = []
            ordered.append(child)
    ordered.extend(sorted(run, key=lambda c: (c[0], c[1].get('NAME', ''))))
    return (elem.tag, attrs, text, tuple(ordered))


def _declared_type(value):
    """The TYPE (or PARAMTYPE) of the element a VALUE belongs to (through VALUE.ARRAY)."""
    owner = value.getparent()
    if owner is not None and owner.tag == 'VALUE.ARRAY':
        owner = owner.getparent()
    if owner is None:
        return None
    return owner.get('TYPE') or owner.get('PARAMTYPE')


def xml_equal(actual, expected):
    """(equal, explanation)."""
    try:
        one = _canon(_xml_tree(actual))
        two = _canon(_xml_tree(expected))
    except Exception as exc:  # pylint: disable=broad-except
        return False, 'XML cannot be parsed: %s' % exc
    if one == two:
        return True, ''
    return False, 'XML differs:\n  ours:     %r\n  recorded: %r' % (one, two)


# ---------------------------------------------------------------- building objects

def _wbem():
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import (  # pylint: disable=import-outside-toplevel
        cim_obj, cim_types, exceptions, operations)
    return cim_obj, cim_types, exceptions, operations


def build(value):
    """Our object for a yaml value (``pywbem_object: Name`` + constructor arguments)."""
    cim_obj, cim_types, _exc, _ops = _wbem()
    if isinstance(value, dict):
        if 'pywbem_object' in value:
            name = value['pywbem_object']
            ctor = getattr(cim_obj, name, None) or getattr(cim_types, name, None)
            if ctor is None:
                raise ValueError('unknown pywbem_object %r' % name)
            kwargs = dict((key, build(val)) for key, val in value.items()
                          if key != 'pywbem_object')
            return ctor(**kwargs)
        return dict((key, build(val)) for key, val in value.items())
    if isinstance(value, list):
        return [build(item) for item in value]
    return value


# ---------------------------------------------------------------- running a case

class CaseFailure(AssertionError):
    """Our client does not behave as the recorded case expects."""


EXCEPTIONS = {
    'CIMError': 'CIMError', 'CIMXMLParseError': 'CIMXMLParseError',
    'XMLParseError': 'XMLParseError', 'HeaderParseError': 'HeaderParseError',
    'ConnectionError': 'WBEMConnectionError', 'TimeoutError': 'WBEMTimeoutError',
    'AuthError': 'AuthError', 'HTTPError': 'HTTPError', 'ParseError': 'ParseError',
    'VersionError': 'VersionError', 'CIMVersionError': 'CIMVersionError',
    'DTDVersionError': 'DTDVersionError', 'ProtocolVersionError': 'ProtocolVersionError',
}


def _exception_matches(exc, expected):
    _cim, _types, exceptions, _ops = _wbem()
    if expected == 'TypeError':
        return isinstance(exc, TypeError)
    if expected == 'ValueError':
        return isinstance(exc, ValueError)
    ours = getattr(exceptions, EXCEPTIONS.get(expected, expected), None)
    if ours is None:
        return False
    if expected == 'ConnectionError' and isinstance(exc, exceptions.WBEMTimeoutError):
        return False
    return isinstance(exc, ours)


def run_case(case):
    """Run one recorded case; raise CaseFailure when our client differs."""
    _cim, _types, exceptions, operations = _wbem()
    request = case['pywbem_request']
    expected = case.get('pywbem_response') or {}
    exp_http = case.get('http_request')
    wire = Wire(case.get('http_response'))
    creds = request.get('creds')
    conn = operations.WBEMConnection(
        request['url'], creds=tuple(creds) if creds else None,
        default_namespace=request.get('namespace'), timeout=request.get('timeout') or 30,
        allow_plain_http_auth=True, socket_factory=wire)
    conn.debug = bool(request.get('debug', False))
    operation = dict(request['operation'])
    method = operation.pop('pywbem_method')
    result = None
    raised = None
    try:
        args = dict((key, build(value)) for key, value in operation.items())
        result = getattr(conn, method)(**args)
        if method.startswith('Iter'):
            result = list(result)
    except Exception as exc:  # pylint: disable=broad-except
        raised = exc

    exp_exception = expected.get('exception')
    exp_status = expected.get('cim_status', 0) or 0
    if exp_status:
        exp_exception = 'CIMError'
    if exp_exception:
        if raised is None:
            raise CaseFailure('expected %s, but no exception was raised (result %r)'
                              % (exp_exception, result))
        if not _exception_matches(raised, exp_exception):
            raise CaseFailure('expected %s, got %s: %s' % (exp_exception,
                                                           type(raised).__name__, raised))
        if not isinstance(raised, exceptions.WBEMError) and not isinstance(
                raised, (TypeError, ValueError)):
            raise CaseFailure('not one of our error classes: %r' % raised)
    elif raised is not None:
        raise CaseFailure('unexpected %s: %s' % (type(raised).__name__, raised)) from raised

    if exp_http is not None and exp_exception not in ('TypeError', 'ValueError'):
        sent = wire.last_request()
        if sent is None and exp_exception in ('ConnectionError', 'TimeoutError') \
                and not wire.sockets:
            return  # the recorded failure happened while connecting: nothing was sent
        if sent is None:
            raise CaseFailure('no HTTP request was sent')
        method_sent, path, headers, body = sent
        if method_sent != exp_http.get('verb', 'POST'):
            raise CaseFailure('HTTP method %s, expected %s' % (method_sent, exp_http['verb']))
        url = '%s://%s:%d%s' % (conn.scheme, wire.address[0], wire.address[1], path)
        if url != exp_http.get('url'):
            raise CaseFailure('URL %s, expected %s' % (url, exp_http.get('url')))
        from urllib.parse import unquote  # pylint: disable=import-outside-toplevel
        for name, value in (exp_http.get('headers') or {}).items():
            ours = headers.get(name.lower())
            if ours is None or unquote(ours) != str(value):
                raise CaseFailure('header %s: %r, expected %r' % (name, ours, value))
        if exp_http.get('data'):
            equal, why = xml_equal(body, exp_http['data'])
            if not equal:
                raise CaseFailure('HTTP request body: %s' % why)

    if 'reply_len' in expected and raised is None:
        if conn.last_reply_len != expected['reply_len']:
            raise CaseFailure('reply length %d, expected %d' % (conn.last_reply_len,
                                                                expected['reply_len']))

    if isinstance(raised, exceptions.CIMError) or exp_status:
        status = getattr(raised, 'status_code', 0)
        if status != exp_status:
            raise CaseFailure('CIM status %s, expected %s' % (status, exp_status))
        exp_insts = build(expected.get('error_instances'))
        if raised.instances != exp_insts:
            raise CaseFailure('error instances %r, expected %r' % (raised.instances, exp_insts))

    if 'result' in expected and expected['result'] is not None:
        exp = build(expected['result'])
        actual = result
        if isinstance(actual, tuple):
            actual = list(actual)
        if isinstance(exp, list) and len(exp) == 2 and isinstance(exp[1], dict) \
                and method == 'InvokeMethod':
            from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.nocasedict import NocaseDict  # pylint: disable=import-outside-toplevel
            exp = [exp[0], NocaseDict(exp[1])]
        if isinstance(actual, list):
            actual = [list(item) if isinstance(item, tuple) else item for item in actual]
        if type(actual) is not type(exp):  # pylint: disable=unidiomatic-typecheck
            raise CaseFailure('result type %s, expected %s' % (type(actual).__name__,
                                                               type(exp).__name__))
        if actual != exp:
            raise CaseFailure('result differs:\n  ours:     %r\n  expected: %r' % (actual, exp))
    elif 'pullresult' in expected and expected['pullresult'] is not None:
        pull = expected['pullresult']
        if result.eos != pull['eos']:
            raise CaseFailure('eos %r, expected %r' % (result.eos, pull['eos']))
        exp_context = tuple(pull['context']) if pull.get('context') else None
        if result.context != exp_context:
            raise CaseFailure('context %r, expected %r' % (result.context, exp_context))
        key = 'instances' if 'instances' in pull else 'paths'
        exp = build(pull[key])
        if list(result[0]) != exp:
            raise CaseFailure('%s differ:\n  ours:     %r\n  expected: %r'
                              % (key, list(result[0]), exp))
        if 'query_result_class' in pull and pull['query_result_class'] is not None:
            if result.query_result_class != build(pull['query_result_class']):
                raise CaseFailure('query_result_class differs')
    elif raised is None and result is not None:
        raise CaseFailure('expected no result, got %r' % (result,))


def run_all(verbose=True):
    """Run every case; print failures and the closing line; return (passed, failed, skipped)."""
    cases = load_cases()
    skips = load_skips([case_id for case_id, _case in cases])
    passed = failed = skipped = 0
    for case_id, case in cases:
        if case_id in skips:
            skipped += 1
            if verbose:
                print('SKIP %s: %s' % (case_id, skips[case_id]))
            continue
        try:
            run_case(case)
        except Exception as exc:  # pylint: disable=broad-except
            failed += 1
            if verbose:
                print('FAIL %s: %s: %s' % (case_id, type(exc).__name__, exc))
        else:
            passed += 1
    print('conformance: %d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return passed, failed, skipped


if __name__ == '__main__':
    sys.path.insert(0, os.path.join(ROOT, 'build', 'collections'))
    sys.exit(1 if run_all()[1] else 0)
