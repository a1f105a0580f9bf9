"""Datasets and mini-batches: the seeds' small examples, two toy problems, and real digits.

- `people()`: seed 001's four people (weight - 135 lb, height - 66 in), and `emily_frank()`.
- `letters()`: seed 004's 5x6 pixel letters A, B and C with one-hot labels, and `noisy()`.
- `make_moons(n, noise, seed)`: two interleaving half circles, made with numpy.
- `digits(test_size, seed)`: the 8x8 handwritten digits scikit-learn ships, split train/test.
- `read_idx(path)` and `mnist(folder)`: MNIST's IDX files, if you have downloaded them (no
  network here), checked for their magic number and sizes.
- `batches(X, y, batch_size, seed)`: seeded shuffled mini-batches.

Everything comes back as numpy arrays: X of shape (samples, features), y of labels.
"""
from __future__ import annotations

import gzip
import math
import numbers
import os
import struct
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np

from .init import generator
from .shapes import positive_int

# ---- seed 001: weight (lb) - 135 and height (in) - 66; female = 1, male = 0 ----------------
# The article's text defines male = 1, but its loss example (y_true = [1, 0, 0, 1]) and its
# predictions (Emily 0.951 "F", Frank 0.039 "M") use female = 1; we follow the numbers.
PEOPLE = {"Alice": (133, 65, "F"), "Bob": (160, 72, "M"), "Charlie": (152, 70, "M"), "Diana": (120, 60, "F")}
NEWCOMERS = {"Emily": (128, 63, "F"), "Frank": (155, 68, "M")}
SHIFT = (135, 66)


def _shifted(table: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    names = list(table)
    X = np.array([[w - SHIFT[0], h - SHIFT[1]] for w, h, _ in table.values()], dtype=float)
    y = np.array([1.0 if g == "F" else 0.0 for _, _, g in table.values()])
    return names, X, y


def people() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Seed 001's training set: names, X = [[-2, -1], [25, 6], [17, 4], [-15, -6]], y = female."""
    return _shifted(PEOPLE)


def emily_frank() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Seed 001's two newcomers: Emily [-7, -3] (F) and Frank [20, 2] (M)."""
    return _shifted(NEWCOMERS)


# ---- seed 004: 5 rows of 6 pixels ----------------------------------------------------------
# The seed's text describes the letters but leaves out its pixel arrays; these are drawn here.
LETTERS = {
    "A": ("..##..",
          ".#..#.",
          "######",
          "#....#",
          "#....#"),
    "B": (".####.",
          ".#..#.",
          ".####.",
          ".#..#.",
          ".####."),
    "C": (".####.",
          ".#....",
          ".#....",
          ".#....",
          ".####."),
}


def letters() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Seed 004's letters: names "ABC", X of shape (3, 30) in {0, 1}, one-hot y of shape (3, 3)."""
    names = list(LETTERS)
    X = np.array([[1.0 if c == "#" else 0.0 for row in LETTERS[n] for c in row] for n in names])
    return names, X, np.eye(len(names))


def noisy(pixels: np.ndarray, flips: int, seed: int | None = None) -> np.ndarray:
    """A copy of `pixels` (values 0/1) with `flips` distinct pixels flipped, chosen by `seed`."""
    pixels = np.asarray(pixels, dtype=float)
    if isinstance(flips, bool) or not isinstance(flips, numbers.Integral):
        raise TypeError(f"noisy() flips a whole number of pixels, got {flips!r} ({type(flips).__name__})")
    if not 0 <= flips <= pixels.size:
        raise ValueError(f"noisy() can flip 0..{pixels.size} pixels, got {flips}")
    out = pixels.copy()
    where = generator(seed).choice(pixels.size, size=flips, replace=False)
    out.flat[where] = 1.0 - out.flat[where]
    return out


# ---- toy problems ------------------------------------------------------------------------------
def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: X of shape (n, 2), y in {0, 1}, Gaussian `noise`, shuffled."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"make_moons() needs an int n_samples, got {n_samples!r} ({type(n_samples).__name__})")
    if n_samples < 2:
        raise ValueError(f"make_moons() needs n_samples >= 2, got {n_samples!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"make_moons() needs a number for noise, got {noise!r} ({type(noise).__name__})")
    if not (noise >= 0 and math.isfinite(noise)):
        raise ValueError(f"make_moons() needs a finite noise >= 0, got {noise!r}")
    rng = generator(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_inner)
    X = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
        np.stack([1 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1),
    ])
    y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    X = X + rng.normal(0.0, noise, size=X.shape)
    order = rng.permutation(n_samples)
    return X[order], y[order].astype(int)


def digits(test_size: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 1797 8x8 digits, pixels scaled to [0, 1], split with stratification.

    Returns X_train, X_test, y_train, y_test. Needs scikit-learn (`pip install glassgrad[demos]`);
    the data ships with it, so no download.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ImportError("digits() needs scikit-learn: pip install 'glassgrad[demos]'") from None
    data = load_digits()
    X = data.data / 16.0
    return train_test_split(X, data.target, test_size=test_size, random_state=seed, stratify=data.target)


# ---- MNIST's IDX format --------------------------------------------------------------------------
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_MAX_BYTES = 2**31  # read_idx's default limit on the data a header may declare: 2 GiB
CHUNK = 1 << 20  # read_idx reads (and decompresses) 1 MiB at a time


def read_idx(path: str | os.PathLike, *, max_bytes: int | None = IDX_MAX_BYTES) -> np.ndarray:
    """Read one IDX file (gzipped or not) as a numpy array of its declared shape.

    The format: two zero bytes, a type code (0x08 unsigned byte ... 0x0E double), the number of
    dimensions, each dimension as a big-endian 4-byte int, then the data. A wrong magic number,
    a truncated file, trailing bytes or damaged gzip data raise `ValueError` naming the file,
    what its header declares and what it holds.

    Memory is bounded by what the header declares *and* by what the file delivers, so a lying
    header or a gzip bomb cannot fill it:
    - a header declaring more than `max_bytes` of data (default `IDX_MAX_BYTES`, 2 GiB: over 40
      times MNIST's largest file) is refused before any data is read; for a file that really
      is that large, pass a larger `max_bytes`, or None for no limit;
    - a plain file's size on disk is checked against the header before reading;
    - a gzipped file is decompressed 1 MiB at a time and kept only as it arrives, up to one
      byte past the declared size: a bomb (a small file that inflates to far more than its
      header declares) is refused at that byte, and data that ends early is refused when it
      ends, having held no more than what came. The array is a view of the bytes read (byte
      order swapped in place), so a file's data is held once, not copied.
    """
    path = Path(path)
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral)):
        raise TypeError(f"read_idx() max_bytes should be an int or None, got {max_bytes!r} "
                        f"({type(max_bytes).__name__})")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"read_idx() max_bytes should be >= 0 (or None for no limit), got {max_bytes}")
    with path.open("rb") as plain:
        zipped = plain.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if zipped else path.open("rb")) as file:
            head = file.read(4)
            if len(head) < 4:
                raise ValueError(f"{path}: too short for an IDX file ({len(head)} bytes, the "
                                 "header alone is 4+)")
            if head[0] != 0 or head[1] != 0 or head[2] not in IDX_TYPES or head[3] == 0:
                raise ValueError(
                    f"{path}: not an IDX file (magic number {head.hex()}; expected 0000 then a "
                    f"type code in {[hex(t) for t in IDX_TYPES]} and a dimension count >= 1, "
                    "e.g. 00000803 for MNIST images)"
                )
            dtype, ndim = np.dtype(IDX_TYPES[head[2]]), head[3]
            header = 4 + 4 * ndim
            dims = file.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise ValueError(f"{path}: truncated header ({4 + len(dims)} bytes, {header} "
                                 f"needed for {ndim} dimensions)")
            shape = struct.unpack(f">{ndim}I", dims)
            declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
            if not zipped:
                size = os.fstat(file.fileno()).st_size
                if size != header + declared:
                    raise _size_error(path, shape, dtype, header + declared, size, zipped)
            if max_bytes is not None and declared > max_bytes:
                raise ValueError(
                    f"{path}: its header declares {declared} bytes of data (shape {shape} of "
                    f"{dtype.name}), more than max_bytes={max_bytes}; if the file really holds "
                    "that much, call read_idx(path, max_bytes=None) or with a larger limit"
                )
            data = _read_up_to(file, declared + 1 if zipped else declared)
    except (OSError, EOFError, zlib.error) as error:
        if not zipped:
            raise
        raise ValueError(f"{path}: damaged gzip data ({error})") from None
    if len(data) != declared:
        raise _size_error(path, shape, dtype, header + declared, header + len(data), zipped)
    array = np.frombuffer(data, dtype=dtype)  # a view of the bytes read: no copy
    if not dtype.isnative:
        array = array.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return array.reshape(shape)


