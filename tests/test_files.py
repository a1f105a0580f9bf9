"""Saving files safely (autograd.files.write_atomically, through nn.Module.save): modes, owners,
symbolic links, clear errors, and kill -9 at every step and at random moments."""
import contextlib
import errno
import fcntl
import json
import os
import random
import shutil
import signal
import stat
import tempfile
import threading
import time
import warnings

import pytest

import nn
from autograd.files import write_atomically

NOBODY = 65534


def model(seed=0, width=3):
    return nn.MLP(2, [width, 1], activation="tanh", seed=seed)


def temporaries(folder):
    return sorted(name for name in os.listdir(folder) if ".glassgrad-" in name)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@contextlib.contextmanager
def umask(value):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


# ---- what a file keeps --------------------------------------------------------------------------
@pytest.mark.parametrize("kept", [0o600, 0o640, 0o604, 0o660, 0o755, 0o2640])
@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_a_saved_again_file_keeps_its_mode_whatever_the_umask(tmp_path, kept, mask):
    path = tmp_path / "m.json"
    model(0).save(path)
    os.chmod(path, kept)
    with umask(mask):
        model(1).save(path)
    assert mode(path) == kept
    assert json.loads(path.read_text())["parameters"] == model(1).state_dict()


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o000])
def test_a_new_file_gets_the_mode_open_gives_it(tmp_path, mask):
    with umask(mask):
        model(0).save(tmp_path / "m.json")
        with open(tmp_path / "plain.txt", "w") as file:  # the reference: what open() does
            file.write("x")
    assert mode(tmp_path / "m.json") == mode(tmp_path / "plain.txt") == 0o666 & ~mask


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_owner_and_group_are_kept(tmp_path):
    path = tmp_path / "m.json"
    model(0).save(path)
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o640)
    model(1).save(path)
    info = os.stat(path)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (NOBODY, NOBODY, 0o640)


def test_saving_through_symbolic_links_writes_their_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "m.json"
    model(0).save(target)
    os.chmod(target, 0o600)
    absolute = tmp_path / "absolute.json"
    absolute.symlink_to(target)
    relative = tmp_path / "relative.json"
    relative.symlink_to(os.path.join("real", "m.json"))  # relative to the link's folder
    chain = tmp_path / "chain.json"
    chain.symlink_to("relative.json")
    for seed, link in enumerate((absolute, relative, chain), start=1):
        model(seed).save(link)
        assert link.is_symlink() and os.path.samefile(link, target)
        assert json.loads(target.read_text())["parameters"] == model(seed).state_dict()
        assert mode(target) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["absolute.json", "chain.json", "real", "relative.json"]
    assert os.listdir(tmp_path / "real") == ["m.json"]


