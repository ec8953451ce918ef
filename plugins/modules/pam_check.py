#!/usr/bin/python
# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: pam_check
short_description: Check that a PAM service authenticates a user, passes account management and opens a session
version_added: 1.0.0
description:
  - Runs a PAM transaction on the managed host for O(service) and O(user), as an application
    linked with libpam does. It calls C(pam_authenticate), C(pam_acct_mgmt), C(pam_setcred)
    and C(pam_open_session), in that order, and stops at the first step that fails.
  - Reports the PAM return code of every step by its symbolic name (for example C(PAM_SUCCESS),
    C(PAM_AUTH_ERR), C(PAM_ACCT_EXPIRED), C(PAM_NEW_AUTHTOK_REQD)) with its message, and the
    messages the PAM modules sent through the conversation.
  - With O(expect) the task fails when the outcome is not the expected one, so a playbook can
    check that a valid account gets in and that a locked or expired one is refused.
  - The module changes no configuration, so it never reports C(changed). Running a PAM stack can
    still have effects on the host, see the notes.
  - The module talks to C(libpam.so.0) directly through ctypes; it needs no Python package.
author:
  - hostsec.mgmt developers (@hostsec)
extends_documentation_fragment:
  - hostsec.mgmt.attributes
options:
  service:
    description:
      - The PAM service, that is the name of a file in C(/etc/pam.d) (or in O(config_dir)).
      - When no such file exists, Linux-PAM uses the C(other) service; the module then warns
        and returns RV(service_file) as V(null).
    type: str
    default: login
  user:
    description:
      - The user to check. Must not be empty or contain control characters.
    type: str
    required: true
  password:
    description:
      - The answer to password prompts (prompts that do not echo, which no O(prompts) entry
        matches).
      - Never returned or logged.
      - If not set, E(HOSTSEC_PAM_PASSWORD) is used (an empty variable counts as unset), so
        that an ad-hoc command need not carry the password in its arguments.
    type: str
  steps:
    description:
      - The PAM calls to make, always run in the order C(authenticate), C(acct_mgmt),
        C(setcred), C(open_session) whatever order they are listed in.
      - A session that is opened is closed again, and credentials that are established are
        deleted again, before the transaction ends.
    type: list
    elements: str
    choices: [authenticate, acct_mgmt, setcred, open_session]
    default: [authenticate, acct_mgmt]
  expect:
    description:
      - The outcome the task requires. V(success) means every step returned C(PAM_SUCCESS),
        V(failure) means some step did not, and a PAM return code name means the first step
        that failed returned that code.
      - The task fails when the outcome differs, unless O(fail_on_mismatch=false).
    type: str
    default: success
    choices:
      - success
      - failure
      - PAM_SUCCESS
      - PAM_OPEN_ERR
      - PAM_SYMBOL_ERR
      - PAM_SERVICE_ERR
      - PAM_SYSTEM_ERR
      - PAM_BUF_ERR
      - PAM_PERM_DENIED
      - PAM_AUTH_ERR
      - PAM_CRED_INSUFFICIENT
      - PAM_AUTHINFO_UNAVAIL
      - PAM_USER_UNKNOWN
      - PAM_MAXTRIES
      - PAM_NEW_AUTHTOK_REQD
      - PAM_ACCT_EXPIRED
      - PAM_SESSION_ERR
      - PAM_CRED_UNAVAIL
      - PAM_CRED_EXPIRED
      - PAM_CRED_ERR
      - PAM_NO_MODULE_DATA
      - PAM_CONV_ERR
      - PAM_AUTHTOK_ERR
      - PAM_AUTHTOK_RECOVERY_ERR
      - PAM_AUTHTOK_LOCK_BUSY
      - PAM_AUTHTOK_DISABLE_AGING
      - PAM_TRY_AGAIN
      - PAM_IGNORE
      - PAM_ABORT
      - PAM_AUTHTOK_EXPIRED
      - PAM_MODULE_UNKNOWN
      - PAM_BAD_ITEM
      - PAM_CONV_AGAIN
      - PAM_INCOMPLETE
  fail_on_mismatch:
    description:
      - Whether the task fails when the outcome does not match O(expect).
      - With V(false) the task succeeds and RV(matched) tells; the P(hostsec.mgmt.pam_verify#role)
        role uses this to report every mismatch at once.
    type: bool
    default: true
  prompts:
    description:
      - Answers to prompts other than the password, for example one-time codes.
      - Each prompt the PAM stack sends is matched against the O(prompts[].pattern) entries in
        order; the first match answers it. Prompts that no entry matches get O(password) if
        they do not echo; any other unanswered prompt fails the conversation.
    type: list
    elements: dict
    default: []
    suboptions:
      pattern:
        description:
          - A Python regular expression searched for in the prompt text.
        type: str
        required: true
      answer:
        description:
          - The answer to send. Never returned or logged.
          - There is no environment variable for it (it is an entry of a list). In ad-hoc
            commands pass O(prompts) in a file (C(-e @file)) rather than in C(-a).
        type: str
        required: true
  rhost:
    description:
      - The remote host to set as C(PAM_RHOST), as a network service would (for rules of
        C(pam_access), C(pam_faillock) and similar modules).
    type: str
  ruser:
    description:
      - The remote user to set as C(PAM_RUSER).
    type: str
  tty:
    description:
      - The terminal to set as C(PAM_TTY), for example V(ssh) or V(/dev/pts/0).
    type: str
  env:
    description:
      - Variables to put into the PAM environment (C(pam_putenv)) before the first step.
    type: dict
    default: {}
  config_dir:
    description:
      - Read the service file from this directory instead of C(/etc/pam.d), to check a PAM
        configuration before it is deployed. Needs Linux-PAM 1.4 or later.
      - Module paths in such a service file are resolved as usual.
    type: path
  honor_fail_delay:
    description:
      - PAM modules such as C(pam_unix) and C(pam_faildelay) ask for a delay of a few seconds
        after a failed authentication. By default the module records the requested delay in
        RV(fail_delay_usec) and does not wait; set V(true) to wait like a login program.
    type: bool
    default: false
  silent:
    description:
      - Pass C(PAM_SILENT) to every call, asking the PAM modules not to send informational
        messages.
    type: bool
    default: false
notes:
  - Running a PAM stack is not free of side effects. Failed authentications may be counted
    by C(pam_faillock) or C(pam_tally2) and can lock the account; C(open_session) runs the
    session modules (C(pam_mkhomedir), C(pam_lastlog), C(pam_systemd), C(pam_limits) ...),
    and C(setcred) may create credentials such as Kerberos ticket caches.
  - In check mode the module runs C(authenticate) and C(acct_mgmt) (they only read, apart
    from the failure counters above) but not C(setcred) and C(open_session), which are reported
    with status C(skipped). When a skipped step could still have changed the outcome,
    RV(complete) is V(false) and O(expect) is not enforced.
  - Checking another user's password with C(pam_unix) needs root on most systems.
  - With C(pam_wrapper) preloaded (C(LD_PRELOAD=libpam_wrapper.so), C(PAM_WRAPPER=1)), service
    files are read from E(PAM_WRAPPER_SERVICE_DIR); set these with the C(environment) keyword.
    The module checks that pam_wrapper is really loaded into its process; with the variables
    but without the preload libpam reads the system configuration, RV(service_file) names the
    system file and RV(notes) says so.
  - What the PAM stack sends is kept within limits, so that a module that prints megabytes
    (for example C(pam_exec) with its C(stdout) option) cannot make the result huge. At most 100
    messages and 64 KiB of message text are kept, each message or prompt text is cut to
    4096 bytes, and a stack that asks more than 32 prompts gets C(PAM_CONV_ERR). When anything
    was cut, RV(truncated) is V(true) and RV(notes) tells what.
requirements:
  - Linux-PAM's C(libpam.so.0) on the managed host (Debian/Ubuntu C(libpam0g), RHEL/Fedora
    C(pam)), which every Linux system with PAM has. No Python package is needed; the module
    calls libpam through C(ctypes).
