# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ctypes binding of the Linux-PAM application API (``libpam.so.0``).

Why not python-pam: its ``authenticate()`` always runs authenticate + acct_mgmt with a fixed
conversation (password only, no extra prompts, no PAM items but TTY), and it resolves the PAM
functions through the libpam handle. That bypasses any interposer loaded with ``LD_PRELOAD``
(pam_wrapper, used to test PAM stacks without touching /etc/pam.d), which a C program linked
with ``-lpam`` would go through. This binding loads libpam with ``RTLD_GLOBAL`` and resolves
every function through the process's global symbol scope, exactly like such a program.

libpam is a system library present wherever PAM is; nothing needs to be installed from PyPI.
"""

import ctypes
import ctypes.util

from ..common.deps import OptionalDependency
from ..common.errors import MissingDependencyError

LIBPAM = OptionalDependency('libpam', deb='libpam0g', rpm='pam', python=False)


class PamHandle(ctypes.Structure):
    """Opaque ``pam_handle_t``."""
    _fields_ = [('handle', ctypes.c_void_p)]


class PamMessage(ctypes.Structure):
    _fields_ = [('msg_style', ctypes.c_int), ('msg', ctypes.c_char_p)]


class RawPamMessage(ctypes.Structure):
    """``struct pam_message`` with ``msg`` as a raw pointer, read without copying it whole."""
    _fields_ = [('msg_style', ctypes.c_int), ('msg', ctypes.c_void_p)]


class PamResponse(ctypes.Structure):
    # resp is malloc()ed by us and free()d by libpam: keep it a raw pointer.
    _fields_ = [('resp', ctypes.c_void_p), ('resp_retcode', ctypes.c_int)]


CONV_FUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int,
                             ctypes.POINTER(ctypes.POINTER(PamMessage)),
                             ctypes.POINTER(ctypes.POINTER(PamResponse)), ctypes.c_void_p)

FAIL_DELAY_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p)


class PamConv(ctypes.Structure):
    _fields_ = [('conv', CONV_FUNC), ('appdata_ptr', ctypes.c_void_p)]


_P_HANDLE = ctypes.c_void_p
_SIGNATURES = {
    'pam_start': (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(PamConv),
                                 ctypes.POINTER(_P_HANDLE)]),
    'pam_end': (ctypes.c_int, [_P_HANDLE, ctypes.c_int]),
    'pam_authenticate': (ctypes.c_int, [_P_HANDLE, ctypes.c_int]),
    'pam_acct_mgmt': (ctypes.c_int, [_P_HANDLE, ctypes.c_int]),
    'pam_setcred': (ctypes.c_int, [_P_HANDLE, ctypes.c_int]),
    'pam_open_session': (ctypes.c_int, [_P_HANDLE, ctypes.c_int]),
    'pam_close_session': (ctypes.c_int, [_P_HANDLE, ctypes.c_int]),
    'pam_set_item': (ctypes.c_int, [_P_HANDLE, ctypes.c_int, ctypes.c_void_p]),
    'pam_putenv': (ctypes.c_int, [_P_HANDLE, ctypes.c_char_p]),
    'pam_getenvlist': (ctypes.POINTER(ctypes.c_void_p), [_P_HANDLE]),
    'pam_strerror': (ctypes.c_char_p, [_P_HANDLE, ctypes.c_int]),
}
# Linux-PAM >= 1.4: like pam_start, with the directory to read the service files from.
_OPTIONAL = {
    'pam_start_confdir': (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.POINTER(PamConv), ctypes.c_char_p,
                                         ctypes.POINTER(_P_HANDLE)]),
}
_LIBC = {
    'calloc': (ctypes.c_void_p, [ctypes.c_size_t, ctypes.c_size_t]),
    'strdup': (ctypes.c_void_p, [ctypes.c_char_p]),
    'free': (None, [ctypes.c_void_p]),
    'memset': (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]),
    'strlen': (ctypes.c_size_t, [ctypes.c_void_p]),
}


class LibPam(object):
    """The PAM and libc functions the client calls, with their C signatures."""

    def __init__(self, name=None):
        path = name or ctypes.util.find_library('pam') or 'libpam.so.0'
        try:
            self.library = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            dependency = OptionalDependency(LIBPAM.name, deb=LIBPAM.deb, rpm=LIBPAM.rpm,
                                            python=False)
            dependency.failed(exc)
            raise MissingDependencyError(dependency.message(), details={'dependency': 'libpam'})
        self.path = path
        for func_name in _SIGNATURES:
            if not hasattr(self.library, func_name):
                raise MissingDependencyError(
                    '%s does not provide %s(): not a Linux-PAM library' % (path, func_name),
                    details={'dependency': 'libpam'})
        scope = ctypes.CDLL(None)
        for table, required in ((_SIGNATURES, True), (_OPTIONAL, False), (_LIBC, True)):
            for func_name, (restype, argtypes) in table.items():
                func = self._resolve(scope, func_name)
                if func is None:
                    if required:
                        raise MissingDependencyError(
                            '%s does not provide %s(): not a Linux-PAM library' % (path, func_name),
                            details={'dependency': 'libpam'})
                    setattr(self, func_name, None)
                    continue
                func.restype = restype
                func.argtypes = argtypes
                setattr(self, func_name, func)

    def _resolve(self, scope, func_name):
        for source in (scope, self.library):
            try:
                return getattr(source, func_name)
            except AttributeError:
                continue
        return None

    def free_env_list(self, env_list):
        """Free a NULL-terminated ``char **`` returned by ``pam_getenvlist``."""
        index = 0
        while env_list[index]:
            self.free(env_list[index])
            index += 1
        self.free(ctypes.cast(env_list, ctypes.c_void_p))

    def free_secret(self, pointer):
        """Overwrite a malloc()ed C string with zeros, then free it."""
        if pointer:
            self.memset(pointer, 0, self.strlen(pointer))
            self.free(pointer)


def pam_wrapper_loaded():
    """Whether pam_wrapper (``libpam_wrapper.so``) is loaded into this process.

    pam_wrapper only works when it is preloaded (``LD_PRELOAD``); the ``PAM_WRAPPER*``
    variables alone change nothing. ``pam_wrapper_enabled`` is a symbol of pam_wrapper only.
    """
    try:
        ctypes.CDLL(None).pam_wrapper_enabled  # pylint: disable=expression-not-assigned
    except (AttributeError, OSError):
        return False
    return True


_LOADED = {}


def load(name=None):
    """Return the (cached) :class:`LibPam` for ``name`` (default: the system's libpam)."""
    if name not in _LOADED:
        _LOADED[name] = LibPam(name)
    return _LOADED[name]