def _size_error(path: Path, shape: tuple[int, ...], dtype: np.dtype, expected: int, size: int,
                zipped: bool) -> ValueError:
    """The header and the data disagree (a gzipped file is read one byte past the claim only)."""
    what = "truncated" if size < expected else "has trailing bytes"
    where = "decompressed, " if zipped else ""
    more = " or more" if zipped and size > expected else ""
    return ValueError(f"{path}: {what}: shape {shape} of {dtype.name} needs {expected} bytes, "
                      f"the file has {where}{size}{more}")


def _read_up_to(file, limit: int) -> bytearray:
    """Up to `limit` bytes from `file`, read CHUNK bytes at a time into one growing buffer:
    what is held never exceeds what the file has delivered (nor `limit`)."""
    data = bytearray()
    while len(data) < limit:
        part = file.read(min(CHUNK, limit - len(data)))
        if not part:
            break
        data += part
    return data


MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}


def mnist(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST from the four standard IDX files in `folder` (each may end in .gz).

    Returns X_train, X_test (flattened, scaled to [0, 1]), y_train, y_test.
    """
    folder = Path(folder)
    arrays = {}
    for key, name in MNIST_FILES.items():
        found = [p for p in (folder / name, folder / f"{name}.gz") if p.exists()]
        if not found:
            raise FileNotFoundError(f"MNIST file {name} (or {name}.gz) not found in {folder}")
        arrays[key] = read_idx(found[0])
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"MNIST {part} files do not fit together: images of shape {images.shape}, labels of shape {labels.shape}"
            )
    return (_pixels(arrays["train_images"]), _pixels(arrays["test_images"]),
            arrays["train_labels"].astype(int), arrays["test_labels"].astype(int))


def _pixels(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(float) / 255.0


# ---- mini-batches ------------------------------------------------------------------------------
def batches(X, y, batch_size: int, *, shuffle: bool = True,
            seed: int | np.random.Generator | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(X_batch, y_batch) pairs covering every sample once; the last batch may be smaller.

    With `shuffle`, the order comes from `seed` (an int, or a Generator for a new order each
    epoch), so a run can be repeated exactly.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"batches() got {len(X)} samples but {len(y)} targets")
    batch_size = positive_int(batch_size, "batch_size")
    order = generator(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        picked = order[start:start + batch_size]
        yield X[picked], y[picked]
