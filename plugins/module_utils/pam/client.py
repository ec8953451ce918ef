# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PAM client: run authenticate, acct_mgmt, setcred and sessions for a service and user.

Typical use::

    result = run_check(service='sshd', user='alice', password=secret,
                       steps=['authenticate', 'acct_mgmt'], rhost='198.51.100.7')
    result['outcome']        # 'PAM_SUCCESS', 'PAM_AUTH_ERR', ...

A :class:`PamTransaction` is one ``pam_start`` ... ``pam_end``: the steps run in order and stop
at the first that fails; a session that was opened is closed and credentials that were
established are deleted again before ``pam_end``, which is always called.

The conversation answers password prompts with the password, and other prompts with the first
entry of ``prompts`` whose regular expression matches the prompt text (OTP codes and the like).
It records every prompt (without the answer) and the info/error messages, within limits
(:data:`MAX_TEXT_BYTES`, :data:`MAX_MESSAGES`, :data:`MAX_MESSAGES_BYTES`, :data:`MAX_PROMPTS`)
so that a stack that sends megabytes cannot blow up the module's memory or result. Answers are
handed to libpam in malloc()ed buffers that libpam frees; nothing secret is ever put in a result
or an exception.
"""

import ctypes
import os
import re

from ..common.errors import HostsecError, InvalidInputError
from . import codes
from . import libpam as _libpam

STEPS = ('authenticate', 'acct_mgmt', 'setcred', 'open_session')
# Steps whose purpose is to change state (credentials, session records, home directories...).
STATEFUL_STEPS = ('setcred', 'open_session')

_CONTROL_CHARS = re.compile(r'[\x00-\x1f\x7f]')
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


class PamError(HostsecError):
    """Base class of PAM client errors."""


class PamStartError(PamError):
    """``pam_start`` failed: the transaction could not even begin."""


class PamInputError(InvalidInputError):
    """An argument that cannot be given to PAM (caught before libpam is called)."""


def _check_text(what, value, allow_empty=False):
    if value is None:
        return None
    if not isinstance(value, str):
        raise PamInputError('%s must be a string' % what)
    if not value and not allow_empty:
        raise PamInputError('%s must not be empty' % what)
    if _CONTROL_CHARS.search(value):
        raise PamInputError('%s must not contain NUL, newline or other control characters'
                            % what)
    return value


def validate_service(service):
    """A PAM service name: a file name in /etc/pam.d, so no '/' and no control characters."""
    _check_text('service', service)
    if '/' in service or service in ('.', '..') or service != service.strip():
        raise PamInputError("service %r is not a valid PAM service name (no '/', no leading or "
                            "trailing blanks)" % (service,))
    return service


def validate_user(user):
    if user is None:
        raise PamInputError('user is required')
    _check_text('user', user)
    if user != user.strip():
        raise PamInputError('user %r must not have leading or trailing blanks' % (user,))
    return user


class Prompt(object):
    """An extra prompt answer: the first regex that matches a prompt's text answers it."""

    def __init__(self, pattern, answer, index):
        if not isinstance(pattern, str) or not pattern:
            raise PamInputError('prompts[%d].pattern must be a non-empty string' % index)
        try:
            self.regex = re.compile(pattern)
        except re.error as exc:
            raise PamInputError('prompts[%d].pattern %r is not a valid regular expression: %s'
                                % (index, pattern, exc))
        if answer is None:
            raise PamInputError('prompts[%d].answer is required' % index)
        self.pattern = pattern
        self.answer = _check_text('prompts[%d].answer' % index, answer, allow_empty=True)
        self.label = 'prompts[%d]' % index


def compile_prompts(prompts):
    """``[{'pattern': re, 'answer': text}, ...]`` -> list of :class:`Prompt`."""
    result = []
    for index, entry in enumerate(prompts or ()):
        if not isinstance(entry, dict):
            raise PamInputError('prompts[%d] must be a dictionary with pattern and answer' % index)
        result.append(Prompt(entry.get('pattern'), entry.get('answer'), index))
    return result


