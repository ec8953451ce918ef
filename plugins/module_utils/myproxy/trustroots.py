# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trust roots into a CA directory: write only what changed, optionally drop what is gone.

The server sends the files of its CA directory (``<hash>.0`` certificates, ``.signing_policy``,
``.namespaces``, CRLs ``.r0`` ...) by name. :func:`sync_trustroots` makes ``dest`` hold them with
mode 0644 (or the mode, owner and group asked for), writing each file atomically and only when
its content or attributes differ, and with ``remove_stale`` removes the files of ``dest`` the
server did not send. Existing files are read and fixed through :func:`..common.files.ensure_file`
(a descriptor opened without following links); a link, or a file of another owner, is replaced.
"""

import hashlib
import os
import re
import stat
import tempfile

from ..common.files import FileWriteError, ensure_file, inspect_file
from .errors import CredentialFileError, MyProxyProtocolError, MyProxyServerIdentityError
from .transport import verify_chain
from . import x509 as mx509

FILE_MODE = 0o644
DIR_MODE = 0o755
# A hashed CA certificate of an OpenSSL CA directory: <subject hash>.<n>.
_HASHED_CERT = re.compile(r'^[0-9a-f]{8}\.[0-9]+$')
# Enough to tell a certificate from junk; CA certificates are a few KiB.
_MAX_ROOT_FILE = 1024 * 1024


def digest(data):
    return hashlib.sha256(data).hexdigest()


def sync_trustroots(dest, files, remove_stale=False, check_mode=False, mode=FILE_MODE,
                    owner=None, group=None, prepare=None, replace=None):
    """Bring ``dest`` in line with ``files`` (``{name: bytes}``).

    ``mode``/``owner``/``group`` are those of each file (owner and group default to the
    effective ids); ``prepare``/``replace`` are the SELinux hooks of
    :func:`..common.files.ensure_file`.

    Returns ``{'changed', 'added', 'updated', 'removed', 'unchanged', 'files',
    'directory_created', 'before', 'after'}``; ``before``/``after`` map file names to the
    SHA-256 of their content (for diffs; trust roots are public).
    """
    for name in files:
        if '/' in name or name in ('', '.', '..'):
            raise MyProxyProtocolError('unsafe trust root file name from the server',
                                       error_name='MALFORMED_REPLY')
    result = {'added': [], 'updated': [], 'removed': [], 'unchanged': [],
              'files': sorted(files), 'directory_created': False, 'before': {}, 'after': {}}
    if not os.path.isdir(dest):
        if os.path.lexists(dest):
            raise FileWriteError('%s exists and is not a directory' % dest, error_name='ENOTDIR')
        result['directory_created'] = True
        if not check_mode:
            try:
                os.makedirs(dest, DIR_MODE)
                os.chmod(dest, DIR_MODE)
            except OSError as exc:
                raise FileWriteError('cannot create %s: %s' % (dest, exc.strerror or exc),
                                     error_name='EACCES' if exc.errno == 13 else None)
        existing = []
    else:
        existing = sorted(os.listdir(dest))
    for name in existing:
        path = os.path.join(dest, name)
        try:
            kind = os.lstat(path).st_mode
        except OSError:
            continue
        if stat.S_ISREG(kind):
            content = inspect_file(path, secret=False)['content']
            if content is not None:
                result['before'][name] = digest(content)
        elif stat.S_ISLNK(kind):
            result['before'][name] = 'symlink'
    for name in sorted(files):
        path = os.path.join(dest, name)
        if result['directory_created']:
            result['added'].append(name)
            if not check_mode:
                ensure_file(path, files[name], mode=mode, owner=owner, group=group,
                            secret=False, prepare=prepare)
        else:
            change = ensure_file(path, files[name], mode=mode, owner=owner, group=group,
                                 check_mode=check_mode, secret=False, prepare=prepare,
                                 replace=bool(replace and os.path.lexists(path)
                                              and replace(path)))
            if not change['changed']:
                result['unchanged'].append(name)
            elif change['before']['exists']:
                result['updated'].append(name)
            else:
                result['added'].append(name)
        result['after'][name] = digest(files[name])
    if remove_stale:
        for name in existing:
            if name in files:
                continue
            path = os.path.join(dest, name)
            if os.path.isdir(path) and not os.path.islink(path):
                continue
            result['removed'].append(name)
            if not check_mode:
                try:
                    os.unlink(path)
                except OSError as exc:
                    raise FileWriteError('cannot remove %s: %s' % (path, exc.strerror or exc))
    for name, value in result['before'].items():
        if name not in result['after'] and name not in result['removed']:
            result['after'][name] = value
    result['changed'] = bool(result['added'] or result['updated'] or result['removed']
                             or result['directory_created'])
    return result


def check_bootstrap(roots, chain, subject):
    """After an unverified download, the server's own chain must verify against what it sent."""
    workdir = tempfile.mkdtemp(prefix='hostsec-trustroots-')
    try:
        for name, data in roots.items():
            with open(os.path.join(workdir, name), 'wb') as handle:
                handle.write(data)
        if not verify_chain(chain, workdir):
            raise MyProxyServerIdentityError(
                'the server certificate %s does not chain to the trust roots the server sent; '
                'nothing was written' % subject, error_name='UNTRUSTED_SERVER_CERTIFICATE')
    finally:
        for name in os.listdir(workdir):
            os.unlink(os.path.join(workdir, name))
        os.rmdir(workdir)


def has_trust_roots(ca_dir):
    """Whether ``ca_dir`` holds at least one CA certificate to verify a server with (a
    ``<hash>.<n>`` file that parses as a PEM certificate).

    This decides ``bootstrap``: when there is something to verify with, the connection is
    verified and a server that does not chain to it is refused (never replaced by an
    unverified download); only an empty or missing directory is bootstrapped.
    """
    if not ca_dir or not os.path.isdir(ca_dir):
        return False
    for name in sorted(os.listdir(ca_dir)):
        path = os.path.join(ca_dir, name)
        if not _HASHED_CERT.match(name) or not os.path.isfile(path):
            continue
        try:
            if os.path.getsize(path) > _MAX_ROOT_FILE:
                continue
            with open(path, 'rb') as handle:
                data = handle.read()
        except OSError:
            continue
        try:
            for label, block in mx509.pem_blocks(data):
                if label in ('CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE'):
                    mx509.load_certificate(block)
                    return True
        except CredentialFileError:
            continue
    return False
