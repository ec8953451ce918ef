# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint cache of the wbem action plugins (no server: connections are never used)."""

import contextlib
import os
import stat

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import memory
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.module_args import connection_from_params
from ansible_collections.hostsec.mgmt.plugins.plugin_utils.wbem_action import EndpointCache

PASSWORD = 's3cret-pass-for-the-key-test'
PARAMS = {'server': 'https://127.0.0.1:5989', 'username': 'admin', 'password': PASSWORD}


def connect(params):
    return connection_from_params(dict(PARAMS, **params))


@contextlib.contextmanager
def task(directory):
    """One task of a run, as the action plugin runs it: the module's connections attached to
    an endpoint cache in ``directory``, which saves what they learned when the task ends."""
    cache = EndpointCache(str(directory))
    memory.CURRENT = cache
    try:
        yield cache
    finally:
        memory.CURRENT = None
    cache.save()


def test_what_one_task_learns_the_next_task_knows(tmp_path):
    with task(tmp_path):
        conn = connect({})
        conn.known_interop = 'root/interop'
        conn._pull_state['enum'] = False  # pylint: disable=protected-access
        conn.known_system = ['CIM_ComputerSystem', 'cimom.example.org']
    (name,) = os.listdir(str(tmp_path))
    mode = os.stat(str(tmp_path / name)).st_mode
    assert stat.S_IMODE(mode) == 0o600
    text = (tmp_path / name).read_text()
    assert PASSWORD not in name and PASSWORD not in text and 'admin' not in text

    with task(tmp_path):
        same = connect({})
        other_user = connect({'username': 'other'})
        other_password = connect({'password': 'another one'})
    assert same.known_interop == 'root/interop'
    assert same._pull_state == {'enum': False}  # pylint: disable=protected-access
    assert same.known_system == ['CIM_ComputerSystem', 'cimom.example.org']
    for conn in (other_user, other_password):
        assert getattr(conn, 'known_interop', None) is None
        assert getattr(conn, 'known_system', None) is None
        assert conn._pull_state == {}  # pylint: disable=protected-access


def test_keys_are_salted_hashes(tmp_path):
    kwargs = {'url': 'https://127.0.0.1:5989', 'creds': ('admin', PASSWORD)}
    one = EndpointCache(str(tmp_path), salt=b'a' * 16).key(kwargs)
    assert one == EndpointCache(str(tmp_path), salt=b'a' * 16).key(kwargs)
    assert one != EndpointCache(str(tmp_path), salt=b'b' * 16).key(kwargs)
    assert len(one) == 64 and PASSWORD not in one


def test_without_a_cache_nothing_is_remembered():
    conn = connect({})
    assert getattr(conn, 'known_interop', None) is None and memory.CURRENT is None


def test_a_later_task_keeps_what_an_earlier_one_learned(tmp_path):
    """A task that learns only the system keys does not drop the Interop namespace and pull
    states learned before."""
    with task(tmp_path):
        conn = connect({})
        conn.known_interop = 'interop'
        conn._pull_state['enum'] = True  # pylint: disable=protected-access
    with task(tmp_path):
        conn = connect({})
        conn.known_system = ['CIM_ComputerSystem', 'node1']
    with task(tmp_path):
        conn = connect({})
    assert conn.known_interop == 'interop' and conn.known_system == ['CIM_ComputerSystem', 'node1']
    assert conn._pull_state == {'enum': True}  # pylint: disable=protected-access


def test_recall_ignores_malformed_system_keys():
    conn = connect({})
    for bad in (['only-one'], 'CIM_ComputerSystem', [1, 2], ['', 'x'], None):
        memory.recall(conn, {'system': bad})
        assert getattr(conn, 'known_system', None) is None