# Limits on what a PAM stack can make this process keep (a module that prints 50 MB through
# pam_exec's "stdout" option sends one info message per line). Beyond them texts are cut and
# messages dropped, and the result says so (``truncated``, ``notes``).
MAX_TEXT_BYTES = 4096        # of one message or prompt text; longer texts are cut
MAX_MESSAGES = 100           # info/error messages kept; later ones are counted, not kept
MAX_MESSAGES_BYTES = 65536   # of all kept message texts together
MAX_PROMPTS = 32             # prompts answered; a stack that asks more gets PAM_CONV_ERR


class Conversation(object):
    """The application side of the PAM conversation."""

    def __init__(self, lib, password=None, prompts=()):
        self._lib = lib
        self._password = password
        self._prompts = list(prompts)
        self.answers = self._prompts
        self.messages = []
        self.prompts = []
        self.error = None
        self.callback = _libpam.CONV_FUNC(self._converse)
        self._messages_bytes = 0
        self.texts_cut = 0
        self.messages_dropped = 0
        self.message_bytes_dropped = 0
        self.prompts_refused = 0

    def answer(self, style, text):
        """Return ``(answer, answered_by)`` for a prompt; ``answer`` is None when unanswered."""
        for prompt in self._prompts:
            if prompt.regex.search(text):
                return prompt.answer, prompt.label
        if style == codes.PAM_PROMPT_ECHO_OFF and self._password is not None:
            return self._password, 'password'
        return None, None

    # -- bounded records ---------------------------------------------------------------------
    def _text(self, message_ptr):
        """The text of a ``struct pam_message *``, at most :data:`MAX_TEXT_BYTES` of it read.

        Returns ``(text, full_length_in_bytes)``.
        """
        raw = ctypes.cast(message_ptr, ctypes.POINTER(_libpam.RawPamMessage)).contents
        if not raw.msg:
            return '', 0
        length = self._lib.strlen(raw.msg)
        data = ctypes.string_at(raw.msg, min(length, MAX_TEXT_BYTES))
        if length > MAX_TEXT_BYTES:
            self.texts_cut += 1
            data = data[:len(data) - _incomplete_utf8_tail(data)]
        return data.decode('utf-8', 'replace'), length

    def _record_message(self, style, message_ptr):
        raw = ctypes.cast(message_ptr, ctypes.POINTER(_libpam.RawPamMessage)).contents
        length = self._lib.strlen(raw.msg) if raw.msg else 0
        # Once one message did not fit, the later ones are dropped too: the kept ones are
        # always the first.
        if self.messages_dropped or len(self.messages) >= MAX_MESSAGES or \
                self._messages_bytes + min(length, MAX_TEXT_BYTES) > MAX_MESSAGES_BYTES:
            self.messages_dropped += 1
            self.message_bytes_dropped += length
            return
        text, _length = self._text(message_ptr)
        self._messages_bytes += min(length, MAX_TEXT_BYTES)
        self.messages.append({'style': codes.STYLE_NAMES[style], 'text': text})

    def _record_prompt(self, style, message_ptr, answered_by=None, text=None):
        if text is None:
            text, _length = self._text(message_ptr)
        self.prompts.append({'style': codes.STYLE_NAMES.get(style, str(style)), 'text': text,
                             'answered_by': answered_by})

    @property
    def truncated(self):
        return bool(self.texts_cut or self.messages_dropped or self.prompts_refused)

    def notes(self):
        """What was cut or refused, as sentences for the result (empty when nothing was)."""
        notes = []
        if self.messages_dropped:
            notes.append('%d more PAM message(s) (%d bytes) were dropped: only the first %d '
                         'messages or %d bytes are kept' % (
                             self.messages_dropped, self.message_bytes_dropped, MAX_MESSAGES,
                             MAX_MESSAGES_BYTES))
        if self.texts_cut:
            notes.append('%d PAM message or prompt text(s) were cut to %d bytes'
                         % (self.texts_cut, MAX_TEXT_BYTES))
        if self.prompts_refused:
            notes.append('the PAM stack asked more than %d prompts: the conversation refused '
                         'the rest (PAM_CONV_ERR)' % MAX_PROMPTS)
        return notes

    # -- the callback ----------------------------------------------------------------------
    def _converse(self, count, messages, response_ptr, _appdata):
        lib = self._lib
        try:
            if count <= 0:
                return codes.PAM_CONV_ERR
            if not response_ptr:
                # Some modules (pam_matrix "verbose") pass no response pointer for messages
                # that need no answer; libpam_misc's conversation crashes on that. Record the
                # messages, and refuse only if a prompt would need an answer.
                return self._messages_only(count, messages)
            block = lib.calloc(count, ctypes.sizeof(_libpam.PamResponse))
            if not block:
                return codes.PAM_BUF_ERR
            responses = ctypes.cast(block, ctypes.POINTER(_libpam.PamResponse))
            status = codes.PAM_SUCCESS
            for index in range(count):
                message = messages[index]
                style = message.contents.msg_style
                if style in (codes.PAM_PROMPT_ECHO_OFF, codes.PAM_PROMPT_ECHO_ON):
                    if len(self.prompts) >= MAX_PROMPTS:
                        self.prompts_refused += 1
                        status = codes.PAM_CONV_ERR
                        break
                    text, _length = self._text(message)
                    answer, answered_by = self.answer(style, text)
                    self._record_prompt(style, message, answered_by, text)
                    if answer is None:
                        status = codes.PAM_CONV_ERR
                        break
                    pointer = lib.strdup(answer.encode('utf-8'))
                    if not pointer:
                        status = codes.PAM_BUF_ERR
                        break
                    responses[index].resp = pointer
                elif style in (codes.PAM_ERROR_MSG, codes.PAM_TEXT_INFO):
                    self._record_message(style, message)
                else:
                    if len(self.prompts) >= MAX_PROMPTS:
                        self.prompts_refused += 1
                    else:
                        self._record_prompt(style, message)
                    status = codes.PAM_CONV_ERR
                    break
            if status != codes.PAM_SUCCESS:
                for index in range(count):
                    lib.free_secret(responses[index].resp)
                lib.free(block)
                return status
            response_ptr[0] = responses
            return codes.PAM_SUCCESS
        except Exception as exc:  # pylint: disable=broad-except
            # An exception must not cross into C: record it and fail the conversation.
            self.error = '%s: %s' % (type(exc).__name__, exc)
            return codes.PAM_CONV_ERR

    def _messages_only(self, count, messages):
        status = codes.PAM_SUCCESS
        for index in range(count):
            message = messages[index]
            style = message.contents.msg_style
            if style in (codes.PAM_ERROR_MSG, codes.PAM_TEXT_INFO):
                self._record_message(style, message)
            else:
                if len(self.prompts) >= MAX_PROMPTS:
                    self.prompts_refused += 1
                else:
                    self._record_prompt(style, message)
                status = codes.PAM_CONV_ERR
        return status


