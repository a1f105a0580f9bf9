"""Writing a file safely: the old content or the new, whole, and the file stays what it was.

`write_atomically(path, content)` is the one place glassgrad writes a file a user asked for
(`nn.Module.save` uses it; drawings and the HTML player can too). It imports nothing of ours.

How it works, and why:

1. **Links are followed.** A path that is a symbolic link (or a chain of them) is written
   through to the file it names, as `open(path, "w")` would: the link stays a link.
2. **All or nothing.** The content goes to a temporary file in the target's folder, named
   `.NAME.glassgrad-XXXXXXXX.tmp`, is flushed to the disk (`fsync`), and the temporary file is
   then renamed over the target (`os.replace`, atomic on POSIX and Windows); the folder is
   synced too. A reader, a crash or a power cut sees the old file or the new one whole.
3. **The file keeps its properties.** Before any content is written, the temporary file takes
   the old file's permission bits (a `chmod 600` file stays 600) and, where the system allows
   (as root, or a group we belong to), its owner and group. A new file gets the mode `open()`
   would give it: the temporary file is created with 0o666 and the kernel applies the umask
   (and a folder's default ACL), not mkstemp's 0o600. A file we may not write (read-only to
   us) is refused as `open()` would refuse it, although the folder would let us replace it.
4. **No orphans, even after kill -9.** A killed process cannot clean up, so its temporary file
   stays behind. Each write holds an exclusive `flock` on its temporary file until the file is
   renamed or removed, and the kernel drops that lock when the process dies, however it dies.
   So the next write to the same target removes every `.NAME.glassgrad-XXXXXXXX.tmp` it can
   lock: nobody is writing those (a live writer's lock makes it skip them). A writer checks,
   once it holds its lock, that its file still has its name (a sweep may have removed it just
   before), and starts over with a new name if not. On a file system without locks nothing is
   swept (orphans stay, nothing is lost); without `fcntl` (Windows), a sweep removes what it
   can: there an open file cannot be deleted.
5. **Errors name the path asked for**, never the temporary file: an empty path, a folder, a
   missing folder, a device or pipe, no right to write, a full disk. On an error the old file
   is unchanged and the temporary file is removed.

Not kept: a file with several hard links becomes a new file under this name (its other names
keep the old content), and extended attributes and ACL entries beyond the mode bits.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

SUFFIX = ".tmp"
TAG = ".glassgrad-"  # temporary files are named f".{stem}{TAG}{8 hex digits}{SUFFIX}"
_QUIETLY = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)  # no link, no pipe wait


def write_atomically(path: str | os.PathLike[str], content: str | bytes, *,
                     encoding: str = "utf-8") -> Path:
    """Replace the file at `path` with `content` (text is encoded with `encoding`), all or
    nothing, keeping its mode, owner and symbolic links; returns `Path(path)`.

    Raises ValueError for an empty path, a path ending in a separator, or a device, pipe or
    socket; IsADirectoryError for a folder; and the OSError of the failing step (no such folder,
    permission denied, no space left...) with the path asked for as its filename.
    """
    asked = os.fspath(path)
    if not isinstance(asked, str):
        raise TypeError(f"write_atomically() needs a str or os.PathLike path, got {asked!r}")
    data = content.encode(encoding) if isinstance(content, str) else bytes(content)
    target = _target(asked)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as error:  # a symlink loop, a component that is a file, ...
        raise _named(error, asked) from None
    _check_replaceable(asked, target, old)
    try:
        _sweep_orphans(target)
        _write_and_replace(target, data, old)
    except OSError as error:
        raise _named(error, asked, old_kept=old is not None) from None
    return Path(asked)


def _target(asked: str) -> Path:
    """The file `asked` names, through every symbolic link; a folder or nothing is an error."""
    if not asked:
        raise ValueError("cannot write to '': the path is empty; give the path of a file")
    if asked.endswith((os.sep, os.altsep or os.sep)):
        raise IsADirectoryError(errno.EISDIR, "this path names a folder (it ends with a "
                                "separator); give the path of a file inside it", asked)
    return Path(os.path.realpath(asked))


def _check_replaceable(asked: str, target: Path, old: os.stat_result | None) -> None:
    if old is None:
        if not target.parent.is_dir():
            raise FileNotFoundError(errno.ENOENT, f"No such folder: {str(target.parent)!r}",
                                    asked)
        return
    if stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a folder; give the path of a file inside it",
                                asked)
    if not stat.S_ISREG(old.st_mode):
        raise ValueError(f"cannot write to {asked!r}: it is not a regular file (a device, pipe "
                         "or socket), and writing safely replaces a file whole")
    effective = os.access in os.supports_effective_ids
    if not os.access(target, os.W_OK, effective_ids=effective):
        raise PermissionError(errno.EACCES, "Permission denied (the file is read-only to us; "
                              "open() would refuse it too)", asked)


def _write_and_replace(target: Path, data: bytes, old: os.stat_result | None) -> None:
    handle, temporary = _create_locked_temporary(target, private=old is not None)
    try:
        if old is not None:
            _copy_owner_and_mode(handle, temporary, old)
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
        os.fsync(handle)
        os.replace(temporary, target)
        temporary = None
        _sync_folder(target.parent)
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        os.close(handle)  # releases the lock, after the rename


def _stem(name: str) -> str:
    """The target's name as it appears in temporary names, kept short enough for the
    file system's 255-byte limit (a long name is cut and told apart by a hash)."""
    encoded = os.fsencode(name)
    if len(encoded) <= 200:
        return name
    cut = name
    while len(os.fsencode(cut)) > 150:
        cut = cut[:-1]
    return f"{cut}~{hashlib.sha256(encoded).hexdigest()[:8]}"


