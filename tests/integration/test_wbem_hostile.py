# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile WBEM servers must not exhaust the host that runs the client (issue 11).

Each case starts a server of tests/harness/hostile_http.py on 127.0.0.1 (it stops by itself
after a bounded time and amount of data) and runs one operation of the WBEM client against it
in a child process, which reports its peak RSS (VmHWM). Every case must end in the expected
clean error (class and name), within a generous multiple of the bound that applies, and with
a peak RSS under 150 MiB (the interpreter with lxml and the collection takes about 35 MiB).
The measured figures are printed (``pytest -s``) for the record.
"""

import pytest

pytest.importorskip('lxml')

# pylint: disable=wrong-import-position
from harness.hostile_http import HostileServer, run_client  # noqa: E402

PEAK_RSS_MIB = 150
TIMEOUT = 2.0          # the client's timeout for the cases the deadline ends
GENEROUS = 60.0        # the client's timeout where a size or count limit must end the case

# scenario, operation, client timeout, error class, error names, seconds allowed
CASES = [
    # the list keeps every path (about 5 bytes of memory per byte of CIM-XML)
    ('endless_items', 'EnumerateInstanceNames', GENEROUS, 'XMLParseError',
     ('TOO_MUCH_MEMORY',), 45),
    # the iterator keeps none: the size limit ends it
    ('endless_items', 'IterEnumerateInstancePaths', GENEROUS, 'XMLParseError',
     ('RESPONSE_TOO_LARGE', 'TOO_MANY_ELEMENTS'), 45),
    ('endless_body', 'EnumerateInstanceNames', GENEROUS, 'CIMXMLParseError',
     ('CIMXML_PARSE_ERROR',), 45),
    ('huge_content_length', 'EnumerateInstanceNames', GENEROUS, 'XMLParseError',
     ('RESPONSE_TOO_LARGE',), 45),
    ('huge_chain', 'EnumerateInstanceNames', GENEROUS, 'XMLParseError',
     ('TOO_MANY_ELEMENTS',), 45),
    # libxml2 refuses more than 256 levels within the same chunk before our limit of 128 sees it
    ('deep_nesting', 'EnumerateInstanceNames', GENEROUS, 'XMLParseError',
     ('TOO_DEEP', 'XML_PARSE_ERROR'), 45),
    ('giant_attribute', 'EnumerateInstanceNames', GENEROUS, 'XMLParseError',
     ('RESPONSE_TOO_LARGE', 'XML_PARSE_ERROR'), 45),
    ('continue_flood', 'EnumerateInstanceNames', GENEROUS, 'WBEMConnectionError',
     ('TOO_MANY_1XX_RESPONSES',), 45),
    # the deadline is the feature here: the error must come within 3x the timeout
    ('trickle', 'EnumerateInstanceNames', TIMEOUT, 'WBEMTimeoutError', ('TIMEOUT',),
     3 * TIMEOUT),
    ('continue_slow', 'EnumerateInstanceNames', TIMEOUT, 'WBEMTimeoutError', ('TIMEOUT',),
     3 * TIMEOUT),
]


@pytest.mark.parametrize('scenario,operation,timeout,error_class,error_names,seconds', CASES,
                         ids=['%s-%s' % (case[0], case[1]) for case in CASES])
def test_hostile_server(scenario, operation, timeout, error_class, error_names, seconds):
    # the iterator (traditional operation) with a smaller size limit, to be quick under load
    options = ({'use_pull_operations': False, 'max_response_size': 16 * 1048576}
               if operation.startswith('Iter') else {})
    with HostileServer(scenario, max_seconds=40) as server:
        result = run_client('http://127.0.0.1:%d' % server.port, operation, timeout=timeout,
                            options=options)
        sent = sum(server.sent)
    print('\n%s/%s: %s %s after %.2f s, peak RSS %.1f MiB, server sent %.1f MiB: %s'
          % (scenario, operation, result['error_class'], result['error_name'],
             result['seconds'], result['peak_rss_mib'], sent / 1048576.0, result['message']))
    assert (result['error_class'], result['error_name']) in [
        (error_class, name) for name in error_names], result
    assert result['seconds'] <= seconds, result
    assert result['peak_rss_mib'] < PEAK_RSS_MIB, result


def test_a_large_valid_response_within_the_limits_is_a_result():
    """The reference: 60,000 paths (8 MiB, 180,000 elements) are below every limit."""
    with HostileServer('many_items', max_seconds=40) as server:
        result = run_client('http://127.0.0.1:%d' % server.port, 'EnumerateInstanceNames',
                            timeout=GENEROUS)
    print('\nmany_items: %s paths after %.2f s, peak RSS %.1f MiB'
          % (result['result_count'], result['seconds'], result['peak_rss_mib']))
    assert result['error_class'] is None, result
    assert result['result_count'] == 60000
    assert result['peak_rss_mib'] < PEAK_RSS_MIB, result
