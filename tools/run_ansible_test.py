# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible-test on a machine that reaches PyPI but not ci-files.testing.ansible.com.

``ansible-test ... --venv`` bootstraps pip in every virtualenv it creates with a get-pip
script it downloads from ci-files.testing.ansible.com, and looks for a cached copy in
``~/.ansible/test/cache/get_pip_<version>.py`` first. This wrapper runs ansible-test with HOME
set to ``build/ansible-test-home`` (so its virtualenvs stay in the build directory) and puts a
bootstrap script of the same name there which does the same job from PyPI: it installs the pip
bundled with Python (ensurepip), then lets that pip install what ansible-test asked for.

Usage, from the collection copy: ../../../../../tools/run_ansible_test.py sanity --venv
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HOME = os.path.join(os.path.dirname(HERE), 'build', 'ansible-test-home')

BOOTSTRAP = '''\
# Written by tools/run_ansible_test.py: pip bootstrap for ansible-test --venv from PyPI.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
# In a subprocess: ensurepip points PIP_CONFIG_FILE at /dev/null in its own process, which
# would hide the machine's pip configuration (index, CA bundle) from the install below.
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
'''


def pip_version():
    import ansible_test  # pylint: disable=import-outside-toplevel
    source = os.path.join(os.path.dirname(ansible_test.__file__), '_internal',
                          'python_requirements.py')
    with open(source) as handle:
        match = re.search(r"pip='([0-9.]+)'", handle.read())
    if not match:
        raise SystemExit('tools/run_ansible_test.py: cannot find the pip version in %s' % source)
    return match.group(1)


INTEGRATION_CFG = '''\
# Written by tools/run_ansible_test.py (not part of the repository): ansible-test runs the
# targets with this configuration. The modules' temporary files go under the build directory,
# not ~/.ansible/tmp (ansible-test passes no ANSIBLE_* variable of ours through).
[defaults]
remote_tmp = {home}/.ansible/tmp
local_tmp = {home}/.ansible/tmp-local
'''


def write_integration_config(home):
    """tests/integration/integration.cfg of the collection copy ansible-test runs in (cwd)."""
    directory = os.path.join(os.getcwd(), 'tests', 'integration')
    if os.path.isdir(directory):
        with open(os.path.join(directory, 'integration.cfg'), 'w') as handle:
            handle.write(INTEGRATION_CFG.format(home=home))


def main():
    home = os.environ.get('HOSTSEC_ANSIBLE_TEST_HOME', HOME)
    cache = os.path.join(home, '.ansible', 'test', 'cache')
    os.makedirs(cache, exist_ok=True)
    script = os.path.join(cache, 'get_pip_%s.py' % pip_version().replace('.', '_'))
    current = None
    if os.path.exists(script):
        with open(script) as handle:
            current = handle.read()
    if current != BOOTSTRAP:
        with open(script, 'w') as handle:
            handle.write(BOOTSTRAP)
    os.environ['HOME'] = home
    if 'integration' in sys.argv[1:2]:
        write_integration_config(home)
    bindir = os.path.dirname(os.path.abspath(sys.executable))
    os.execv(os.path.join(bindir, 'ansible-test'), ['ansible-test'] + sys.argv[1:])


if __name__ == '__main__':
    main()