def test_a_dangling_link_creates_its_target_as_open_would(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    model(0).save(link)
    assert link.is_symlink() and (tmp_path / "made.json").is_file()
    assert json.loads((tmp_path / "made.json").read_text())["parameters"] == model(0).state_dict()


def test_save_returns_the_path_asked_for_and_writes_bytes_or_text(tmp_path):
    assert model(0).save(str(tmp_path / "m.json")) == tmp_path / "m.json"
    assert write_atomically(tmp_path / "b.bin", b"\x00\xff") == tmp_path / "b.bin"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    write_atomically(tmp_path / "t.txt", "héllo\n", encoding="latin-1")
    assert (tmp_path / "t.txt").read_bytes() == "héllo\n".encode("latin-1")


def test_a_very_long_file_name_still_gets_a_temporary_file(tmp_path):
    name = "m" * 250 + ".json"  # 255 bytes: the longest name most file systems allow
    model(0).save(tmp_path / name)
    model(1).save(tmp_path / name)
    assert os.listdir(tmp_path) == [name]


# ---- errors name the path asked for -------------------------------------------------------------
def refused(call, kind, *pieces):
    with pytest.raises(kind) as caught:
        call()
    message = str(caught.value)
    assert ".glassgrad-" not in message and ".tmp" not in message, message
    for piece in pieces:
        assert piece in message, message
    return caught.value


def test_an_empty_path_and_folders_are_clear_errors(tmp_path):
    m = model(0)
    refused(lambda: m.save(""), ValueError, "cannot write to '': the path is empty")
    refused(lambda: m.save(tmp_path), IsADirectoryError, repr(str(tmp_path)),
            "Is a folder; give the path of a file inside it")
    refused(lambda: m.save(f"{tmp_path}/new/"), IsADirectoryError, "ends with a separator")
    (tmp_path / "link").symlink_to(tmp_path)
    refused(lambda: m.save(tmp_path / "link"), IsADirectoryError, repr(str(tmp_path / "link")))
    assert not (tmp_path / "new").exists() and temporaries(tmp_path) == []


def test_a_missing_folder_a_file_as_folder_and_a_link_loop_are_named(tmp_path):
    m = model(0)
    asked = str(tmp_path / "nope" / "m.json")
    error = refused(lambda: m.save(asked), FileNotFoundError, repr(asked), "No such folder",
                    str(tmp_path / "nope"))
    assert error.filename == asked and error.errno == errno.ENOENT
    m.save(tmp_path / "m.json")
    refused(lambda: m.save(tmp_path / "m.json" / "x"), NotADirectoryError,
            repr(str(tmp_path / "m.json" / "x")))
    (tmp_path / "loop").symlink_to("loop")
    refused(lambda: m.save(tmp_path / "loop"), OSError, repr(str(tmp_path / "loop")))


def test_a_pipe_is_not_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused(lambda: model(0).save(fifo), ValueError, "not a regular file", repr(str(fifo)))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_failure_while_writing_keeps_the_old_file_and_names_the_path(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    model(0).save(path)
    old = path.read_bytes()

    def disk_full(handle, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    error = refused(lambda: model(1).save(path), OSError, "No space left on device",
                    "the old file is unchanged", repr(str(path)))
    assert error.errno == errno.ENOSPC
    assert path.read_bytes() == old and temporaries(tmp_path) == []


def test_an_interrupt_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    model(0).save(path)
    old = path.read_bytes()

    def interrupted(handle):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model(1).save(path)
    assert path.read_bytes() == old and temporaries(tmp_path) == []


def fork() -> int:
    """os.fork(), without Python 3.12's warning about forking a process that has threads:
    each child here only saves or opens a file and leaves with os._exit, never returning into
    pytest."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


@pytest.fixture
def shared_folder():
    """A folder outside pytest's private (0700) tree, so another user can be given access."""
    folder = tempfile.mkdtemp(prefix="glassgrad-files-")
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder)


def as_another_user(call):
    """Run `call` as a user without root's rights: in a forked child switched to 'nobody' when
    we are root, here otherwise. Returns (exception type name, message), or None."""
    if os.geteuid() != 0:
        try:
            call()
        except Exception as error:  # noqa: BLE001 - reported to the test
            return type(error).__name__, str(error)
        return None
    read, write = os.pipe()
    pid = fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                call()
                report = None
            except Exception as error:  # noqa: BLE001
                report = [type(error).__name__, str(error)]
            os.write(write, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = json.loads(pipe.read() or "null")
    os.waitpid(pid, 0)
    return tuple(report) if report else None


def give(path, mode_bits, owner=None):
    os.chmod(path, mode_bits)
    if os.geteuid() == 0 and owner is not None:
        os.chown(path, owner, owner)


def test_a_folder_we_cannot_write_is_named_and_explained(shared_folder):
    path = os.path.join(shared_folder, "m.json")
    model(0).save(path)
    give(path, 0o666)  # the file itself is writable: the folder is the problem
    if os.geteuid() != 0:
        give(shared_folder, 0o555)
    try:
        outcome = as_another_user(lambda: model(1).save(path))
    finally:
        give(shared_folder, 0o755)
    kind, message = outcome
    assert kind == "PermissionError"
    assert repr(path) in message and "the folder must be writable" in message
    assert "the old file is unchanged" in message and ".glassgrad-" not in message
    assert json.loads(open(path).read())["parameters"] == model(0).state_dict()
    assert temporaries(shared_folder) == []


def test_a_file_we_may_not_write_is_refused_as_open_refuses_it(shared_folder):
    # the folder lets the other user create files, so a rename could replace the file: refused
    path = os.path.join(shared_folder, "m.json")
    model(0).save(path)
    give(shared_folder, 0o777)
    give(path, 0o644 if os.geteuid() == 0 else 0o444)  # root's file, or a read-only one of ours
    try:
        by_open = as_another_user(lambda: open(path, "w"))
        outcome = as_another_user(lambda: model(1).save(path))
    finally:
        give(shared_folder, 0o755)
        give(path, 0o644)
    assert by_open[0] == "PermissionError"
    kind, message = outcome
    assert kind == "PermissionError" and repr(path) in message and "read-only to us" in message
    assert json.loads(open(path).read())["parameters"] == model(0).state_dict()
    assert temporaries(shared_folder) == []


# ---- orphans ------------------------------------------------------------------------------------
def test_only_abandoned_temporary_files_of_this_target_are_swept(tmp_path):
    path = tmp_path / "m.json"
    model(0).save(path)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    abandoned = tmp_path / ".m.json.glassgrad-0123abcd.tmp"
    abandoned.write_text("half a model")
    held = tmp_path / ".m.json.glassgrad-89abcdef.tmp"
    held.write_text("a live writer's")
    others = [".m.json.glassgrad-0123abc.tmp", ".m.json.glassgrad-0123ABCD.tmp",
              ".other.json.glassgrad-0123abcd.tmp", ".m.json.0123abcd.tmp",
              "m.json.glassgrad-0123abcd.tmp", ".m.json.glassgrad-0123abcd.tmp.bak"]
    for name in others:
        (tmp_path / name).write_text("not ours to remove")
    (tmp_path / ".m.json.glassgrad-fedcba98.tmp").symlink_to(precious)
    handle = os.open(held, os.O_RDONLY)
    fcntl.flock(handle, fcntl.LOCK_EX)  # as a writer in another process would hold it
    try:
        model(1).save(path)
        assert not abandoned.exists() and held.exists()
    finally:
        os.close(handle)
    model(2).save(path)
    assert not held.exists()
    for name in others + [".m.json.glassgrad-fedcba98.tmp"]:
        assert os.path.lexists(tmp_path / name), name
    assert precious.read_text() == "keep me"
    assert json.loads(path.read_text())["parameters"] == model(2).state_dict()


def test_a_file_system_without_locks_still_saves_and_sweeps_nothing(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    model(0).save(path)
    orphan = tmp_path / ".m.json.glassgrad-0123abcd.tmp"
    orphan.write_text("half a model, or a live writer's: without locks nobody can tell")

    def no_locks(handle, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    model(1).save(path)
    assert json.loads(path.read_text())["parameters"] == model(1).state_dict()
    assert temporaries(tmp_path) == [orphan.name]


def test_a_long_names_orphans_are_swept_too(tmp_path):
    path = tmp_path / ("m" * 250 + ".json")  # 255 bytes: its temporary name must be shortened
    model(0).save(path)
    killed, _ = fork_and_kill(lambda: model(1).save(path), kill_at="replace")
    orphans = temporaries(tmp_path)
    assert killed and len(orphans) == 1 and len(os.fsencode(orphans[0])) <= 255
    model(2).save(path)
    assert os.listdir(tmp_path) == [path.name]
    assert json.loads(path.read_text())["parameters"] == model(2).state_dict()


def test_threads_saving_one_file_at_once_all_succeed_and_leave_one_whole_file(tmp_path):
    path = tmp_path / "m.json"
    models = [model(seed, width=20) for seed in range(4)]
    models[0].save(path)
    os.chmod(path, 0o600)
    errors = []

    def saver(m):
        try:
            for _ in range(25):
                m.save(path)
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=saver, args=(m,)) for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads) and errors == []
    assert json.loads(path.read_text())["parameters"] in [m.state_dict() for m in models]
    assert mode(path) == 0o600 and temporaries(tmp_path) == []


# ---- kill -9 during save ----------------------------------------------------------------------
WATCHED_OS = ["open", "write", "fsync", "fchmod", "fchown", "replace", "close", "unlink",
              "scandir", "stat", "fstat", "access"]


def fork_and_kill(save, kill_at):
    """Run `save()` in a forked child that SIGKILLs itself just before a call of an os
    function (or fcntl.flock) on the way: the `kill_at`-th such call, or the first call of the
    function named `kill_at`. Returns whether the child was killed, and how many calls it made
    when it was not."""
    read, write = os.pipe()
    pid = fork()
    if pid == 0:
        try:
            os.close(read)
            calls = [0]

            def killing(name, real):
                def call(*args, **kwargs):
                    calls[0] += 1
                    if kill_at in (calls[0], name):
                        os.kill(os.getpid(), signal.SIGKILL)
                    return real(*args, **kwargs)
                return call

            report = os.write
            for name in WATCHED_OS:
                setattr(os, name, killing(name, getattr(os, name)))
            fcntl.flock = killing("flock", fcntl.flock)
            save()
            report(write, str(calls[0]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        made = pipe.read()
    _, status = os.waitpid(pid, 0)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return killed, int(made) if made else None


def check_after_a_kill(folder, path, link, old, new):
    """The file is the old one or the new one, whole; it kept its mode and its link."""
    content = path.read_bytes()
    assert content in (old, new)
    assert mode(path) == 0o600 and link.is_symlink()
    orphans = temporaries(folder)
    assert len(orphans) <= 1, orphans  # each save sweeps the ones before it
    return content, orphans


def saved_pair(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    path = folder / "m.json"
    link = tmp_path / "link.json"  # saves go through a link, to a 0600 file
    old_model, new_model = nn.MLP(8, [64, 64, 1], seed=0), nn.MLP(8, [64, 64, 1], seed=1)
    new_model.save(path)
    new = path.read_bytes()
    old_model.save(path)
    old = path.read_bytes()
    os.chmod(path, 0o600)
    link.symlink_to(path)
    return folder, path, link, old_model, new_model, old, new


def test_kill_9_before_each_step_of_a_save(tmp_path):
    folder, path, link, old_model, new_model, old, new = saved_pair(tmp_path)
    # leave an orphan first, so the sweep's steps are killed too
    (folder / ".m.json.glassgrad-00000000.tmp").write_bytes(new[: len(new) // 2])
    killed, steps = fork_and_kill(lambda: new_model.save(link), kill_at=0)
    assert not killed and steps > 10 and path.read_bytes() == new
    seen = {}
    for at in range(1, steps + 1):
        old_model.save(link)  # back to the old file, an orphan left as before
        (folder / ".m.json.glassgrad-00000000.tmp").write_bytes(new[: len(new) // 2])
        killed, _ = fork_and_kill(lambda: new_model.save(link), kill_at=at)
        assert killed, at
        content, _ = check_after_a_kill(folder, path, link, old, new)
        seen[at] = content == new
    # every step was hit: the old file stands until the rename, the new one after it
    assert not seen[1] and seen[steps]
    flips = [at for at in range(2, steps + 1) if seen[at] != seen[at - 1]]
    assert len(flips) == 1, seen
    old_model.save(link)
    assert temporaries(folder) == [] and path.read_bytes() == old


def test_kill_9_at_random_moments_of_repeated_saves(tmp_path):
    folder, path, link, old_model, new_model, old, new = saved_pair(tmp_path)
    start = time.perf_counter()
    for _ in range(5):
        new_model.save(link)
    one_save = (time.perf_counter() - start) / 5
    moments = random.Random(16)
    left_orphans = 0
    for _ in range(50):
        ready_read, ready_write = os.pipe()
        pid = fork()
        if pid == 0:
            try:
                os.write(ready_write, b"x")
                while True:
                    old_model.save(link)
                    new_model.save(link)
            finally:
                os._exit(0)
        os.close(ready_write)
        os.read(ready_read, 1)
        os.close(ready_read)
        time.sleep(moments.uniform(0, 4 * one_save))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        _, orphans = check_after_a_kill(folder, path, link, old, new)
        left_orphans += bool(orphans)
    old_model.save(link)
    assert temporaries(folder) == [] and path.read_bytes() == old
    print(f"50 kills at random moments: {left_orphans} left a temporary file, "
          "each swept by the next save")