def _incomplete_utf8_tail(data):
    """How many bytes at the end of ``data`` are an incomplete UTF-8 sequence (cut text)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # ASCII or the first byte of the last sequence
            needed = {0x06: 2}.get(byte >> 5) or {0x0E: 3}.get(byte >> 4) or \
                {0x1E: 4}.get(byte >> 3) or 1
            return back if needed > back else 0
    return 0


def step_result(step, code, status='run'):
    return {'step': step, 'code': code, 'name': codes.code_name(code),
            'message': codes.code_message(code), 'status': status}


class PamTransaction(object):
    """One PAM transaction (``pam_start`` ... ``pam_end``) for a service and a user.

    Use it as a context manager; leaving the block closes an opened session, deletes
    established credentials and calls ``pam_end``, whatever happened inside.
    """

    def __init__(self, service, user, password=None, prompts=None, rhost=None, ruser=None,
                 tty=None, env=None, config_dir=None, honor_fail_delay=False, silent=False,
                 lib=None):
        self.service = validate_service(service)
        self.user = validate_user(user)
        _check_text('password', password, allow_empty=True)
        self.items = [(codes.PAM_RHOST, 'rhost', _check_text('rhost', rhost)),
                      (codes.PAM_RUSER, 'ruser', _check_text('ruser', ruser)),
                      (codes.PAM_TTY, 'tty', _check_text('tty', tty))]
        self.env = {}
        for name, value in (env or {}).items():
            if not isinstance(name, str) or not _ENV_NAME.match(name):
                raise PamInputError('env name %r is not a valid environment variable name'
                                    % (name,))
            self.env[name] = _check_text('env[%s]' % name, '' if value is None else str(value),
                                         allow_empty=True)
        self.config_dir = config_dir
        self.honor_fail_delay = honor_fail_delay
        self.flags = codes.PAM_SILENT if silent else 0
        self.lib = lib or _libpam.load()
        if config_dir is not None and self.lib.pam_start_confdir is None:
            raise PamInputError('config_dir needs Linux-PAM 1.4 or later (pam_start_confdir); '
                                '%s does not provide it' % self.lib.path)
        self.conversation = Conversation(self.lib, password, compile_prompts(prompts))
        self.fail_delay_usec = None
        self._fail_delay_callback = _libpam.FAIL_DELAY_FUNC(self._on_fail_delay)
        self._conv = None
        self._handle = None
        self.last_status = codes.PAM_SUCCESS
        self.session_open = False
        self.credentials_established = False
        self.cleanup = []

    def _on_fail_delay(self, status, usec, _appdata):
        # libpam calls this after every pam_authenticate, successful or not, with the delay
        # the modules asked for (pam_unix asks for one before it knows the outcome). It is
        # only waited for after a failure: after a success the delay is 0.
        self.fail_delay_usec = int(usec) if status != codes.PAM_SUCCESS else 0

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.end()
        return False

    def start(self):
        lib = self.lib
        self._conv = _libpam.PamConv(self.conversation.callback, None)
        handle = ctypes.c_void_p()
        if self.config_dir is not None:
            code = lib.pam_start_confdir(self.service.encode('utf-8'), self.user.encode('utf-8'),
                                         ctypes.byref(self._conv),
                                         self.config_dir.encode('utf-8'), ctypes.byref(handle))
        else:
            code = lib.pam_start(self.service.encode('utf-8'), self.user.encode('utf-8'),
                                 ctypes.byref(self._conv), ctypes.byref(handle))
        started = handle.value is not None  # pylint: disable=using-constant-test
        if code != codes.PAM_SUCCESS or not started:
            if started:
                lib.pam_end(handle, code)
            raise PamStartError('pam_start(%s, %s) failed: %s' % (
                self.service, self.user, codes.code_message(code)),
                error_name=codes.code_name(code), details={'code': code})
        self._handle = handle
        for item, label, value in self.items:
            if value is not None:
                self._set_item(item, label, ctypes.c_char_p(value.encode('utf-8')))
        if not self.honor_fail_delay:
            self._set_item(codes.PAM_FAIL_DELAY, 'fail_delay',
                           ctypes.cast(self._fail_delay_callback, ctypes.c_void_p))
        for name, value in self.env.items():
            code = lib.pam_putenv(self._handle, ('%s=%s' % (name, value)).encode('utf-8'))
            if code != codes.PAM_SUCCESS:
                self.end()
                raise PamError('pam_putenv(%s) failed: %s' % (name, codes.code_message(code)),
                               error_name=codes.code_name(code), details={'code': code})

    def _set_item(self, item, label, value):
        keep = value  # the pointer must stay valid during the call; libpam copies strings
        code = self.lib.pam_set_item(self._handle, item, ctypes.cast(keep, ctypes.c_void_p))
        if code != codes.PAM_SUCCESS:
            self.end()
            raise PamError('pam_set_item(%s) failed: %s' % (label, codes.code_message(code)),
                           error_name=codes.code_name(code), details={'code': code})

    def end(self):
        """Close what is open, then ``pam_end``. Safe to call more than once."""
        if self._handle is None:
            return
        lib = self.lib
        try:
            if self.session_open:
                code = lib.pam_close_session(self._handle, self.flags)
                self.cleanup.append(step_result('close_session', code))
                self.session_open = False
            if self.credentials_established:
                code = lib.pam_setcred(self._handle, self.flags | codes.PAM_DELETE_CRED)
                self.cleanup.append(step_result('delete_cred', code))
                self.credentials_established = False
        finally:
            lib.pam_end(self._handle, self.last_status)
            self._handle = None

    # -- steps -------------------------------------------------------------------------------
    def run_step(self, step):
        """Run one of :data:`STEPS` and return its result dict."""
        lib = self.lib
        if self._handle is None:
            raise PamError('the PAM transaction is not started')
        if step == 'authenticate':
            code = lib.pam_authenticate(self._handle, self.flags)
        elif step == 'acct_mgmt':
            code = lib.pam_acct_mgmt(self._handle, self.flags)
        elif step == 'setcred':
            code = lib.pam_setcred(self._handle, self.flags | codes.PAM_ESTABLISH_CRED)
            self.credentials_established = code == codes.PAM_SUCCESS
        elif step == 'open_session':
            code = lib.pam_open_session(self._handle, self.flags)
            self.session_open = code == codes.PAM_SUCCESS
        else:
            raise PamInputError('unknown step %r (known: %s)' % (step, ', '.join(STEPS)))
        self.last_status = code
        return step_result(step, code)

    def environment(self):
        """The PAM environment (``pam_getenvlist``) as a dict."""
        lib = self.lib
        env_list = lib.pam_getenvlist(self._handle)
        result = {}
        if not env_list:
            return result
        try:
            index = 0
            while env_list[index]:
                entry = ctypes.string_at(env_list[index]).decode('utf-8', 'replace')
                name, _sep, value = entry.partition('=')
                result[name] = value
                index += 1
        finally:
            lib.free_env_list(env_list)
        return result


REDACTED = '********'


def redact(value, secrets):
    """``value`` with every occurrence of a secret replaced by ``********``."""
    if not isinstance(value, str):
        return value
    for secret in secrets:
        if secret and secret in value:
            value = value.replace(secret, REDACTED)
    return value


def find_service_file(service, config_dir=None, environ=None, wrapper_loaded=None):
    """The file libpam reads for ``service``, or ``None`` (then Linux-PAM uses ``other``).

    ``PAM_WRAPPER_SERVICE_DIR`` counts only when pam_wrapper is loaded into this process
    (``wrapper_loaded``, default: :func:`libpam.pam_wrapper_loaded`): without the preload
    libpam reads the system's configuration whatever the variables say.
    """
    environ = os.environ if environ is None else environ
    if config_dir is not None:
        directories = [config_dir]
    elif pam_wrapper_service_dir(environ, wrapper_loaded):
        directories = [environ['PAM_WRAPPER_SERVICE_DIR']]
    else:
        directories = ['/etc/pam.d', '/usr/lib/pam.d', '/usr/share/pam.d']
    for directory in directories:
        candidate = os.path.join(directory, service)
        if os.path.isfile(candidate):
            return candidate
    if config_dir is None and not os.path.isdir('/etc/pam.d') and os.path.isfile('/etc/pam.conf'):
        return '/etc/pam.conf'
    return None


def _wrapper_variables(environ):
    return environ.get('PAM_WRAPPER') == '1' and bool(environ.get('PAM_WRAPPER_SERVICE_DIR'))


def pam_wrapper_service_dir(environ, wrapper_loaded=None):
    """Whether pam_wrapper is loaded and told to read ``PAM_WRAPPER_SERVICE_DIR``."""
    if not _wrapper_variables(environ):
        return False
    return _libpam.pam_wrapper_loaded() if wrapper_loaded is None else wrapper_loaded


def service_file_notes(config_dir=None, environ=None, wrapper_loaded=None):
    """A note when the ``PAM_WRAPPER*`` variables are set but pam_wrapper is not loaded."""
    environ = os.environ if environ is None else environ
    if config_dir is not None or not _wrapper_variables(environ) or \
            pam_wrapper_service_dir(environ, wrapper_loaded):
        return []
    return ['PAM_WRAPPER and PAM_WRAPPER_SERVICE_DIR are set, but pam_wrapper is not loaded '
            'into the module process (no LD_PRELOAD of libpam_wrapper.so): libpam read the '
            'system configuration, not %s' % environ['PAM_WRAPPER_SERVICE_DIR']]


def validate_steps(steps):
    steps = list(steps)
    if not steps:
        raise PamInputError('steps must name at least one step')
    for step in steps:
        if step not in STEPS:
            raise PamInputError('unknown step %r (known: %s)' % (step, ', '.join(STEPS)))
    if len(set(steps)) != len(steps):
        raise PamInputError('steps must not repeat a step')
    return sorted(steps, key=STEPS.index)


def run_check(service, user, steps=('authenticate', 'acct_mgmt'), password=None, prompts=None,
              rhost=None, ruser=None, tty=None, env=None, config_dir=None,
              honor_fail_delay=False, silent=False, skip_steps=(), lib=None):
    """Run ``steps`` (in PAM order) in one transaction and describe what happened.

    Steps in ``skip_steps`` are not run (check mode) and reported with status ``skipped``.
    Returns a dict with ``outcome`` (the name of the first failing code, else PAM_SUCCESS),
    ``outcome_code``, ``outcome_message``, ``failed_step``, ``complete`` (False when a
    skipped step could still have changed the outcome), ``steps``, ``cleanup``, ``messages``,
    ``prompts``, ``pam_env``, ``fail_delay_usec``, ``service_file``, ``truncated`` (messages or
    prompts were cut, see :data:`MAX_MESSAGES` ...) and ``notes`` (sentences about what was cut
    and about the service file).
    """
    steps = validate_steps(steps)
    transaction = PamTransaction(service, user, password=password, prompts=prompts, rhost=rhost,
                                 ruser=ruser, tty=tty, env=env, config_dir=config_dir,
                                 honor_fail_delay=honor_fail_delay, silent=silent, lib=lib)
    results = []
    failed = None
    skipped_any = False
    pam_env = {}
    with transaction:
        for step in steps:
            if failed is not None:
                results.append(step_result(step, codes.PAM_SUCCESS, status='not_run'))
                continue
            if step in skip_steps:
                results.append(step_result(step, codes.PAM_SUCCESS, status='skipped'))
                skipped_any = True
                continue
            result = transaction.run_step(step)
            results.append(result)
            if result['code'] != codes.PAM_SUCCESS:
                failed = result
        pam_env = transaction.environment()
    for result in results:
        if result['status'] != 'run':
            result.update(code=None, name=None, message=None)
    # PAM modules may copy items into the environment or messages (pam_get_items exports
    # PAM_AUTHTOK): nothing the conversation answered leaves this function.
    secrets = sorted({s for s in [password] + [p.answer for p in transaction.conversation.answers]
                      if s}, key=len, reverse=True)
    pam_env = dict((name, redact(value, secrets)) for name, value in pam_env.items())
    for entry in transaction.conversation.messages + transaction.conversation.prompts:
        entry['text'] = redact(entry['text'], secrets)
    outcome_code = failed['code'] if failed else codes.PAM_SUCCESS
    conversation = transaction.conversation
    return {
        'service': service,
        'user': user,
        'service_file': find_service_file(service, config_dir),
        'outcome': codes.code_name(outcome_code),
        'outcome_code': outcome_code,
        'outcome_message': codes.code_message(outcome_code),
        'failed_step': failed['step'] if failed else None,
        'complete': failed is not None or not skipped_any,
        'steps': results,
        'cleanup': transaction.cleanup,
        'messages': transaction.conversation.messages,
        'prompts': transaction.conversation.prompts,
        'conversation_error': transaction.conversation.error,
        'pam_env': pam_env,
        'fail_delay_usec': transaction.fail_delay_usec,
        'truncated': conversation.truncated,
        'notes': service_file_notes(config_dir) + conversation.notes(),
    }


def outcome_matches(expect, outcome):
    """Does the outcome name satisfy ``expect`` (success, failure or a PAM code name)?"""
    if expect == 'success':
        return outcome == 'PAM_SUCCESS'
    if expect == 'failure':
        return outcome != 'PAM_SUCCESS'
    return outcome == expect
