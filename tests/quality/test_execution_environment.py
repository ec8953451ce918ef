# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-builder and the collection: the metadata it introspects, and the sample definition
of the "Execution environments" guide rendered into a build context (no container engine is
needed for either)."""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from harness import ansible, paths

pytestmark = pytest.mark.slow

GUIDE = os.path.join(paths.ROOT, 'docs', 'docsite', 'rst', 'guide_ee.rst')


@pytest.fixture(scope='module')
def builder():
    return os.path.join(paths.tool_venv('ansible-builder', ['ansible-builder>=3.1']),
                        'ansible-builder')


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    return ansible.build_collection(tmp_path_factory.mktemp('dist'))


def _run(argv, cwd):
    proc = subprocess.run(argv, cwd=str(cwd), env=ansible.environment(), capture_output=True,
                          text=True, check=False, timeout=300)
    assert proc.returncode == 0, '%s\n%s\n%s' % (' '.join(argv), proc.stdout, proc.stderr)
    return proc.stdout


def test_introspect_the_installed_collection(builder, tarball, tmp_path):
    _run([paths.tool('ansible-galaxy'), 'collection', 'install', '--force', '-p',
          str(tmp_path / 'collections'), tarball], tmp_path)
    out = _run([builder, 'introspect', '--sanitize', str(tmp_path / 'collections')], tmp_path)
    data = yaml.safe_load(out[out.index('---'):])
    python = {re.split(r'[<>=~! #]', line, 1)[0].lower() for line in data['python']}
    assert {'lxml', 'cryptography', 'pyopenssl', 'gssapi', 'krb5'} <= python, data['python']
    system = ' | '.join(data['system'])
    for entry in ('krb5-devel [platform:rpm compile]', 'python3-devel [platform:rpm compile]',
                  'gcc [compile test]', 'krb5-workstation [platform:rpm', 'pam [platform:rpm'):
        assert entry in system, data['system']


def _sample_definition():
    with open(GUIDE) as handle:
        text = handle.read()
    block = text.split('.. code-block:: yaml', 1)[1].split('\n\n', 2)[1]
    return yaml.safe_load('\n'.join(line[4:] for line in block.splitlines()))


def test_sample_definition_renders_a_build_context(builder, tarball, tmp_path):
    definition = _sample_definition()
    assert definition['version'] == 3
    work = tmp_path / 'ee'
    work.mkdir()
    with open(str(work / 'execution-environment.yml'), 'w') as handle:
        yaml.safe_dump(definition, handle)
    shutil.copy(tarball, str(work / 'hostsec-mgmt.tar.gz'))
    _run([builder, 'create', '-f', 'execution-environment.yml', '-c', 'context',
          '--output-filename', 'Containerfile'], work)
    context = work / 'context'
    containerfile = (context / 'Containerfile').read_text()
    assert 'EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ansible-galaxy collection install' in containerfile
    assert 'introspect' in containerfile  # the collection's requirements are read in the build
    assert 'python3.11-devel' in containerfile
    assert (context / '_build' / 'collections' / 'hostsec-mgmt.tar.gz').is_file()
    with open(str(context / '_build' / 'requirements.yml')) as handle:
        requirements = yaml.safe_load(handle)
    assert requirements['collections'] == [{'name': 'collections/hostsec-mgmt.tar.gz',
                                            'type': 'file'}]


def test_collection_metadata_is_not_an_ee_definition():
    """meta/execution-environment.yml holds only what ansible-builder reads from a collection."""
    with open(os.path.join(paths.ROOT, 'meta', 'execution-environment.yml')) as handle:
        meta = yaml.safe_load(handle)
    assert set(meta['dependencies']) == {'python', 'system'}
    assert 'images' not in meta
    for name in meta['dependencies'].values():
        assert os.path.isfile(os.path.join(paths.ROOT, name)), name
