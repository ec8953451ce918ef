# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PAM codes against the system's libpam, input validation, and the conversation function.

These run in the test process against the real libpam (no pam_wrapper needed: pam_strerror and
the conversation callback do not read any PAM configuration).
"""

import ctypes

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import (
    MissingDependencyError)
from ansible_collections.hostsec.mgmt.plugins.module_utils.pam import client, codes, libpam


@pytest.fixture(scope='module')
def lib():
    return libpam.load()


def test_every_code_has_a_name_and_the_systems_message(lib):
    assert sorted(codes.RETURN_CODES) == list(range(32))
    for code, (name, text) in codes.RETURN_CODES.items():
        assert name.startswith('PAM_')
        assert lib.pam_strerror(None, code).decode() == text, name
    assert len(set(codes.CODE_NAMES)) == 32


def test_unknown_codes_get_a_name_too():
    assert codes.code_name(99) == 'PAM_UNKNOWN_99'
    assert codes.code_message(99) == 'Unknown PAM error 99'
    assert codes.code_from_name('PAM_NEW_AUTHTOK_REQD') == 12


@pytest.mark.parametrize('user,message', [
    ('', 'user must not be empty'),
    ('al\x00ice', 'user must not contain NUL, newline'),
    ('alice\n', 'user must not contain NUL, newline'),
    ('alice\r', 'user must not contain NUL, newline'),
    (' alice', 'must not have leading or trailing blanks'),
    (None, 'user is required'),
    (42, 'user must be a string'),
])
def test_bad_users_are_refused_before_libpam_is_called(user, message):
    with pytest.raises(client.PamInputError, match=message):
        client.run_check('login', user, password='x', lib=object())


@pytest.mark.parametrize('service', ['', '../etc/shadow', 'a/b', '.', '..', 'log\nin', ' login'])
def test_bad_service_names_are_refused(service):
    with pytest.raises(client.PamInputError):
        client.run_check(service, 'alice', lib=object())


def test_unknown_and_repeated_steps_are_refused():
    with pytest.raises(client.PamInputError, match="unknown step 'chauthtok'"):
        client.validate_steps(['authenticate', 'chauthtok'])
    with pytest.raises(client.PamInputError, match='must not repeat'):
        client.validate_steps(['authenticate', 'authenticate'])
    with pytest.raises(client.PamInputError, match='at least one'):
        client.validate_steps([])
    assert client.validate_steps(['open_session', 'authenticate']) == ['authenticate', 'open_session']


def test_invalid_prompt_regex_is_a_clear_error():
    with pytest.raises(client.PamInputError, match=r"prompts\[1\].pattern '\(' is not a valid regular expression"):
        client.compile_prompts([{'pattern': 'code', 'answer': '1'}, {'pattern': '(', 'answer': '2'}])
    with pytest.raises(client.PamInputError, match=r'prompts\[0\].answer is required'):
        client.compile_prompts([{'pattern': 'code'}])


def test_invalid_env_names_are_refused():
    with pytest.raises(client.PamInputError, match='not a valid environment variable name'):
        client.PamTransaction('login', 'alice', env={'A=B': 'x'}, lib=object())


def test_missing_libpam_names_the_packages():
    with pytest.raises(MissingDependencyError) as info:
        libpam.LibPam('libpam-hostsec-does-not-exist.so.0')
    text = str(info.value)
    assert 'libpam' in text and 'Debian/Ubuntu: libpam0g' in text and 'RHEL/Fedora: pam' in text
    assert info.value.details['dependency'] == 'libpam'


def test_a_library_without_pam_functions_is_refused():
    with pytest.raises(MissingDependencyError, match='not a Linux-PAM library'):
        libpam.LibPam('libz.so.1')


def test_redact():
    assert client.redact('PAM_AUTHTOK=hunter2!', ['hunter2']) == 'PAM_AUTHTOK=********!'
    assert client.redact('nothing here', ['hunter2', '']) == 'nothing here'
    assert client.outcome_matches('failure', 'PAM_AUTH_ERR')
    assert not client.outcome_matches('success', 'PAM_AUTH_ERR')
    assert client.outcome_matches('PAM_AUTH_ERR', 'PAM_AUTH_ERR')


# -- the conversation function, called as libpam would call it --------------------------------

def converse(conversation, messages, with_response_pointer=True):
    """Call the conversation callback with (style, text) messages; return (status, answers)."""
    array = (libpam.PamMessage * len(messages))()
    pointers = (ctypes.POINTER(libpam.PamMessage) * len(messages))()
    for index, (style, text) in enumerate(messages):
        array[index].msg_style = style
        array[index].msg = text.encode()
        pointers[index] = ctypes.pointer(array[index])
    response = ctypes.POINTER(libpam.PamResponse)()
    response_ptr = ctypes.pointer(response) if with_response_pointer else None
    status = conversation.callback(len(messages), pointers, response_ptr, None)
    answers = []
    if status == codes.PAM_SUCCESS and with_response_pointer:
        lib = conversation._lib  # pylint: disable=protected-access
        for index in range(len(messages)):
            pointer = response[index].resp
            answers.append(ctypes.string_at(pointer).decode() if pointer else None)
            lib.free_secret(pointer)
        lib.free(ctypes.cast(response, ctypes.c_void_p))
    return status, answers


def test_password_and_regex_prompts_are_answered_and_messages_recorded(lib):
    conversation = client.Conversation(lib, 'pw', client.compile_prompts(
        [{'pattern': '(?i)verification code', 'answer': '123456'}]))
    status, answers = converse(conversation, [
        (codes.PAM_TEXT_INFO, 'Welcome'),
        (codes.PAM_PROMPT_ECHO_OFF, 'Password: '),
        (codes.PAM_PROMPT_ECHO_OFF, 'Verification code: '),
        (codes.PAM_ERROR_MSG, 'Careful'),
    ])
    assert status == codes.PAM_SUCCESS
    assert answers == [None, 'pw', '123456', None]
    assert conversation.messages == [{'style': 'info', 'text': 'Welcome'},
                                     {'style': 'error', 'text': 'Careful'}]
    assert [p['answered_by'] for p in conversation.prompts] == ['password', 'prompts[0]']
    assert 'pw' not in repr(conversation.prompts) and '123456' not in repr(conversation.prompts)


def test_an_unanswerable_prompt_fails_the_conversation(lib):
    conversation = client.Conversation(lib, 'pw')
    status, _answers = converse(conversation, [(codes.PAM_PROMPT_ECHO_ON, 'Token serial: ')])
    assert status == codes.PAM_CONV_ERR
    assert conversation.prompts == [{'style': 'prompt_echo_on', 'text': 'Token serial: ',
                                     'answered_by': None}]
    conversation = client.Conversation(lib, None)
    status, _answers = converse(conversation, [(codes.PAM_PROMPT_ECHO_OFF, 'Password: ')])
    assert status == codes.PAM_CONV_ERR


def test_radio_and_binary_prompts_are_refused(lib):
    conversation = client.Conversation(lib, 'pw')
    status, _answers = converse(conversation, [(codes.PAM_RADIO_TYPE, 'yes/no?')])
    assert status == codes.PAM_CONV_ERR


def test_messages_without_a_response_pointer_do_not_crash(lib):
    # pam_matrix "verbose" does this; libpam_misc's conversation (pamtester) segfaults on it.
    conversation = client.Conversation(lib, 'pw')
    status, _answers = converse(conversation, [(codes.PAM_TEXT_INFO, 'hello')],
                                with_response_pointer=False)
    assert status == codes.PAM_SUCCESS
    assert conversation.messages == [{'style': 'info', 'text': 'hello'}]
    status, _answers = converse(conversation, [(codes.PAM_PROMPT_ECHO_OFF, 'Password: ')],
                                with_response_pointer=False)
    assert status == codes.PAM_CONV_ERR


def test_an_exception_in_the_callback_never_reaches_c(lib):
    conversation = client.Conversation(lib, 'pw')

    def broken(style, text):
        raise RuntimeError('boom')

    conversation.answer = broken
    status, _answers = converse(conversation, [(codes.PAM_PROMPT_ECHO_OFF, 'Password: ')])
    assert status == codes.PAM_CONV_ERR
    assert conversation.error == 'RuntimeError: boom'


# -- limits on what a PAM stack can make the module keep (issue 11) ----------------------------

def test_a_long_message_is_cut_and_noted_without_reading_it_whole(lib):
    conversation = client.Conversation(lib, 'pw')
    text = 'x' * (client.MAX_TEXT_BYTES - 1) + '\u20ac' + 'y' * 100000
    status, _answers = converse(conversation, [(codes.PAM_TEXT_INFO, text)])
    assert status == codes.PAM_SUCCESS
    kept = conversation.messages[0]['text']
    # cut inside the three bytes of the euro sign: the half sequence is dropped, not mangled
    assert kept == 'x' * (client.MAX_TEXT_BYTES - 1)
    assert conversation.truncated
    assert conversation.notes() == ['1 PAM message or prompt text(s) were cut to %d bytes'
                                    % client.MAX_TEXT_BYTES]


def test_messages_beyond_the_limits_are_counted_not_kept(lib):
    conversation = client.Conversation(lib, 'pw')
    for index in range(client.MAX_MESSAGES + 50):
        status, _answers = converse(conversation, [(codes.PAM_TEXT_INFO, 'line %d' % index)],
                                    with_response_pointer=index % 2 == 0)
        assert status == codes.PAM_SUCCESS
    assert len(conversation.messages) == client.MAX_MESSAGES
    assert conversation.messages[-1]['text'] == 'line %d' % (client.MAX_MESSAGES - 1)
    assert conversation.messages_dropped == 50
    assert conversation.truncated
    assert conversation.notes()[0].startswith('50 more PAM message(s) (')
    # the byte budget holds too, with fewer but longer messages
    conversation = client.Conversation(lib, 'pw')
    for _index in range(40):
        converse(conversation, [(codes.PAM_ERROR_MSG, 'e' * client.MAX_TEXT_BYTES)])
    kept = sum(len(m['text']) for m in conversation.messages)
    assert kept <= client.MAX_MESSAGES_BYTES
    assert conversation.messages_dropped == 40 - client.MAX_MESSAGES_BYTES // client.MAX_TEXT_BYTES


def test_a_stack_that_prompts_without_end_is_refused(lib):
    conversation = client.Conversation(lib, 'pw')
    statuses = [converse(conversation, [(codes.PAM_PROMPT_ECHO_OFF, 'Password: ')])[0]
                for _index in range(client.MAX_PROMPTS + 3)]
    assert statuses == [codes.PAM_SUCCESS] * client.MAX_PROMPTS + [codes.PAM_CONV_ERR] * 3
    assert len(conversation.prompts) == client.MAX_PROMPTS
    assert conversation.prompts_refused == 3
    assert 'more than %d prompts' % client.MAX_PROMPTS in conversation.notes()[0]


def test_nothing_cut_means_no_note(lib):
    conversation = client.Conversation(lib, 'pw')
    converse(conversation, [(codes.PAM_TEXT_INFO, 'x' * client.MAX_TEXT_BYTES)])
    assert not conversation.truncated and conversation.notes() == []


def test_the_fail_delay_of_a_success_is_zero(lib):
    transaction = client.PamTransaction('login', 'alice', lib=lib)
    transaction._on_fail_delay(codes.PAM_SUCCESS, 2000000, None)  # pylint: disable=protected-access
    assert transaction.fail_delay_usec == 0
    transaction._on_fail_delay(7, 1800000, None)  # pylint: disable=protected-access
    assert transaction.fail_delay_usec == 1800000


def test_pam_wrapper_variables_count_only_when_pam_wrapper_is_loaded(tmp_path):
    (tmp_path / 'svc').write_text('auth required pam_deny.so\n')
    environ = {'PAM_WRAPPER': '1', 'PAM_WRAPPER_SERVICE_DIR': str(tmp_path)}
    assert client.find_service_file('svc', environ=environ, wrapper_loaded=True) == \
        str(tmp_path / 'svc')
    assert client.service_file_notes(environ=environ, wrapper_loaded=True) == []
    not_loaded = client.find_service_file('svc', environ=environ, wrapper_loaded=False)
    assert not_loaded != str(tmp_path / 'svc')
    assert not_loaded is None or not_loaded.startswith(('/etc/pam', '/usr/'))
    notes = client.service_file_notes(environ=environ, wrapper_loaded=False)
    assert len(notes) == 1 and 'pam_wrapper is not loaded' in notes[0]
    assert client.service_file_notes(config_dir=str(tmp_path), environ=environ,
                                     wrapper_loaded=False) == []
    # this test process has no pam_wrapper preloaded
    assert libpam.pam_wrapper_loaded() is False
