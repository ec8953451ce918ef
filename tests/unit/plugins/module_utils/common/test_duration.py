# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one duration type: the same forms in every domain."""

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.duration import (
    format_duration, parse_duration)
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import InvalidInputError
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import util as krb5_util
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy import args as myproxy_args
from ansible_collections.hostsec.mgmt.plugins.module_utils.myproxy.errors import MyProxyInputError

FORMS = [(3600, 3600), ('3600', 3600), (7200.0, 7200), ('90m', 5400), ('12h', 43200),
         ('1d12h', 129600), ('1h 30m', 5400), ('1H30M', 5400), ('2w', 1209600), ('45s', 45),
         ('2:30', 9000), ('1:00:05', 3605), ('0', 0)]
BAD = ['', 'soon', '12x', 'h', '1h1', '10 hours', '1:75', True, [1], 1.5, None]


@pytest.mark.parametrize('value,seconds', FORMS)
def test_every_domain_reads_the_same_forms(value, seconds):
    assert parse_duration(value, 'lifetime') == seconds
    assert krb5_util.parse_duration(value, 'lifetime') == seconds
    if seconds:
        assert myproxy_args.parse_duration(value, 'lifetime') == seconds


@pytest.mark.parametrize('value', BAD)
def test_every_domain_refuses_the_same_forms(value):
    with pytest.raises(InvalidInputError) as caught:
        parse_duration(value, 'lifetime')
    assert 'lifetime' in str(caught.value)
    with pytest.raises(MyProxyInputError):
        myproxy_args.parse_duration(value, 'lifetime')
    if value is not None:
        with pytest.raises(InvalidInputError):
            krb5_util.parse_duration(value, 'lifetime')


def test_none_zero_negative_and_maximum():
    assert parse_duration(None, 'lifetime', none_ok=True) is None
    with pytest.raises(InvalidInputError, match='negative'):
        parse_duration('-5', 'lifetime')
    with pytest.raises(InvalidInputError, match='more than zero'):
        parse_duration(0, 'lifetime', allow_zero=False)
    with pytest.raises(InvalidInputError, match='must not exceed 1d'):
        parse_duration('2d', 'lifetime', maximum=86400)


def test_format_round_trips():
    for seconds in (0, 59, 3600, 5400, 129600, 604800, 90061):
        assert parse_duration(format_duration(seconds), 'x') == seconds
