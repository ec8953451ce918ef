# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin of every wbem module: run the module inside Ansible's worker process when
the task runs on the controller, as an ordinary module everywhere else.

A WBEM endpoint never runs Python: the wbem modules always talk to the CIM server from the
controller (``connection: local``, ``delegate_to: localhost``) or from a jump host that
reaches it. On the controller, starting a Python interpreter and shipping an AnsiballZ
payload per host and task costs far more than the CIM operation itself. So when the task's
connection is ``local`` (and there is no ``become``, no ``async``), :class:`WbemAction` runs
the module's ``main()`` in the worker process that Ansible forked for this host and task:

- the module gets exactly the arguments it would get as a process (``_update_module_args``:
  check mode, diff, no_log, verbosity ...; ``module_defaults`` are already merged by then),
  serialized with the same profile, and the task's ``environment`` (the ``WBEM_*`` fallbacks);
- its output (the JSON it prints, with no_log values masked by AnsibleModule itself) goes
  through the same parsing as a module's stdout (``_parse_returned_data``), so the result has
  the same keys, warnings, deprecations, diff and invocation as on the module path;
- the worker is a throwaway fork, so the module's global state never leaks into another task.

The module code (and lxml) is imported when the action plugin is loaded; Ansible's strategy
loads the action plugin in the main process before it forks the workers, so each worker
starts with everything imported.

Any other connection (``ssh``, ``delegate_to`` a managed host, a test connection ...), a task
with ``become`` or ``async``, an ansible-core without the module serialization profiles
(before 2.19), a controller Python without lxml, or the variable
``hostsec_wbem_execution: module`` runs the module the ordinary way on the target host.

