"""Datasets, the IDX reader (on small files written here) and mini-batches."""
import gzip
import hashlib
import json
import math
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn


def test_seed_001_people():
    names, X, y = nn.people()
    assert names == ["Alice", "Bob", "Charlie", "Diana"]
    assert X.tolist() == [[-2, -1], [25, 6], [17, 4], [-15, -6]]  # the article's shifted table
    assert y.tolist() == [1, 0, 0, 1]  # female = 1, as in the article's loss example
    names, X, y = nn.emily_frank()
    assert names == ["Emily", "Frank"] and X.tolist() == [[-7, -3], [20, 2]] and y.tolist() == [1, 0]


def test_letters_and_noise():
    names, X, y = nn.letters()
    assert names == ["A", "B", "C"] and X.shape == (3, 30) and set(X.ravel()) == {0.0, 1.0}
    assert y.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert len({tuple(row) for row in X}) == 3
    flipped = nn.noisy(X[0], flips=4, seed=1)
    assert np.sum(flipped != X[0]) == 4
    assert np.array_equal(flipped, nn.noisy(X[0], flips=4, seed=1))
    with pytest.raises(ValueError, match="can flip 0..30"):
        nn.noisy(X[0], flips=31)


def test_make_moons():
    X, y = nn.make_moons(101, noise=0.0, seed=3)
    assert X.shape == (101, 2) and sorted(set(y.tolist())) == [0, 1] and y.sum() == 51
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0)
    a, b = nn.make_moons(50, noise=0.2, seed=4), nn.make_moons(50, noise=0.2, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="n_samples >= 2"):
        nn.make_moons(1)


def test_digits_split():
    X_train, X_test, y_train, y_test = nn.digits(test_size=0.2, seed=0)
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert sorted(set(y_test.tolist())) == list(range(10))


def idx_bytes(array, code):
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.asarray(array, dtype=dtype).tobytes()


@pytest.mark.parametrize("code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
                                         (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_every_type(tmp_path, code, dtype):
    array = (np.arange(24).reshape(2, 3, 4) * (1 if code == 0x08 else -1)).astype(dtype)
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(array, code))
    got = nn.read_idx(path)
    assert got.shape == (2, 3, 4) and np.array_equal(got, array)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative and got.flags.writeable


def test_read_idx_gzip(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    assert nn.read_idx(path).tolist() == [3, 1, 4, 1, 5]


@pytest.mark.parametrize("raw, message", [
    (b"\x00\x00", "too short"),
    (b"\x01\x02\x08\x01" + b"\x00" * 8, "not an IDX file.*magic number 01020801"),
    (b"\x00\x00\x07\x01" + b"\x00" * 8, "not an IDX file"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated: shape \\(5,\\) of uint8 needs 13 bytes, the file has 10"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "trailing bytes"),
    (b"\x1f\x8b\x08\x00garbage", "damaged gzip"),
])
def test_read_idx_refuses_bad_files(tmp_path, raw, message):
    path = tmp_path / "bad"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=message):
        nn.read_idx(path)


def test_mnist_folder(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4], dtype=np.uint8)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images, 0x08)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels, 0x08))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images[:2], 0x08))
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        nn.mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels[:3], 0x08))
    with pytest.raises(ValueError, match="test files do not fit together"):
        nn.mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels[:2], 0x08))
    X_train, X_test, y_train, y_test = nn.mnist(tmp_path)
    assert X_train.shape == (5, 784) and X_test.shape == (2, 784)
    np.testing.assert_array_equal(X_train[1], images[1].ravel() / 255.0)
    assert y_train.tolist() == [0, 1, 2, 3, 4] and y_test.tolist() == [0, 1]