seealso:
  - module: community.general.pamd
    description: Edits the rules of a PAM service file; M(hostsec.mgmt.pam_check) then proves that
      the edited service still lets the right accounts in.
  - name: Linux-PAM application developers' guide
    description: The PAM calls this module makes and what their return codes mean.
    link: https://www.chiark.greenend.org.uk/doc/libpam-doc/html/Linux-PAM_ADG.html
attributes:
  check_mode:
    support: partial
    details: C(setcred) and C(open_session) are not run in check mode.
  diff_mode:
    support: none
    details: The module changes nothing, so there is no difference to show.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details: Linux with Linux-PAM. Other PAM implementations (OpenPAM on the BSDs, Solaris PAM)
      are not supported.
"""

EXAMPLES = r"""
- name: A valid account can log in over SSH
  hostsec.mgmt.pam_check:
    service: sshd
    user: alice
    password: "{{ vault_alice_password }}"
    rhost: 198.51.100.7
    steps: [authenticate, acct_mgmt, open_session]

- name: The expired account is refused by account management
  hostsec.mgmt.pam_check:
    service: login
    user: former-staff
    password: "{{ vault_former_staff_password }}"
    expect: PAM_ACCT_EXPIRED

- name: Password plus one-time code
  hostsec.mgmt.pam_check:
    service: sshd
    user: alice
    password: "{{ vault_alice_password }}"
    prompts:
      - pattern: '(?i)verification code'
        answer: "{{ lookup('ansible.builtin.pipe', 'oathtool --totp ' ~ vault_alice_totp_seed) }}"