Endpoint memory: a connection learns the endpoint's Interop namespace, whether the server
refuses the pull operations and the system keys of its object manager
(module_utils/wbem/memory.py). :class:`EndpointCache` keeps that
per endpoint (URL and credentials, hashed with a per-run salt: the password is never a key in
clear) in a file in Ansible's per-run local temporary directory (``DEFAULT_LOCAL_TMP``, 0700,
removed when the run ends), so the next task on the same endpoint does not probe again.
Connections themselves cannot outlive a task: each task runs in a worker process of its own.
"""

import contextlib
import hashlib
import io
import json
import os
import tempfile

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

try:
    from ansible.module_utils import basic as _basic
    from ansible.module_utils.common.json import Direction, get_module_encoder
    from ansible.vars.clean import remove_internal_keys
except ImportError:  # ansible-core < 2.19: the module path only
    get_module_encoder = None

from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML
from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import memory

display = Display()

#: Task variable that chooses where the module runs: ``auto`` (in-process on the controller
#: when the connection is local, else on the target) or ``module`` (always as a module).
EXECUTION_VAR = 'hostsec_wbem_execution'
EXECUTION_CHOICES = ('auto', 'module')
#: Serialization profile of the wbem modules (they declare none: ansible-core's default).
PROFILE = 'legacy'
#: The JSON encoders of the module protocol, made once (each call of get_module_encoder
#: builds new classes, ~10 ms) in the main process before the workers fork.
_ENCODERS = {} if get_module_encoder is None else {
    direction: get_module_encoder(PROFILE, direction)
    for direction in (Direction.CONTROLLER_TO_MODULE, Direction.MODULE_TO_CONTROLLER)}
#: Salt of the endpoint keys, made once per ansible process (before the workers fork).
_SALT = os.urandom(16)
_CACHE_PREFIX = 'hostsec-wbem-endpoint-'


class EndpointCache(object):
    """What the connections of a run learned, per endpoint, in files under ``directory``."""

    def __init__(self, directory, salt=_SALT):
        self.directory = directory
        self.salt = salt
        self.attached = []

    def key(self, kwargs):
        """Hex key of an endpoint: URL, credentials and TLS material, salted and hashed."""
        creds = kwargs.get('creds')
        identity = [kwargs.get('url'), list(creds) if creds else None, kwargs.get('x509'),
                    kwargs.get('ca_certs'), bool(kwargs.get('validate_certs', True))]
        digest = hashlib.sha256(self.salt)
        digest.update(json.dumps(identity, sort_keys=True, default=str).encode('utf-8'))
        return digest.hexdigest()

    def _path(self, key):
        return os.path.join(self.directory, _CACHE_PREFIX + key + '.json')

    def load(self, key):
        try:
            with open(self._path(key), encoding='utf-8') as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def attach(self, conn, kwargs):
        """Called by module_args.connection_from_params for every connection of the module."""
        key = self.key(kwargs)
        state = self.load(key)
        if state is not None:
            memory.recall(conn, state)
        self.attached.append((key, conn, state))

    def save(self):
        """Write what the attached connections learned (atomically, 0600, never through a
        symlink: a new file in the 0700 directory, renamed over the old one)."""
        for key, conn, before in self.attached:
            state = memory.learned(conn)
            if before is not None:
                merged = dict(before.get('pull') or {})
                merged.update(state['pull'])
                state = {'interop': state['interop'] or before.get('interop'), 'pull': merged,
                         'system': state['system'] or before.get('system')}
            if state == before or not (state['interop'] or state['pull'] or state['system']):
                continue
            fd, tmp = tempfile.mkstemp(prefix='.' + _CACHE_PREFIX, dir=self.directory)
            try:
                with os.fdopen(fd, 'w', encoding='utf-8') as handle:
                    json.dump(state, handle)
                os.replace(tmp, self._path(key))
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


class WbemAction(ActionBase):
    """Base of the action plugins ``plugins/action/wbem_*.py``; ``MODULE`` is the module
    object (``plugins/modules/wbem_*.py`` imported as a Python module)."""

    MODULE = None
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        task_vars = task_vars or {}
        reason = self._module_path_reason(task_vars)
        if reason is None:
            display.vvv('%s: in-process on the controller' % self._task.action,
                        host=self._play_context.remote_addr)
            return merge_hash(result, self._run_in_process(task_vars))
        display.vvv('%s: as a module (%s)' % (self._task.action, reason),
                    host=self._play_context.remote_addr)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _module_path_reason(self, task_vars):
        """Why the module has to run as a module (a string), or None to run it in-process."""
        execution = to_text(self._templar.template(task_vars.get(EXECUTION_VAR, 'auto')))
        if execution not in EXECUTION_CHOICES:
            raise AnsibleActionFail('%s must be one of %s, not %s'
                                    % (EXECUTION_VAR, ', '.join(EXECUTION_CHOICES), execution))
        if execution == 'module':
            return '%s is module' % EXECUTION_VAR
        if self._connection.transport != 'local':
            return 'connection %s' % self._connection.transport
        if self._play_context.become:
            return 'become'
        if self._task.async_val:
            return 'async'
        if get_module_encoder is None or self.MODULE is None or \
                not hasattr(_basic.AnsibleModule, '_record_module_result'):
            return 'ansible-core before 2.19'
        if not LXML.available:
            return 'no lxml in the controller Python'
        return None

    def _run_in_process(self, task_vars):
        module_args = dict(self._task.args)
        self._update_module_args(self._task.action, module_args, task_vars)
        environment = {}
        self._compute_environment_string(environment)
        payload = json.dumps({'ANSIBLE_MODULE_ARGS': module_args},
                             cls=_ENCODERS[Direction.CONTROLLER_TO_MODULE]).encode('utf-8')
        cache = EndpointCache(C.DEFAULT_LOCAL_TMP)
        stdout = io.StringIO()
        rc = 0
        saved_environ = dict(os.environ)
        os.environ.update((str(name), to_text(value)) for name, value in environment.items())
        _basic._ANSIBLE_ARGS, _basic._ANSIBLE_PROFILE = payload, PROFILE
        memory.CURRENT = cache

        def record(_module, result):
            # AnsibleModule._record_module_result, the hook ansible-core keeps for in-worker
            # execution: what the module would print, with the encoder made once
            print('\n%s' % json.dumps(result, cls=_ENCODERS[Direction.MODULE_TO_CONTROLLER]))

        original_record = _basic.AnsibleModule._record_module_result
        _basic.AnsibleModule._record_module_result = record
        try:
            with contextlib.redirect_stdout(stdout):
                try:
                    self.MODULE.main()
                except SystemExit as exc:
                    rc = exc.code if isinstance(exc.code, int) else 1
                else:
                    rc = 1  # a module must exit: _parse_returned_data reports what it printed
        except Exception as exc:  # pylint: disable=broad-except
            # the class only: the message of an unexpected exception might quote an argument
            return {'failed': True, 'rc': 1,
                    'msg': 'module %s raised %s (set %s: module to see its traceback)'
                           % (self._task.action, type(exc).__name__, EXECUTION_VAR)}
        finally:
            _basic.AnsibleModule._record_module_result = original_record
            memory.CURRENT = None
            _basic._ANSIBLE_ARGS = _basic._ANSIBLE_PROFILE = None
            os.environ.clear()
            os.environ.update(saved_environ)
        cache.save()
        data = self._parse_returned_data({'rc': rc, 'stdout': stdout.getvalue(), 'stderr': ''}, PROFILE)
        data.pop('_ansible_suppress_tmpdir_delete', None)
        remove_internal_keys(data)
        return data
