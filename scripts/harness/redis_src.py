"""Redis's own test tree (`runtest` and `tests/`) for the `redis-tcl` suite, taken from Debian's
source package `redis`, the same 7.0.15 as the redis-server the other suites compare against.

Fetched at test time, never committed: `apt-get source --download-only redis` after adding a
`deb-src` entry for the archive the machine's `deb` entries already use, then `runtest` and
`tests/` unpacked from the `.orig.tar.gz` into target/redis-tcl/redis-VERSION/. A warm run finds
the unpacked tree (its stamp names the SHA-256 of the tarball and of PATCHES) and downloads nothing.

Two spots of the tree are changed after unpacking (PATCHES), the same for both targets, so that
one thing llmcached leaves out on purpose does not end a whole unit at its first block:
- Redis's external-server setup sends `FUNCTION FLUSH` before every `start_server` block, and
  llmcached has no FUNCTION (the README says so): that one call is wrapped in `catch`.
- The units tune Redis's encoding thresholds (`CONFIG SET list-max-ziplist-size 5`, in a block's
  `overrides` or in a helper outside any test), and llmcached has no encodings, so it has no such
  settings: the `r` helper answers OK itself when the server rejects one of those parameters as
  unknown. Redis accepts them, so nothing changes there; the tests that then check an encoding
  (OBJECT ENCODING) still fail on llmcached and are listed as such.
Nothing else of the tree is touched.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

from . import proc

VERSION = "7.0.15"
SOURCES_DIR = Path("/etc/apt")
# Written by us, so a later run recognises it (and a reader of the machine knows where it came from).
OUR_SOURCES = "llmcached-deb-src.sources"
# The changes to the unpacked tree (see the module doc): file, text, replacement.
PATCHES = (
    ("tests/support/server.tcl", "    r function flush\n", "    catch {r function flush}\n"),
    ("tests/test_helper.tcl",
     'proc r {args} {\n'
     '    set level 0\n'
     '    if {[string is integer [lindex $args 0]]} {\n'
     '        set level [lindex $args 0]\n'
     '        set args [lrange $args 1 end]\n'
     '    }\n'
     '    [srv $level "client"] {*}$args\n'
     '}\n',
     'proc r {args} {\n'
     '    set level 0\n'
     '    if {[string is integer [lindex $args 0]]} {\n'
     '        set level [lindex $args 0]\n'
     '        set args [lrange $args 1 end]\n'
     '    }\n'
     '    # (llmcached test harness) an encoding threshold the server does not have is not an error\n'
     '    if {[string equal -nocase [lrange $args 0 1] {config set}] &&\n'
     '        [regexp {^(list|hash|set|zset)-(max|compress)-} [lindex $args 2]]} {\n'
     '        if {[catch {[srv $level "client"] {*}$args} reply] &&\n'
     '            ![string match "*Unknown option*" $reply]} {\n'
     '            error $reply\n'
     '        }\n'
     '        return OK\n'
     '    }\n'
     '    [srv $level "client"] {*}$args\n'
     '}\n'),
)


class FetchFailed(Exception):
    """The test tree could not be fetched or unpacked; the message says why."""


def tree(target_dir: Path, as_root: Callable[[list[str]], None], apt_update: Callable[[], None]) -> Path:
    """The unpacked test tree (a directory holding `runtest` and `tests/`), fetched if missing.

    `as_root` runs a command as root (raising on failure) and `apt_update` runs `apt-get update`
    once per run; both come from deps.Deps.
    """
    base = target_dir / "redis-tcl"
    unpacked = base / f"redis-{VERSION}"
    stamp = unpacked / ".orig.sha256"
    tarball = base / "src" / f"redis_{VERSION}.orig.tar.gz"
    if stamp.is_file() and tarball.is_file() and stamp.read_text().strip() == _stamp(tarball):
        return unpacked
    if not tarball.is_file():
        _download(tarball.parent, as_root, apt_update)
    if not tarball.is_file():
        found = sorted(p.name for p in tarball.parent.glob("*.orig.tar.*"))
        raise FetchFailed(f"apt-get source brought {found or 'no .orig tarball'}, not {tarball.name}")
    shutil.rmtree(unpacked, ignore_errors=True)
    _unpack(tarball, base)
    for file, before, after in PATCHES:
        _patch(unpacked / file, before, after)
    stamp.write_text(_stamp(tarball) + "\n")
    return unpacked


def _download(directory: Path, as_root: Callable[[list[str]], None], apt_update: Callable[[], None]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if _add_deb_src(SOURCES_DIR, directory, as_root):
        print(f"added {SOURCES_DIR / 'sources.list.d' / OUR_SOURCES}", flush=True)
    apt_update()
    # Not as root: downloading a source package needs no privilege.
    done = proc.run(["sh", "-c", f"cd '{directory}' && apt-get source --download-only redis"],
                    timeout=600)
    if done.status != 0:
        raise FetchFailed(f"apt-get source --download-only redis failed (exit status {done.status})")


def _add_deb_src(apt: Path, scratch: Path, as_root: Callable[[list[str]], None]) -> bool:
    """Writes a deb-src stanza for each Debian-archive `deb` entry that has none; True if it
    wrote the file. Only the Debian archive (deb.debian.org, security.debian.org, a snapshot)
    is mirrored: a third-party repository usually publishes no sources, and a deb-src entry for
    it would fail every `apt-get update`."""
    entries = _entries(apt)
    have_src = {(uri, suite) for kind, uri, suite, _, _ in entries if kind == "deb-src"}
    wanted: dict[tuple[str, str], tuple[list[str], str]] = {}
    for kind, uri, suite, components, signed_by in entries:
        if kind == "deb" and _is_debian_archive(uri) and (uri, suite) not in have_src:
            wanted.setdefault((uri, suite), (components, signed_by))
    if not wanted:
        return False
    stanzas = []
    for (uri, suite), (components, signed_by) in wanted.items():
        lines = ["Types: deb-src", f"URIs: {uri}", f"Suites: {suite}", f"Components: {' '.join(components)}"]
        if signed_by:
            lines.append(f"Signed-By: {signed_by}")
        stanzas.append("\n".join(lines))
    text = ("# Debian sources for Redis's own test tree (llmcached's scripts/test.sh, redis-tcl)\n"
            + "\n\n".join(stanzas) + "\n")
    draft = scratch / OUR_SOURCES
    draft.write_text(text)
    as_root(["install", "-m", "644", str(draft), str(apt / "sources.list.d" / OUR_SOURCES)])
    return True


Entry = tuple[str, str, str, list[str], str]


def _entries(apt: Path) -> list[Entry]:
    """(type, uri, suite, components, signed-by) of every enabled entry, one-line or deb822."""
    entries: list[Entry] = []
    files = [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.list"))]
    for file in files:
        if not file.is_file():
            continue
        for line in file.read_text(errors="replace").splitlines():
            line = line.split("#", 1)[0].strip()
            match = re.match(r"^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
            if match:
                options = dict(o.split("=", 1) for o in (match[2] or "").split() if "=" in o)
                entries.append((match[1], match[3].rstrip("/"), match[4], match[5].split(),
                                options.get("signed-by", "")))
    for file in sorted((apt / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", file.read_text(errors="replace")):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.strip()
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for kind in fields.get("types", "").split():
                for uri in fields.get("uris", "").split():
                    for suite in fields.get("suites", "").split():
                        entries.append((kind, uri.rstrip("/"), suite, fields.get("components", "").split(),
                                        fields.get("signed-by", "")))
    return entries


def _is_debian_archive(uri: str) -> bool:
    return bool(re.match(r"^https?://(deb|security|snapshot|ftp\.[a-z]+)\.debian\.org/", uri + "/"))


def _unpack(tarball: Path, into: Path) -> None:
    """Extracts only `redis-VERSION/runtest` and `redis-VERSION/tests/...`."""
    top = f"redis-{VERSION}/"
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers()
                   if m.name == top + "runtest" or m.name.startswith(top + "tests/")]
        if not members:
            raise FetchFailed(f"{tarball.name} holds no {top}runtest or {top}tests/")
        for member in members:
            if member.name.startswith("/") or ".." in Path(member.name).parts:
                raise FetchFailed(f"{tarball.name}: unsafe member {member.name}")
        if hasattr(tarfile, "data_filter"):
            archive.extractall(into, members=members, filter="data")
        else:  # Python before 3.11.4: the members were checked above
            archive.extractall(into, members=members)
    (into / top / "runtest").chmod(0o755)


def _patch(path: Path, before: str, after: str) -> None:
    text = path.read_text()
    if text.count(before) != 1:
        first = before.splitlines()[0]
        raise FetchFailed(f"{path}: want exactly one {first!r}... to change, found {text.count(before)}")
    path.write_text(text.replace(before, after))


def _stamp(tarball: Path) -> str:
    """The tarball's SHA-256 and the patches': a changed patch unpacks the tree afresh."""
    return (hashlib.sha256(tarball.read_bytes()).hexdigest() + " "
            + hashlib.sha256(repr(PATCHES).encode()).hexdigest())
