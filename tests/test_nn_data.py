"""Datasets, the IDX reader (on small files written here) and mini-batches."""
import gzip
import struct
import zlib

import numpy as np
import pytest

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
            nn.read_idx(path)


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
