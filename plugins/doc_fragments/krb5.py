# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """Options shared by every krb5 module (module_utils/krb5/args.py builds their spec)."""

    DOCUMENTATION = r"""
options:
  krb5_config:
    description:
      - The Kerberos configuration file to use instead of the system's (C(/etc/krb5.conf), or
        what E(KRB5_CONFIG) names). It is used for this task only.
    type: path
  ccache:
    description:
      - The credential cache, as a Kerberos cache name C(TYPE:residual). A name without a type
        is a file.
      - V(FILE:/path) is one cache in one file. V(DIR:/directory) is a collection of caches in a
        directory (the module works on the cache of the principal in it, or on the primary
        cache), V(DIR::/directory/tktNAME) one cache of such a collection. V(KEYRING:...) and
        V(KCM:) caches are used through the Kerberos library.
      - Defaults to the default cache of the user the module runs as (E(KRB5CCNAME), then
        C(default_ccache_name) of krb5.conf, then C(FILE:/tmp/krb5cc_UID)).
    type: str
requirements:
  - MIT Kerberos libraries on the managed host (Debian C(libkrb5-3), RHEL C(krb5-libs)).
  - python-gssapi (pip C(gssapi), Debian and RHEL C(python3-gssapi)) for the Python that runs
    the module.
  - Optional, pykrb5 (pip C(krb5), Fedora/EPEL C(python3-krb5)); without it the module calls
    C(libkrb5.so.3) through the collection's own binding, with the same results.
notes:
  - Kerberos failures are reported with the Kerberos error name (for example
    C(KRB5KDC_ERR_PREAUTH_FAILED), C(KRB5_KDC_UNREACH), C(KRB5KRB_AP_ERR_SKEW)) in
    C(error.name) and the class of the failure in C(error.class).
"""
