# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changelog fragments follow antsibull-changelog's rules and the community's habits:
new modules and roles are not "minor changes" (the tool makes those sections itself; roles are
declared with ``add object.role``), and before the first release nothing is a bug fix."""

import glob
import os
import re
import subprocess

import yaml

from harness import paths

CHANGELOGS = os.path.join(paths.ROOT, 'changelogs')


def _fragments():
    for path in sorted(glob.glob(os.path.join(CHANGELOGS, 'fragments', '*.y*ml'))):
        with open(path) as handle:
            yield os.path.basename(path), yaml.safe_load(handle) or {}


def _released():
    with open(os.path.join(CHANGELOGS, 'changelog.yaml')) as handle:
        return yaml.safe_load(handle) or {}


def test_antsibull_changelog_lint():
    proc = subprocess.run([paths.tool('antsibull-changelog'), 'lint'], cwd=paths.ROOT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_no_new_module_or_role_entries_in_minor_changes():
    for name, fragment in _fragments():
        for entry in fragment.get('minor_changes') or []:
            assert not re.search(r'\bnew (module|role|plugin)\b', entry), (name, entry)


def test_every_role_is_declared():
    declared = set()
    for _name, fragment in _fragments():
        declared.update(item['name'] for item in fragment.get('add object.role') or [])
    for release in (_released().get('releases') or {}).values():
        declared.update(item['name'] for item in (release.get('objects') or {}).get('role') or [])
    roles = {os.path.basename(p) for p in glob.glob(os.path.join(paths.ROOT, 'roles', '*'))
             if os.path.isdir(p)}
    assert roles and roles <= declared, roles - declared


def test_no_bugfix_entries_before_the_first_release():
    if _released().get('releases'):
        return
    for name, fragment in _fragments():
        assert not fragment.get('bugfixes') and not fragment.get('security_fixes'), name


def test_the_version_of_galaxy_yml_is_released_or_has_fragments():
    """galaxy.yml's version is either released (changelog.yaml and CHANGELOG.rst know it) or
    the next one, with fragments waiting for `antsibull-changelog release`."""
    with open(os.path.join(paths.ROOT, 'galaxy.yml')) as handle:
        version = str(yaml.safe_load(handle)['version'])
    releases = _released().get('releases') or {}
    if version in releases:
        with open(os.path.join(paths.ROOT, 'CHANGELOG.rst')) as handle:
            assert 'v%s' % version in handle.read()
        assert releases[version].get('release_date')
    else:
        assert list(_fragments()), 'version %s is neither released nor has fragments' % version
