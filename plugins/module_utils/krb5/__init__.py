# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kerberos client of hostsec.mgmt.

- :mod:`.deps`: python-gssapi and pykrb5, imported defensively;
- :mod:`.errors` and :mod:`.codes`: Kerberos errors as classes named by the Kerberos error name;
- :mod:`.util`: durations, timestamps, enctype and ticket flag names, krb5.conf overlays;
- :mod:`.ccache`: credential cache names, reading the tickets of a cache, destroying caches;
- :mod:`.acquire`: getting a TGT with a password or a client keytab (GSSAPI credential store
  extensions) into a cache written atomically, and renewal (pykrb5);
- :mod:`.ticket`: the ``krb5_ticket`` state logic (compare, plan, apply);
- :mod:`.keytab`: keytab entries and the in-process GSSAPI handshake that verifies a keytab;
- :mod:`.args`: the options every krb5 module shares.
"""
