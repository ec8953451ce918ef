# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quirk modes of the test CIMOM, switchable at start and at run time through a JSON file.

The server reads the quirk file (``<state dir>/quirks.json``) again whenever it changes, before
each request, so a test that rewrites it (atomically: :func:`write_quirks`) sees the new
behaviour on its very next request. The file holds one JSON object, quirk name -> setting.
A setting is either a plain value (``"delay": 2.5``, ``"http_500": true``) or an object with
the quirk's parameters and these optional filters:

``operations``
    list of operation names (``GetInstance``, ``InvokeMethod``, ...) or extrinsic method names
    (``RequestStateChange``) the quirk applies to; default: every request it can apply to.
``classes``
    list of class names (the class of the request's target, case-insensitive).
``times``
    apply to the first N matching requests only (counted from the last change of the file).

Quirks (see :data:`QUIRKS`):

``empty_ireturnvalue``
    operations without a return value (ModifyInstance, DeleteInstance, CreateClass,
    ModifyClass, DeleteClass, SetQualifier, DeleteQualifier, CloseEnumeration) answer with an
    empty ``<IRETURNVALUE/>``, as some brokers do (pywbem itself rejects that).
``omit_empty_ireturnvalue``
    an empty result list is answered without an IRETURNVALUE element at all.
``single_namespace_element``
    namespace paths in responses are one ``<NAMESPACE NAME="root/cimv2"/>`` element instead of
    one element per path component.
``compact_empty_elements``
    write empty elements in the short form ``<IRETURNVALUE/>`` (as minidom does). By default
    the server writes ``<IRETURNVALUE></IRETURNVALUE>`` like OpenPegasus and SFCB, because
    sblim-wbemcli cannot parse the short form.
``no_pull``
    the pull operations (Open*, Pull*, CloseEnumeration) fail with CIM_ERR_NOT_SUPPORTED, or
    with the status given as value (``"no_pull": "CIM_ERR_FAILED"``), like servers without pull.
``delay``
    seconds to wait before the response is sent (the operation itself is carried out first).
``reset``
    send the status line, the headers and ``fraction`` (default 0.5) of the body, then reset
    the TCP connection (RST).
``http_500``
    answer ``500 Internal Server Error`` with an HTML body and a ``PGErrorDetail`` header.
``always_401``
    answer ``401 Unauthorized`` whatever the credentials.
``cim_error``
    answer with an ERROR element instead of carrying out the operation: value or ``code`` =
    status (name or number, e.g. ``CIM_ERR_ACCESS_DENIED``), optional ``description``.
``raw_response``
    send this response verbatim: ``status`` (200), ``content_type``
    (``application/xml; charset="utf-8"``), ``body`` (text) or ``body_base64``, ``headers``.
``chunked``
    send the body with ``Transfer-Encoding: chunked`` in chunks of ``chunk_size`` (default
    100) bytes; with ``trailers: true`` also the CIMStatusCode trailer (OpenPegasus style).
``close``
    answer with ``Connection: close`` and close the connection after each response.
``readonly_indications``
    filters and listener destinations cannot be modified (CIM_ERR_NOT_SUPPORTED) and of a
    subscription only SubscriptionState, as in OpenPegasus.
``override_indication_keys``
    new filters and destinations get the server's SystemName and SystemCreationClassName
    whatever the client sent, as OpenPegasus does. With a string as value, that string is
    their SystemName: another name than the one CIM_ObjectManager reports, as a broker whose
    indication provider knows the host by another name.
``modify_drops_unlisted``
    a ModifyInstance with a PropertyList is carried out, then the instance keeps only the
    listed properties, as a broker does that stores what the request lists and drops the rest:
    the keys too, so the instance is stored under a path of the listed keys and a GetInstance
    by its old path fails with CIM_ERR_NOT_FOUND (with no key listed the instance is gone: nothing
    could address it); with ``keep_keys: true`` only the non-key
    properties are dropped. A ModifyInstance without a PropertyList is not affected.
``ignore_writes``
    the writes without a return value (ModifyInstance, DeleteInstance, CreateClass,
    ModifyClass, DeleteClass, SetQualifier, DeleteQualifier) answer success without being
    carried out, as a sloppy broker that accepts what it does not do.
``upper_parameter_qualifiers``
    GetClass and EnumerateClasses return the qualifier names of method parameters in upper
    case (``IN``, ``OUT``), as some brokers do (CIM names are case-insensitive).
``qualifier_no_isarray``
    GetQualifier and EnumerateQualifiers return qualifier declarations without the ``ISARRAY``
    attribute (DSP0201: #IMPLIED); an array declaration still has its default as VALUE.ARRAY,
    as a broker seen in the field does.
"""

import json
import os
import tempfile
import threading

QUIRKS = ('empty_ireturnvalue', 'omit_empty_ireturnvalue', 'single_namespace_element', 'compact_empty_elements',
          'no_pull', 'delay', 'reset', 'http_500', 'always_401', 'cim_error', 'raw_response', 'chunked', 'close',
          'readonly_indications', 'override_indication_keys', 'modify_drops_unlisted',
          'ignore_writes', 'upper_parameter_qualifiers', 'qualifier_no_isarray')

_FILTERS = ('operations', 'classes', 'times')


def normalize(quirks):
    """Check a quirk mapping and return ``{name: {'value': ..., params..., filters...}}``."""
    result = {}
    for name, setting in (quirks or {}).items():
        if name not in QUIRKS:
            raise ValueError('unknown quirk %r (known: %s)' % (name, ', '.join(QUIRKS)))
        if isinstance(setting, dict):
            config = dict(setting)
            config.setdefault('value', True)
        else:
            config = {'value': setting}
        if config['value'] in (None, False, 0):
            continue
        for key in ('operations', 'classes'):
            if config.get(key) is not None:
                if isinstance(config[key], str):
                    config[key] = [config[key]]
                config[key] = [str(item).lower() for item in config[key]]
        result[name] = config
    return result


def write_quirks(path, quirks):
    """Replace the quirk file atomically (the server never reads a half-written file)."""
    data = json.dumps(normalize(quirks), indent=1, sort_keys=True)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.quirks-', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class QuirkState(object):
    """The quirks in force, re-read from the quirk file when it changes."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._stamp = None
        self._quirks = {}
        self._used = {}

    def current(self):
        with self._lock:
            try:
                stat = os.stat(self.path)
                stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            except OSError:
                stamp = None
            if stamp != self._stamp:
                quirks = {}
                if stamp is not None:
                    with open(self.path, encoding='utf-8') as handle:
                        text = handle.read()
                    quirks = normalize(json.loads(text) if text.strip() else {})
                self._quirks, self._stamp, self._used = quirks, stamp, {}
            return self._quirks

    def value(self, name):
        """The setting of quirk ``name`` regardless of filters (for providers), or None."""
        config = self.current().get(name)
        return None if config is None else config['value']

    def match(self, name, operation=None, method=None, classname=None):
        """The config of quirk ``name`` if it applies to this request (counts ``times``)."""
        config = self.current().get(name)
        if config is None:
            return None
        operations = config.get('operations')
        if operations is not None:
            names = [n.lower() for n in (operation, method) if n]
            if not any(n in operations for n in names):
                return None
        classes = config.get('classes')
        if classes is not None and (classname or '').lower() not in classes:
            return None
        times = config.get('times')
        if times is not None:
            with self._lock:
                used = self._used.get(name, 0)
                if used >= int(times):
                    return None
                self._used[name] = used + 1
        return config
