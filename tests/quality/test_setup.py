# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Makefile installs for each entry point.

`make lint` and `make docs` set up only what the static checks and the docs build need:
bindep's "lint" profile (no KDC, no myproxy-server, no pam_wrapper) and
tests/requirements-lint.txt (no managed-host libraries that compile against MIT Kerberos).
"""

import os
import re
import subprocess

from harness import paths

#: Packages that only the tests' real services (or their builds) need.
TEST_ONLY = ('krb5-kdc', 'krb5-admin-server', 'myproxy-server', 'myproxy-admin', 'libpam-wrapper',
             'pamtester', 'sblim-wbemcli', 'libkrb5-dev', 'gcc', 'faketime', 'krb5-pkinit')


def _bindep(profile):
    proc = subprocess.run([paths.tool('bindep'), '-l', 'newline', '-f',
                           os.path.join(paths.ROOT, 'bindep.txt'), profile],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def _dry_run(*targets):
    """Every recipe line `make` would run from scratch (-B) for ``targets``."""
    proc = subprocess.run(['make', '-n', '-B'] + list(targets), cwd=paths.ROOT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_lint_profile_has_no_test_services():
    lint, test = _bindep('lint'), _bindep('test')
    assert lint and lint <= test
    assert not lint & set(TEST_ONLY), lint
    assert set(TEST_ONLY) <= test


def test_make_lint_and_docs_install_the_lint_profile_only():
    lines = _dry_run('lint', 'docs')
    sysdeps = [line for line in lines if 'install_sysdeps.sh' in line]
    assert sysdeps and all(line.split()[-1] == 'lint' for line in sysdeps), sysdeps
    installs = [line for line in lines if ' install ' in line and ' -r ' in line]
    assert installs and all(line.endswith('tests/requirements-lint.txt') for line in installs), \
        installs


def test_make_test_installs_the_test_profile():
    lines = _dry_run('test')
    assert any('install_sysdeps.sh' in line and line.split()[-1] == 'test' for line in lines), lines
    assert any(line.endswith('-r tests/requirements.txt') for line in lines), lines


def test_lint_requirements_have_no_managed_host_libraries():
    with open(os.path.join(paths.ROOT, 'tests', 'requirements-lint.txt')) as handle:
        names = {line.split('>')[0].split('=')[0].split('<')[0].strip().lower()
                 for line in handle if line.strip() and not line.startswith('#')}
    assert not names & {'gssapi', 'krb5', 'k5test', 'pywbem', '-r ../requirements.txt'}, names


def test_ansible_commands_write_nothing_in_home(tmp_path):
    """The environment the tests give ansible and ansible-galaxy keeps $HOME
    clean (no ~/.ansible/tmp, galaxy cache or installed collection)."""
    from harness import ansible  # pylint: disable=import-outside-toplevel
    home = tmp_path / 'home'
    home.mkdir()
    env = ansible.environment({'HOME': str(home)})
    # The module files (AnsiballZ) go to remote_tmp, which expands ~ from the password
    # database, not from $HOME: read where they went from -vvv, for this ansible-core and the
    # oldest supported one (whose default does not follow ANSIBLE_HOME).
    oldest = os.path.join(paths.oldest_ansible_bin(), 'ansible')
    for command in (paths.tool('ansible'), oldest):
        run = ansible.run_command([command, 'localhost', '-i', ansible.INVENTORY, '-m',
                                   'ansible.builtin.ping', '-vvv'], env={'HOME': str(home)})
        assert run.rc == 0, run.explain()
        module_dirs = set(re.findall(r"(/[^\s'\"]*/ansible-tmp-[^/\s'\"]+)", run.output))
        assert module_dirs, run.output
        assert all(d.startswith(paths.BUILD + os.sep) for d in module_dirs), module_dirs
    dist = tmp_path / 'dist'
    for argv in (['ansible-galaxy', 'collection', 'build', '--force', '--output-path', str(dist),
                  paths.ROOT],):
        proc = subprocess.run([paths.tool(argv[0])] + argv[1:], env=env, capture_output=True,
                              text=True, check=False, timeout=300, cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stderr
    tarball = [str(p) for p in dist.iterdir()]
    # --force: the tests' ANSIBLE_COLLECTIONS_PATH already holds the mirror of this tree.
    proc = subprocess.run([paths.tool('ansible-galaxy'), 'collection', 'install', '--force', '-p',
                           str(tmp_path / 'installed')] + tarball, env=env, capture_output=True,
                          text=True, check=False, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / 'installed' / 'ansible_collections' / 'hostsec' / 'mgmt').is_dir()
    assert sorted(p.name for p in home.iterdir()) == []


#: The python3 each platform release ships (its default interpreter).
DISTRO_PYTHON = {('Debian', 'buster'): (3, 7), ('Debian', 'bullseye'): (3, 9),
                 ('Debian', 'bookworm'): (3, 11), ('Ubuntu', 'focal'): (3, 8),
                 ('Ubuntu', 'jammy'): (3, 10), ('Ubuntu', 'noble'): (3, 12),
                 ('EL', '7'): (2, 7), ('EL', '8'): (3, 6), ('EL', '9'): (3, 9)}


def _python_requires():
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(paths.ROOT, 'tests', 'config.yml')) as handle:
        spec = yaml.safe_load(handle)['modules']['python_requires']
    assert spec.startswith('>=')
    return tuple(int(part) for part in spec[2:].strip().split('.'))


def test_role_platforms_are_what_the_modules_support():
    """Every platform release a role claims ships a python3 the modules run on."""
    import glob  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel
    minimum = _python_requires()
    metas = glob.glob(os.path.join(paths.ROOT, 'roles', '*', 'meta', 'main.yml'))
    assert metas
    for meta in metas:
        with open(meta) as handle:
            platforms = yaml.safe_load(handle)['galaxy_info']['platforms']
        for platform in platforms:
            for version in platform['versions']:
                key = (platform['name'], str(version))
                assert key in DISTRO_PYTHON, '%s: %s %s is not a release we know' % ((meta,) + key)
                assert DISTRO_PYTHON[key] >= minimum, '%s: %s %s ships Python %s' % (
                    (meta,) + key + ('.'.join(map(str, DISTRO_PYTHON[key])),))
