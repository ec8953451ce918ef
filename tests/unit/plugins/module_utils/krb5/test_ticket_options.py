# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The no-change decision of krb5_ticket's ticket options (flags, recorded request, postdating)
and the start_time forms; the tickets themselves are tested against the KDC in the krb5_ticket
integration target (tasks/options.yml)."""

import os
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import InvalidInputError
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import acquire, ticket, util


def _info(flags=('initial',), principal='a@R', end_in=7200, start_in=0):
    now = util.now()
    flags = list(flags)
    tgt = {'end_epoch': now + end_in, 'start_epoch': now + start_in, 'renew_till_epoch': None,
           'flags': flags, 'server': 'krbtgt/R@R'}
    return {'state': 'present', 'exists': True, 'principal': principal, 'tgt': tgt,
            'tgt_valid': end_in > 0 and 'invalid' not in flags}


def _plan(info, record=None, validate=False, requested='a@R', principal='a@R', **options):
    request = ticket.TicketRequest(principal=principal, min_lifetime=3600, validate=validate,
                                   options=acquire.TicketOptions(**options))
    request.requested = requested
    return ticket.plan_present(request, info, record)


@pytest.mark.parametrize('info,record,kwargs,action', [
    # Unset options are not compared.
    (_info(['forwardable']), None, {}, 'none'),
    (_info(), None, {'forwardable': True}, 'acquire'),
    (_info(['forwardable']), None, {'forwardable': True}, 'none'),
    (_info(['forwardable']), None, {'forwardable': False}, 'acquire'),
    (_info(['proxiable']), None, {'proxiable': False}, 'acquire'),
    (_info(['proxiable', 'forwardable']), None, {'proxiable': True, 'forwardable': True}, 'none'),
    # A cache without a record counts as addressless and not canonicalized.
    (_info(), None, {'address_restricted': True}, 'acquire'),
    (_info(), {'addresses': True}, {'address_restricted': True}, 'none'),
    (_info(), {'addresses': True}, {}, 'acquire'),
    (_info(), None, {'canonicalize': True}, 'acquire'),
    (_info(), {'canonicalize': True, 'name': 'a@R'}, {'canonicalize': True}, 'none'),
    (_info(), {'canonicalize': True, 'name': 'a@R'}, {'canonicalize': False}, 'acquire'),
    (_info(), None, {'anonymous': True}, 'acquire'),
    # Postdated tickets.
    (_info(), None, {'start_time': 60}, 'acquire'),
    (_info(['postdated', 'invalid'], start_in=3600), None, {'start_time': 60}, 'none'),
    (_info(['postdated', 'invalid'], start_in=3600), None, {'start_time': 60, 'validate': True}, 'none'),
    (_info(['postdated', 'invalid'], start_in=-1), None, {'start_time': 60, 'validate': True}, 'validate'),
    (_info(['postdated', 'invalid'], start_in=-1), None, {'validate': True}, 'validate'),
    (_info(['postdated', 'invalid'], start_in=-1), None, {'start_time': 60}, 'none'),
    (_info(['postdated', 'invalid'], start_in=3600), None, {}, 'acquire'),
    (_info(['postdated'], start_in=-5), None, {'start_time': 60, 'validate': True}, 'none'),
    (_info(['postdated', 'invalid'], start_in=-1, end_in=-1), None, {'validate': True}, 'acquire'),
])
def test_options_decide(info, record, kwargs, action):
    validate = kwargs.pop('validate', False)
    assert _plan(info, record, validate=validate, **kwargs)[0] == action


def test_recorded_name_keeps_a_canonicalized_client():
    """enterprise/canonicalize: the KDC's client may differ; the record of the request decides."""
    info = _info(principal='alice@R')
    asked = 'alice\\@example.org@R'
    assert _plan(info, {'name': asked}, requested=asked, principal=asked, enterprise=True)[0] == 'none'
    assert _plan(info, {'name': 'bob\\@example.org@R'}, requested=asked, principal=asked,
                 enterprise=True)[0] == 'acquire'
    assert _plan(info, None, requested=asked, principal=asked, enterprise=True)[0] == 'acquire'


def test_anonymous_tgt_of_another_realm_is_replaced():
    anon = 'WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS'
    info = _info(['anonymous'], principal=anon)
    assert _plan(info, None, requested='WELLKNOWN/ANONYMOUS@R', principal=anon,
                 anonymous=True)[0] == 'none'
    assert _plan(info, None, requested='WELLKNOWN/ANONYMOUS@OTHER', principal=anon,
                 anonymous=True)[0] == 'acquire'


def test_record_names_no_secret_and_the_options():
    options = acquire.TicketOptions(address_restricted=True, canonicalize=True,
                                    pkinit_identity='FILE:/c.pem,/k.pem')
    record = options.record('a@R')
    assert b'/k.pem' not in record
    assert record == b'{"addresses": true, "canonicalize": true, "enterprise": false, "name": "a@R"}'
    assert options.needs_library and not acquire.TicketOptions().needs_library
    assert acquire.TicketOptions().settings == {'noaddresses': 'true'}


def test_start_time_forms():
    assert util.parse_start_time(None) is None
    assert util.parse_start_time('5m') == 300
    assert util.parse_start_time(90) == 90
    future = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime('%Y-%m-%dT%H:%M:%SZ')
    assert 7100 < util.parse_start_time(future) <= 7200
    for bad in ('0', 'soon', '2001-01-01T00:00:00Z', '2030-13-01T00:00:00Z', True):
        with pytest.raises(InvalidInputError):
            util.parse_start_time(bad)


def test_overlay_carries_noaddresses(monkeypatch, tmp_path):
    conf = tmp_path / 'krb5.conf'
    conf.write_text('[libdefaults]\n')
    monkeypatch.setenv('KRB5_CONFIG', str(conf))
    with util.libdefaults_overlay('R', settings={'noaddresses': 'false'}):
        first = os.environ['KRB5_CONFIG'].split(os.pathsep)[0]
        with open(first) as handle:
            text = handle.read()
    assert 'noaddresses = false' in text and '\tR = {' in text
    assert os.environ['KRB5_CONFIG'] == str(conf)
