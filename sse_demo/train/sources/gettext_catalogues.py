"""Japanese gettext catalogues (``.mo``) of a fixed list of Debian packages: English msgid -> Japanese msgstr."""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from sse_demo.train.fetch import apt_download, unpack_debs
from sse_demo.train.pair import Pair, Source, language

MO_SUBDIR = Path("usr/share/locale/ja/LC_MESSAGES")
# The Debian packages whose Japanese gettext catalogues are read. Fetched with `apt-get download` (not installed),
# so the data do not depend on what the build machine happens to have installed.
GETTEXT_PACKAGES = (
    "adduser", "appstream", "apt", "at-spi2-common", "bash", "binutils-common", "coreutils", "diffutils", "dpkg",
    "findutils", "gettext", "gettext-base", "gnupg-l10n", "grep", "gsettings-desktop-schemas", "iso-codes",
    "libapt-pkg6.0", "libavahi-common-data", "libc-l10n", "libelf1", "libgdk-pixbuf2.0-common", "libglib2.0-data",
    "libgstreamer1.0-0", "libgtk2.0-common", "libidn2-0", "libpam-runtime", "libpq5", "login", "make", "man-db",
    "net-tools", "packagekit", "postgresql-15", "postgresql-client-15", "psmisc", "python-apt-common", "sed",
    "shared-mime-info", "software-properties-common", "systemd", "tar", "wget", "xdg-user-dirs", "xkb-data",
)  # fmt: skip

_MO_MARKUP = re.compile(r"(%[-+ #0-9.]*[a-zA-Z]|\{[^}]*\}|&|_(?=\w)|<[^>]+>|\\n)")


def gettext_pairs(mo_dir: Path) -> Iterator[Pair]:
    """English msgid to Japanese msgstr from installed ``.mo`` catalogues, minus format codes and accelerators."""
    for path in sorted(mo_dir.glob("*.mo")):
        try:
            with path.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # the parsed msgid -> msgstr table
        except OSError:
            continue
        for key, value in catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if not msgid or not value:
                continue
            en = " ".join(_MO_MARKUP.sub(" ", msgid).split())
            ja = " ".join(_MO_MARKUP.sub(" ", value).split())
            if 3 <= len(en) <= 300 and ja and language(ja) == "ja" and language(en) == "en":
                yield Pair(ja, en, Source.GETTEXT)


def fetch_catalogues(packages: Sequence[str], dest: Path) -> tuple[Path, list[str]]:
    """Download ``packages`` with ``apt-get download`` into ``dest`` and unpack their Japanese catalogues.

    Returns the catalogue folder and the ``.deb`` file names (which carry the versions, for the manifest).
    """
    debs = apt_download(packages, dest / "debs", "pass --no-gettext")
    return unpack_catalogues(debs, dest / "root"), [deb.name for deb in debs]


def unpack_catalogues(debs: Sequence[Path], root: Path) -> Path:
    """Extract ``.deb`` files under ``root`` with ``dpkg-deb -x``; returns ``root``'s Japanese catalogue folder."""
    return unpack_debs(debs, root) / MO_SUBDIR