- name: Check a staged PAM configuration before rolling it out
  hostsec.mgmt.pam_check:
    config_dir: /srv/staging/pam.d
    service: sshd
    user: alice
    password: "{{ vault_alice_password }}"

- name: Record the outcome without failing
  hostsec.mgmt.pam_check:
    service: login
    user: bob
    password: "{{ bob_password }}"
    expect: failure
    fail_on_mismatch: false
  register: bob_login

- name: Show it
  ansible.builtin.debug:
    msg: "{{ bob_login.outcome }} at {{ bob_login.failed_step }}: {{ bob_login.outcome_message }}"
"""

RETURN = r"""
service:
  description: The PAM service checked.
  returned: always
  type: str
  sample: sshd
user:
  description: The user checked.
  returned: always
  type: str
  sample: alice
service_file:
  description:
    - The service file libpam read, or V(null) when there is none and Linux-PAM fell back to
      the C(other) service.
  returned: always
  type: str
  sample: /etc/pam.d/sshd
outcome:
  description: C(PAM_SUCCESS) when every step succeeded, else the code name of the first failing step.
  returned: always
  type: str
  sample: PAM_AUTH_ERR
outcome_code:
  description: The numeric PAM return code of RV(outcome).
  returned: always
  type: int
  sample: 7
outcome_message:
  description: The message of RV(outcome), as C(pam_strerror) gives it.
  returned: always
  type: str
  sample: Authentication failure
failed_step:
  description: The step that failed, V(null) when none did.
  returned: always
  type: str
  sample: authenticate
expected:
  description: The value of O(expect).
  returned: always
  type: str
  sample: success
matched:
  description:
    - Whether the outcome satisfies O(expect); V(null) when not every step ran (check mode)
      and the outcome is therefore unknown.
  returned: always
  type: bool
  sample: true
complete:
  description: V(false) when steps skipped in check mode could still have changed the outcome.
  returned: always
  type: bool
  sample: true
steps:
  description: One entry per requested step, in the order they were run.
  returned: always
  type: list
  elements: dict
  contains:
    step:
      description: The step (C(authenticate), C(acct_mgmt), C(setcred) or C(open_session)).
      type: str
      sample: authenticate
    status:
      description:
        - C(run); C(skipped) when check mode kept it from running; C(not_run) when an earlier
          step failed.
      type: str
      sample: run
    code:
      description: The PAM return code, V(null) unless the step ran.
      type: int
      sample: 0
    name:
      description: The symbolic name of the code.
      type: str
      sample: PAM_SUCCESS
    message:
      description: The message of the code.
      type: str
      sample: Success
cleanup:
  description:
    - The calls made when the transaction ended, C(close_session) after an opened session and
      C(delete_cred) after established credentials, with their codes.
  returned: always
  type: list
  elements: dict
  sample: [{step: close_session, status: run, code: 0, name: PAM_SUCCESS, message: Success}]
messages:
  description: The informational and error messages the PAM modules sent, in order.
  returned: always
  type: list
  elements: dict
  contains:
    style:
      description: C(info) or C(error).
      type: str
      sample: error
    text:
      description: The message text.
      type: str
      sample: You are required to change your password immediately (administrator enforced).
prompts:
  description: The prompts the PAM modules sent, without the answers.
  returned: always
  type: list
  elements: dict
  contains:
    style:
      description: C(prompt_echo_off) (hidden input) or C(prompt_echo_on).
      type: str
      sample: prompt_echo_off
    text:
      description: The prompt text.
      type: str
      sample: 'Password: '
    answered_by:
      description:
        - C(password), C(prompts[N]) for the O(prompts) entry that matched, or V(null) when the
          prompt could not be answered.
      type: str
      sample: password