def _temporary_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(re.escape(f".{_stem(target.name)}{TAG}") + "[0-9a-f]{8}" + re.escape(SUFFIX))


def _create_locked_temporary(target: Path, private: bool) -> tuple[int, Path]:
    """A new temporary file beside `target`, open for writing and locked. `private` (when
    an old file's mode will be copied onto it) creates it 0o600 until then; otherwise 0o666,
    which the kernel narrows by the umask exactly as for `open()`."""
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    for _ in range(100):
        temporary = target.with_name(f".{_stem(target.name)}{TAG}{secrets.token_hex(4)}{SUFFIX}")
        try:
            handle = os.open(temporary, flags, 0o600 if private else 0o666)
        except FileExistsError:
            continue
        if fcntl is None:
            return handle, temporary
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)  # waits out a sweep that is looking at it
        except OSError:  # a file system without locks: no sweep can lock it either
            return handle, temporary
        if _still_named(temporary, handle):
            return handle, temporary
        os.close(handle)  # a sweep removed it before we held the lock: take another name
    raise FileExistsError(errno.EEXIST, "could not create a temporary file beside it", str(target))


def _still_named(name: Path, handle: int) -> bool:
    try:
        named = os.stat(name, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(handle)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _copy_owner_and_mode(handle: int, temporary: Path, old: os.stat_result) -> None:
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(handle, old.st_uid, old.st_gid)
        except PermissionError:  # not root: keep at least the group, if it is one of ours
            try:
                os.fchown(handle, -1, old.st_gid)
            except PermissionError:
                pass
    mode = stat.S_IMODE(old.st_mode)  # after chown, which clears set-user/group-id bits
    if hasattr(os, "fchmod"):
        os.fchmod(handle, mode)
    else:
        os.chmod(temporary, mode)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every system can open a folder, which is fine."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _sweep_orphans(target: Path) -> None:
    """Remove temporary files beside `target` left by writers that died (see the docstring)."""
    pattern = _temporary_pattern(target)
    try:
        entries = [entry.path for entry in os.scandir(target.parent) if pattern.fullmatch(entry.name)]
    except OSError:
        return
    for orphan in entries:
        _remove_if_abandoned(orphan)


def _remove_if_abandoned(orphan: str) -> None:
    if fcntl is None:
        try:
            os.unlink(orphan)
        except OSError:
            pass
        return
    try:
        handle = os.open(orphan, os.O_RDONLY | _QUIETLY)
    except PermissionError:  # a temporary file that took a write-only mode
        try:
            handle = os.open(orphan, os.O_WRONLY | _QUIETLY)
        except OSError:
            return
    except OSError:  # gone already, or a symbolic link we did not make
        return
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live writer holds it
            return
        if _still_named(Path(orphan), handle):
            os.unlink(orphan)
    except OSError:
        pass
    finally:
        os.close(handle)


def _named(error: OSError, asked: str, old_kept: bool = False) -> OSError:
    """`error` again, naming the path asked for (never a temporary file) and saying why."""
    reason = error.strerror or str(error)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason += (" (writing safely creates a new file in the folder and renames it over the "
                   "old one, so the folder must be writable)")
    if old_kept:
        reason += "; the old file is unchanged"
    if error.errno is None:  # an OSError made without an errno (by a library, or a test)
        return type(error)(f"{reason}: {asked!r}")
    return type(error)(error.errno, reason, asked)
