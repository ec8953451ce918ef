# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """The file options of modules that write a credential or CA file (add_file_common_args).

    Modules document O(mode) themselves (its default differs); this fragment documents the rest.
    """

    DOCUMENTATION = r"""
options:
  owner:
    description:
      - The owner of the file written (name or uid).
      - Defaults to the user the module runs as (its effective uid), never to the owner of a file
        that is already there. A file of another owner is never kept or chowned; it is replaced by
        a new file.
    type: str
  group:
    description:
      - The group of the file written (name or gid).
      - Defaults to the effective gid of the module.
    type: str
  seuser:
    description:
      - The user part of the SELinux context of the file written. It is set on the new file before
        it is renamed into place; a file that is kept but has another context is rewritten.
      - V(_default) (for any of the four parts) leaves that part to the policy, what a new file in
        the directory gets.
      - Ignored, with a warning, when SELinux is not enabled on the managed host.
    type: str
  serole:
    description:
      - The role part of the SELinux context, as for O(seuser).
    type: str
  setype:
    description:
      - The type part of the SELinux context, as for O(seuser).
    type: str
  selevel:
    description:
      - The level part of the SELinux context (MLS/MCS), as for O(seuser).
    type: str
  unsafe_writes:
    description:
      - Ignored. Every file is written to a temporary file in the same directory and renamed over
        the destination; there is no unsafe fallback.
    type: bool
    default: false
  attributes:
    description:
      - Not supported; setting it fails the task, since file attributes (C(chattr)) cannot be
        set safely on a file that is replaced atomically.
    type: str
    aliases: [attr]
"""