pam_env:
  description: The PAM environment after the last step (C(pam_getenvlist)).
  returned: always
  type: dict
  sample: {HOMEDIR: /home/alice}
fail_delay_usec:
  description:
    - The failure delay in microseconds the PAM modules asked for, when O(honor_fail_delay)
      is V(false) (it was not waited for); V(null) otherwise, or when C(authenticate) was not
      run.
    - V(0) when C(authenticate) succeeded, since libpam waits only after a failure.
  returned: always
  type: int
  sample: 2000000
truncated:
  description:
    - V(true) when messages were dropped, message or prompt texts were cut, or prompts were
      refused because of the limits in the notes above; RV(notes) tells what.
  returned: always
  type: bool
  sample: false
notes:
  description:
    - Sentences about what the module had to cut from the conversation, and about a
      C(pam_wrapper) configuration that was not used. Each is also given as a warning.
  returned: always
  type: list
  elements: str
  sample: ['12800 more PAM message(s) (52428800 bytes) were dropped: only the first 100 messages or 65536 bytes are kept']
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.env import env_fallback_nonempty_spec
from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import fail_on_error
from ansible_collections.hostsec.mgmt.plugins.module_utils.pam import client
from ansible_collections.hostsec.mgmt.plugins.module_utils.pam.codes import CODE_NAMES


def argument_spec():
    return dict(
        service=dict(type='str', default='login'),
        user=dict(type='str', required=True),
        password=dict(type='str', no_log=True,
                      fallback=env_fallback_nonempty_spec('HOSTSEC_PAM_PASSWORD')),
        steps=dict(type='list', elements='str', choices=list(client.STEPS),
                   default=['authenticate', 'acct_mgmt']),
        expect=dict(type='str', default='success',
                    choices=['success', 'failure'] + list(CODE_NAMES)),
        fail_on_mismatch=dict(type='bool', default=True),
        prompts=dict(type='list', elements='dict', default=[], options=dict(
            pattern=dict(type='str', required=True),
            answer=dict(type='str', required=True, no_log=True),
        )),
        rhost=dict(type='str'),
        ruser=dict(type='str'),
        tty=dict(type='str'),
        env=dict(type='dict', default={}),
        config_dir=dict(type='path'),
        honor_fail_delay=dict(type='bool', default=False),
        silent=dict(type='bool', default=False),
    )


def summary(result):
    text = '%s for user %s, service %s' % (result['outcome'], result['user'], result['service'])
    if result['failed_step']:
        text += ' at %s: %s' % (result['failed_step'], result['outcome_message'])
    return text


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    skip = client.STATEFUL_STEPS if module.check_mode else ()
    with fail_on_error(module, changed=False):
        result = client.run_check(
            service=params['service'], user=params['user'], steps=params['steps'],
            password=params['password'], prompts=params['prompts'], rhost=params['rhost'],
            ruser=params['ruser'], tty=params['tty'], env=params['env'],
            config_dir=params['config_dir'], honor_fail_delay=params['honor_fail_delay'],
            silent=params['silent'], skip_steps=skip)
    for note in result['notes']:
        module.warn(note)
    conversation_error = result.pop('conversation_error')
    if conversation_error:
        module.warn('the conversation function failed: %s' % conversation_error)
    if result['service_file'] is None:
        module.warn('no PAM configuration for service %r: Linux-PAM used the "other" service'
                    % params['service'])
    for prompt in result['prompts']:
        if prompt['answered_by'] is None:
            module.warn('PAM prompt %r was not answered: add a matching entry to prompts'
                        % prompt['text'])
    result['expected'] = params['expect']
    if result['complete']:
        result['matched'] = client.outcome_matches(params['expect'], result['outcome'])
    else:
        result['matched'] = None
        module.warn('check mode: %s not run, the outcome is not known and expect=%s is not '
                    'enforced' % (', '.join(s['step'] for s in result['steps']
                                            if s['status'] == 'skipped'), params['expect']))
    if result['matched'] is False and params['fail_on_mismatch']:
        module.fail_json(msg='%s; expected %s' % (summary(result), params['expect']),
                         changed=False, **result)
    module.exit_json(changed=False, msg=summary(result), **result)


if __name__ == '__main__':
    main()