def test_batches_cover_every_sample_once_and_repeat_with_a_seed():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    got = list(nn.batches(X, y, 4, seed=5))
    assert [len(b[1]) for b in got] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in got]).tolist()) == list(range(10))
    assert all(np.array_equal(bx[:, 0] // 2, by) for bx, by in got)  # rows stay with their targets
    again = list(nn.batches(X, y, 4, seed=5))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(got, again))
    assert [b[1].tolist() for b in nn.batches(X, y, 5, shuffle=False)] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    with pytest.raises(ValueError, match="batch_size should be a positive int"):
        list(nn.batches(X, y, 0))
    with pytest.raises(ValueError, match="10 samples but 9 targets"):
        list(nn.batches(X, y[:9], 2))


def test_read_idx_damaged_deflate_data_names_the_file(tmp_path):
    raw = bytearray(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8) % 7, 0x08), mtime=0))
    raw[10] ^= 0xFF  # the first byte of the deflate stream, after the 10-byte gzip header
    with pytest.raises(zlib.error):  # what gzip itself raises: not an OSError
        gzip.decompress(bytes(raw))
    path = tmp_path / "labels.gz"
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="labels.gz: damaged gzip data"):
        nn.read_idx(path)


def test_read_idx_sizes_do_not_wrap_around(tmp_path):
    # 2^31 * 2^31 * 4 = 2^64: an int64 product wraps to 0, which an empty data part would match
    header = bytes([0, 0, 0x08, 3]) + struct.pack(">III", 2**31, 2**31, 4)
    for name, raw in (("plain", header), ("zipped.gz", gzip.compress(header))):
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(ValueError, match=f"truncated: shape \\(2147483648, 2147483648, 4\\) "
                                             f"of uint8 needs {16 + 2**64} bytes"):
            nn.read_idx(path, max_bytes=None)
    with pytest.raises(ValueError, match=f"declares {2**64} bytes of data"):
        nn.read_idx(tmp_path / "zipped.gz")


def test_read_idx_reads_no_more_than_the_header_declares(tmp_path, monkeypatch):
    # a gzip bomb: a 1-byte image whose file decompresses to 50 MB
    bomb = gzip.compress(idx_bytes(np.zeros(1, dtype=np.uint8), 0x08) + bytes(50_000_000))
    path = tmp_path / "bomb.gz"
    path.write_bytes(bomb)
    asked = []
    real_read = gzip.GzipFile.read

    def counting_read(self, size=-1):
        asked.append(size)
        return real_read(self, size)

    monkeypatch.setattr(gzip.GzipFile, "read", counting_read)
    with pytest.raises(ValueError, match="has trailing bytes.*needs 9 bytes, the file has "
                                         "decompressed, 10 or more"):
        nn.read_idx(path)
    assert all(0 <= size <= 4 for size in asked)  # 4 (magic), 4 (one dim), then 1 + 1


# ---- memory: a gzip bomb, a lying header, a large honest file ---------------------------------
MiB = 1 << 20
ABSURD = (2**32 - 1,) * 3  # a header claiming (2^32 - 1)^3 bytes, about 7.9e28

# Each case runs in a fresh Python: tracemalloc's peak during read_idx (numpy's buffers are
# traced too) and, on Linux, the growth of the process's peak resident memory (VmHWM, reset
# just before the call), which also sees copies made outside Python's allocators (zlib's
# buffers, a realloc that moves). (resource's ru_maxrss would not do: a child starts from its
# parent's peak, here pytest's.)
MEASURE = """
import hashlib, json, os, sys, tracemalloc
import nn


def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field))


linux = os.path.exists("/proc/self/clear_refs")
if linux:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # peak resident memory := current
    before = status("VmRSS:")
tracemalloc.start()
try:
    array = nn.read_idx(sys.argv[1], **json.loads(sys.argv[2]))
except ValueError as error:
    outcome = {"error": str(error)}
else:
    outcome = {"shape": list(array.shape), "dtype": array.dtype.str}
peak = tracemalloc.get_traced_memory()[1]
grown = status("VmHWM:") - before if linux else 0
tracemalloc.stop()
if "shape" in outcome:
    outcome["sha256"] = hashlib.sha256(array.tobytes()).hexdigest()
print(json.dumps(dict(outcome, peak=peak, grown=grown)))
"""


def measured_read(path, **kwargs):
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), json.dumps(kwargs)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def gzip_stream(header, data_block, repeats):
    """A gzip file of `header` then `data_block` repeated: the block is compressed once and
    its member repeated (gzip allows several members), so a 1 GiB bomb takes a moment to make."""
    block = gzip.compress(data_block, compresslevel=9, mtime=0)
    return gzip.compress(header, mtime=0) + block * repeats


