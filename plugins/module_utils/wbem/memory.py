# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run remembers about a WBEM endpoint between two tasks: the Interop namespace found,
which pull operations the server refused, and the system keys of its object manager
(SystemCreationClassName, SystemName: the keys of indication filters and destinations), so that
the next task does not probe or read them again.

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
    {operation family: True/False}, 'system': [SystemCreationClassName, SystemName] or None}``
    (JSON-serializable, no credentials)."""
    system = getattr(conn, 'known_system', None)
    return {'interop': getattr(conn, 'known_interop', None),
            'pull': dict(conn._pull_state),  # pylint: disable=protected-access
            'system': list(system) if system else None}


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
    system = state.get('system')
    if isinstance(system, list) and len(system) == 2 and \
            all(isinstance(item, str) and item for item in system):
        conn.known_system = list(system)
