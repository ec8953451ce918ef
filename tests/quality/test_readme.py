# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks of README.md are real: they parse, and every option they give a module is an
option that module documents (ansible-doc of the tree under test)."""

import json
import os
import re
import subprocess

import pytest
import yaml

from harness import ansible, paths

pytestmark = pytest.mark.slow


def _yaml_blocks():
    with open(os.path.join(paths.ROOT, 'README.md')) as handle:
        text = handle.read()
    return [yaml.safe_load(block) for block in re.findall(r'```yaml\n(.*?)```', text, re.S)]


def _tasks(data):
    """Every task dict of a playbook or a task list (blocks included)."""
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict):
            continue
        if 'hosts' in item:
            for key in ('pre_tasks', 'tasks', 'post_tasks', 'handlers'):
                yield from _tasks(item.get(key) or [])
        elif 'block' in item:
            for key in ('block', 'rescue', 'always'):
                yield from _tasks(item.get(key) or [])
        else:
            yield item


_DOCS = {}


def _options(module):
    if module not in _DOCS:
        proc = subprocess.run([paths.tool('ansible-doc'), '-j', module], env=ansible.environment(),
                              capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)[module]['doc']
        names = set()
        for name, spec in doc['options'].items():
            names.add(name)
            names.update(spec.get('aliases') or [])
        _DOCS[module] = names
    return _DOCS[module]


def test_readme_has_a_complete_playbook_that_parses(tmp_path):
    playbooks = [block for block in _yaml_blocks()
                 if isinstance(block, list) and block and 'hosts' in block[0]]
    assert playbooks, 'README.md has no playbook with hosts:'
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[login_nodes]\nnode1 ansible_connection=local\n')
    for number, playbook in enumerate(playbooks):
        path = tmp_path / ('play%d.yml' % number)
        path.write_text(yaml.safe_dump(playbook))
        proc = subprocess.run([paths.tool('ansible-playbook'), '--syntax-check', '-i',
                               str(inventory), str(path)], env=ansible.environment(),
                              capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_tasks_use_documented_options_only():
    seen = 0
    for block in _yaml_blocks():
        for task in _tasks(block):
            for key, args in task.items():
                if not key.startswith('hostsec.mgmt.') or not isinstance(args, dict):
                    continue
                seen += 1
                unknown = set(args) - _options(key)
                assert not unknown, '%s: %s' % (key, sorted(unknown))
        if isinstance(block, list):
            for play in block:
                for group, args in ((play or {}).get('module_defaults') or {}).items():
                    module = {'group/hostsec.mgmt.wbem': 'hostsec.mgmt.wbem_info',
                              'group/hostsec.mgmt.pam': 'hostsec.mgmt.pam_check'}.get(group)
                    if module:
                        assert not set(args) - _options(module), (group, args)
    assert seen >= 8, seen


_SITE_LITERAL = re.compile(r'example\.org|EXAMPLE\.ORG|^/|^FILE:|^https?://')
_VARIABLE = re.compile(r'{{\s*([A-Za-z_][A-Za-z0-9_]*)')


def _complete_playbook():
    with open(os.path.join(paths.ROOT, 'README.md')) as handle:
        text = handle.read()
    section = text.split('## A complete playbook', 1)[1].split('\n## ', 1)[0]
    (block,) = re.findall(r'```yaml\n(.*?)```', section, re.S)
    return yaml.safe_load(block)


def test_readme_complete_playbook_takes_site_values_from_its_vars():
    """A user edits only the ``vars:`` of each play: no host name, URL, principal or path is
    written into a task or module_defaults, and every variable they use is in the play's vars
    (the secrets' vault_* variables only there)."""
    for play in _complete_playbook():
        names = set(play.get('vars') or {})
        assert names, 'play %r has no vars:' % play['name']
        args = [a for task in _tasks([play]) for k, a in task.items()
                if k.startswith('hostsec.mgmt.') and isinstance(a, dict)]
        args.extend((play.get('module_defaults') or {}).values())
        for arguments in args:
            for option, value in arguments.items():
                if not isinstance(value, str):
                    continue
                assert not _SITE_LITERAL.search(value), (play['name'], option, value)
                for name in _VARIABLE.findall(value):
                    assert name in names, (play['name'], option, name)