def idx_header(code, shape):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_a_gzip_bomb_is_refused_by_its_header_without_using_memory(tmp_path):
    # the bomb: 1 MB of gzip that inflates to 1 GiB, under a header claiming ~7.9e28 bytes
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip_stream(idx_header(0x08, ABSURD), bytes(16 * MiB), 64))
    assert path.stat().st_size < 1.5 * MiB
    assert len(gzip.GzipFile(path).read(17 * MiB)) == 17 * MiB  # it really inflates that far
    got = measured_read(path)
    assert got["error"] == (
        f"{path}: its header declares {math.prod(ABSURD)} bytes of data (shape {ABSURD} of "
        f"uint8), more than max_bytes={2**31}; if the file really holds that much, call "
        "read_idx(path, max_bytes=None) or with a larger limit")
    assert got["peak"] < 1 * MiB and got["grown"] < 50 * MiB


def test_a_bomb_under_a_lifted_limit_holds_no_more_than_the_data_delivers(tmp_path):
    path = tmp_path / "bomb.gz"
    delivered = 32 * MiB
    path.write_bytes(gzip_stream(idx_header(0x08, ABSURD), bytes(16 * MiB), 2))
    got = measured_read(path, max_bytes=None)
    expected = 16 + math.prod(ABSURD)
    assert got["error"] == (f"{path}: truncated: shape {ABSURD} of uint8 needs {expected} bytes, "
                            f"the file has decompressed, {16 + delivered}")
    assert got["peak"] < 1.25 * delivered + 4 * MiB and got["grown"] < 1.25 * delivered + 8 * MiB


def test_a_header_claiming_more_than_the_data_fails_when_the_data_ends(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip_stream(idx_header(0x08, (1024, 1024, 1024)), bytes(MiB), 1))
    got = measured_read(path)  # 1 GiB declared (within the limit), 1 MiB delivered
    assert got["error"] == (f"{path}: truncated: shape (1024, 1024, 1024) of uint8 needs "
                            f"{16 + 2**30} bytes, the file has decompressed, {16 + MiB}")
    assert got["peak"] < 1.25 * MiB + 4 * MiB and got["grown"] < 16 * MiB


@pytest.mark.parametrize("zipped", [True, False])
def test_a_large_honest_file_is_held_once(tmp_path, zipped):
    # 32 MiB of data declared and delivered: memory close to 32 MiB (the old reader held 3 copies)
    pattern = np.tile(np.arange(-128, 128, dtype=">i4"), 128)  # 128 KiB per repeat
    shape = (256, 32 * 1024)
    header = idx_header(0x0C, shape)
    path = tmp_path / ("big.gz" if zipped else "big")
    path.write_bytes(gzip_stream(header, pattern.tobytes(), 256) if zipped
                     else header + pattern.tobytes() * 256)
    size = 256 * pattern.nbytes
    assert size == 32 * MiB
    got = measured_read(path)
    expected = np.tile(pattern.astype(np.int32), 256).reshape(shape)
    assert got.get("error") is None and got["shape"] == list(shape)
    assert got["dtype"] == np.dtype(np.int32).str
    assert got["sha256"] == hashlib.sha256(expected.tobytes()).hexdigest()
    assert got["peak"] < 1.25 * size + 4 * MiB and got["grown"] < 1.25 * size + 8 * MiB


def test_max_bytes_is_the_limit_and_can_be_lifted(tmp_path):
    data = np.arange(1000, dtype=np.uint8) % 251
    for name, raw in (("plain", idx_bytes(data, 0x08)), ("zipped.gz", gzip.compress(idx_bytes(data, 0x08)))):
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(ValueError, match=r"declares 1000 bytes of data \(shape \(1000,\) of "
                                             r"uint8\), more than max_bytes=999; .*max_bytes=None"):
            nn.read_idx(path, max_bytes=999)
        assert np.array_equal(nn.read_idx(path, max_bytes=1000), data)
        assert np.array_equal(nn.read_idx(path, max_bytes=None), data)
    # a plain file whose size on disk contradicts its header is reported as that, limit or not
    (tmp_path / "short").write_bytes(idx_bytes(data, 0x08)[:-1])
    with pytest.raises(ValueError, match="truncated: shape \\(1000,\\) of uint8 needs 1008 bytes, the file has 1007"):
        nn.read_idx(tmp_path / "short", max_bytes=10)


