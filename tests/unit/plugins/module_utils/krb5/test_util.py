# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations, the krb5.conf overlay, cache names and the krb5_ticket decision table."""

import os

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import InvalidInputError
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import ticket, util
from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.ccache import CcacheName


@pytest.mark.parametrize('text,seconds', [
    (3600, 3600), ('3600', 3600), ('90m', 5400), ('10h', 36000), ('1d12h', 129600),
    ('7d', 604800), ('2:30', 9000), ('1:00:05', 3605), ('1h30m', 5400), ('45s', 45), (None, None)])
def test_parse_duration(text, seconds):
    assert util.parse_duration(text) == seconds


@pytest.mark.parametrize('text', ['', 'soon', '-5', True, '10 hours', '1:75'])
def test_parse_duration_rejects(text):
    with pytest.raises(InvalidInputError):
        util.parse_duration(text)


def test_format_duration_round_trips():
    for seconds in (0, 59, 3600, 5400, 129600, 604800, 90061):
        assert util.parse_duration(util.format_duration(seconds)) == seconds


def test_overlay_is_first_and_removed(monkeypatch, tmp_path):
    site = tmp_path / 'krb5.conf'
    site.write_text('[libdefaults]\n\tticket_lifetime = 1h\n')
    monkeypatch.setenv('KRB5_CONFIG', str(site))
    with util.libdefaults_overlay('EXAMPLE.ORG', 7200, 0):
        paths = os.environ['KRB5_CONFIG'].split(os.pathsep)
        assert paths[1] == str(site)
        with open(paths[0]) as handle:
            text = handle.read()
        assert 'ticket_lifetime = 2h' in text and 'renew_lifetime = 0s' in text
        assert 'EXAMPLE.ORG = {' in text
    assert os.environ['KRB5_CONFIG'] == str(site)
    assert not os.path.exists(paths[0])


def test_overlay_skips_a_hostile_realm_name(monkeypatch):
    monkeypatch.delenv('KRB5_CONFIG', raising=False)
    with util.libdefaults_overlay('EVIL}\n[realms', 60, None):
        path = os.environ['KRB5_CONFIG'].split(os.pathsep)[0]
        with open(path) as handle:
            assert '[realms' not in handle.read()
    assert 'KRB5_CONFIG' not in os.environ


@pytest.mark.parametrize('name,kind,path,collection', [
    ('/tmp/cc', 'FILE', '/tmp/cc', False), ('FILE:/tmp/cc', 'FILE', '/tmp/cc', False),
    ('DIR:/run/cc', 'DIR', None, True), ('DIR::/run/cc/tktA', 'DIR', '/run/cc/tktA', False),
    ('KEYRING:persistent:0', 'KEYRING', None, True), ('MEMORY:x', 'MEMORY', None, False)])
def test_ccache_names(name, kind, path, collection):
    ref = CcacheName(name)
    assert (ref.type, ref.path, ref.is_collection) == (kind, path, collection)


@pytest.mark.parametrize('name,collection,is_collection,is_member', [
    ('FILE:/tmp/cc', None, False, False),
    ('DIR:/run/cc', 'DIR:/run/cc', True, False),
    ('DIR::/run/cc/tktA', 'DIR:/run/cc', False, True),
    ('KEYRING:persistent:1000', 'KEYRING:persistent:1000', True, False),
    ('KEYRING:persistent:1000:krb_ccache_X', 'KEYRING:persistent:1000', False, True),
    ('KEYRING:session:name', 'KEYRING:session:name', True, False),
    ('KEYRING:session:name:tkt', 'KEYRING:session:name', False, True),
    ('KCM:', 'KCM:', True, False), ('KCM:0:1234', 'KCM:', False, True)])
def test_collection_of_a_cache_name(name, collection, is_collection, is_member):
    ref = CcacheName(name)
    assert (ref.collection, ref.is_collection, ref.is_member) == (collection, is_collection,
                                                                  is_member)


def _info(end_in, renew_in=None, flags=('initial',), principal='a@R', valid=True):
    now = util.now()
    flags = list(flags) + (['renewable'] if renew_in is not None else [])
    tgt = {'end_epoch': now + end_in, 'renew_till_epoch': now + renew_in if renew_in else None,
           'flags': flags}
    return {'state': 'present', 'exists': True, 'principal': principal, 'tgt': tgt,
            'tgt_valid': valid and end_in > 0}


@pytest.mark.parametrize('info,request_args,action', [
    ({'state': 'absent', 'exists': False}, {}, 'acquire'),
    ({'state': 'invalid', 'exists': True}, {}, 'acquire'),
    (_info(7200), {}, 'none'),
    (_info(7200), {'force': True}, 'acquire'),
    (_info(7200, principal='b@R'), {}, 'acquire'),
    (dict(_info(7200), tgt=None), {}, 'acquire'),
    (_info(7200), {'renewable': True}, 'acquire'),
    (_info(1800), {}, 'acquire'),
    (_info(1800, renew_in=86400), {}, 'renew'),
    (_info(1800, renew_in=1900), {}, 'acquire'),
    (_info(-10, renew_in=86400), {}, 'acquire'),
    (_info(7200, renew_in=86400), {'renewable': True}, 'none'),
])
def test_plan_present(info, request_args, action):
    request = ticket.TicketRequest(principal='a@R', min_lifetime=3600, **request_args)
    assert ticket.plan_present(request, info)[0] == action


def test_request_validation():
    with pytest.raises(InvalidInputError):
        ticket.TicketRequest(principal='a', lifetime=600, min_lifetime=3600)
    with pytest.raises(InvalidInputError):
        ticket.TicketRequest(principal='a', password='x', keytab='/k')
    assert ticket.TicketRequest(principal='a').renew_lifetime_request == 0
    assert ticket.TicketRequest(principal='a', renewable=True).renew_lifetime_request is None
    assert ticket.TicketRequest(principal='a', renew_lifetime=60).renew_lifetime_request == 60
