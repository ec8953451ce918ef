# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run remembers about a WBEM endpoint between two tasks: the Interop namespace found
and which pull operations the server refused, so that the next task does not probe again.

A module on its own remembers nothing (each task is a new process). When the action plugins
of the collection run a module inside Ansible's worker process on the controller
(``plugins/plugin_utils/wbem_action.py``), they set :data:`CURRENT` to their endpoint cache:
an object with ``attach(conn, kwargs)``, called for every connection a module opens (with the
keyword arguments of :class:`~.operations.WBEMConnection`), which hands the connection what
is known about its endpoint (:func:`recall`) and reads back what it learned (:func:`learned`)
when the module is done. Nothing here holds or returns credentials.
"""

#: The endpoint cache of the action plugin running the module in-process, else None.
CURRENT = None


def attach(conn, kwargs):
    """Give ``conn`` (built from ``kwargs``) to the endpoint cache, if there is one."""
    if CURRENT is not None:
        CURRENT.attach(conn, kwargs)
    return conn


def learned(conn):
    """What ``conn`` found out about its endpoint: ``{'interop': name or None, 'pull':
    {operation family: True/False}}`` (JSON-serializable, no credentials)."""
    return {'interop': getattr(conn, 'known_interop', None),
            'pull': dict(conn._pull_state)}  # pylint: disable=protected-access


def recall(conn, state):
    """Hand ``conn`` what an earlier task learned about its endpoint (see :func:`learned`)."""
    if not isinstance(state, dict):
        return
    pull = state.get('pull')
    if isinstance(pull, dict):
        conn._pull_state.update((str(key), bool(value))  # pylint: disable=protected-access
                                for key, value in pull.items() if isinstance(value, bool))
    interop = state.get('interop')
    if isinstance(interop, str) and interop:
        conn.known_interop = interop