@given(code=st.sampled_from(sorted(nn.data.IDX_TYPES)),
       shape=st.lists(st.integers(0, 4), min_size=1, max_size=3),
       delta=st.integers(-3, 3), zipped=st.booleans(), max_bytes=st.none() | st.integers(0, 200),
       seed=st.integers(0, 2**32 - 1))
def test_read_idx_gives_the_declared_array_or_names_the_disagreement(tmp_path_factory, code, shape,
                                                                    delta, zipped, max_bytes, seed):
    # the reference: numpy reading the big-endian bytes itself
    dtype = np.dtype(nn.data.IDX_TYPES[code])
    declared = math.prod(shape) * dtype.itemsize
    data = np.random.default_rng(seed).integers(0, 256, max(declared + delta, 0), dtype=np.uint8).tobytes()
    raw = idx_header(code, shape) + data
    path = tmp_path_factory.mktemp("idx") / ("a.gz" if zipped else "a")
    path.write_bytes(gzip.compress(raw) if zipped else raw)
    expected = len(idx_header(code, shape)) + declared
    has = len(raw)
    if not zipped and has != expected:  # a plain file's size is checked first
        outcome = "truncated" if has < expected else "has trailing bytes"
        message = f"{outcome}: shape {tuple(shape)} of {dtype.name} needs {expected} bytes, the file has {has}$"
    elif max_bytes is not None and declared > max_bytes:
        message = f"declares {declared} bytes of data .* more than max_bytes={max_bytes};"
    elif has != expected:  # zipped: read one byte past the claim at most
        more = "truncated" if has < expected else "has trailing bytes"
        shown = f"{has}$" if has < expected else f"{expected + 1} or more$"
        message = f"{more}: shape .* needs {expected} bytes, the file has decompressed, {shown}"
    else:
        got = nn.read_idx(path, max_bytes=max_bytes)
        reference = np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(shape)
        assert got.dtype == reference.dtype and got.shape == tuple(shape)
        assert np.array_equal(got, reference, equal_nan=dtype.kind == "f")
        return
    with pytest.raises(ValueError, match=message.replace("(", "\\(").replace(")", "\\)")):
        nn.read_idx(path, max_bytes=max_bytes)


@pytest.mark.parametrize("max_bytes, error, message", [
    ("big", TypeError, r"max_bytes should be an int or None, got 'big' \(str\)"),
    (True, TypeError, r"max_bytes should be an int or None, got True \(bool\)"),
    (2.5, TypeError, r"got 2.5 \(float\)"),
    (-1, ValueError, r"max_bytes should be >= 0 \(or None for no limit\), got -1"),
])
def test_max_bytes_must_be_a_whole_number_or_none(tmp_path, max_bytes, error, message):
    path = tmp_path / "a"
    path.write_bytes(idx_bytes(np.zeros(3, dtype=np.uint8), 0x08))
    with pytest.raises(error, match=message):
        nn.read_idx(path, max_bytes=max_bytes)



@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.make_moons(noise="a"), TypeError, r"number for noise, got 'a' \(str\)"),
    (lambda: nn.make_moons(noise=-0.1), ValueError, "noise >= 0"),
    (lambda: nn.make_moons(noise=float("inf")), ValueError, "finite noise"),
    (lambda: nn.make_moons(10.0), TypeError, r"int n_samples, got 10.0 \(float\)"),
    (lambda: nn.noisy(np.zeros(30), flips=2.5), TypeError, r"whole number of pixels, got 2.5"),
    (lambda: nn.noisy(np.zeros(30), flips=-1), ValueError, "can flip 0..30"),
    (lambda: list(nn.batches(np.zeros((4, 2)), np.zeros(4), 2.0)), TypeError, "batch_size should be a positive int"),
    (lambda: list(nn.batches(np.zeros((4, 2)), np.zeros(4), 0)), ValueError, "batch_size should be a positive int"),
])
def test_wrong_types_are_type_errors_and_wrong_values_value_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
