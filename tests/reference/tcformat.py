"""tcformat.py - the file formats the reference comparison exchanges, read
with nothing but the Python standard library (no torch, no numpy), so the
fixture check runs on machines without PyTorch.

  - tinychar checkpoints, read from the byte layout in CHECKPOINT.md alone
    (struct for the fields, zlib.crc32 for the checksum);
  - record files, the text format of tests/ref_dump.c's dumps and of
    fixture.txt: '#' comments, then records `TYPE NAME SHAPE VALUES...` with
    TYPE i (integer), f (float32, 9 significant digits) or d (float64), SHAPE
    the dimensions joined by 'x';
  - the relative-error measure every comparison uses.
"""
import math
import struct
import sys
import zlib
from array import array

# The 240-byte header of CHECKPOINT.md, field by field, little-endian.
HEADER_FIELDS = [
    ("magic", "8s"), ("version", "I"), ("context", "I"), ("embed", "I"),
    ("hidden", "I"), ("layers", "I"), ("vocab", "I"), ("tokenizer", "I"),
    ("mode", "I"), ("normalize", "I"), ("optimizer", "I"), ("batch", "I"),
    ("eval_every", "I"), ("seed", "Q"), ("step", "Q"), ("steps_total", "Q"),
    ("time_budget", "d"), ("elapsed", "d"), ("lr", "d"), ("min_lr", "d"),
    ("warmup", "Q"), ("weight_decay", "d"), ("clip", "d"), ("beta1", "d"),
    ("beta2", "d"), ("eps", "d"), ("momentum", "d"), ("val_frac", "d"),
    ("best_val", "d"), ("last_val", "d"), ("rng0", "Q"), ("rng1", "Q"),
    ("rng2", "Q"), ("rng3", "Q"), ("n_params", "Q"), ("n_moments", "I"),
    ("val_from_file", "I"),
]
HEADER = struct.Struct("<" + "".join(f for _, f in HEADER_FIELDS))
assert HEADER.size == 240, HEADER.size

OPTIMIZERS = ("adamw", "sgd")  # the checkpoint's optimizer field: 0, 1


class FormatError(Exception):
    pass


def tensor_shapes(context, embed, hidden, layers, vocab):
    """The parameter tensors in storage order: (name, rows, cols), as the
    table in CHECKPOINT.md lists them."""
    shapes = [("embedding", vocab, embed)]
    for l in range(layers):
        fan_in = context * embed if l == 0 else hidden
        shapes.append(("hidden%d.weight" % l, hidden, fan_in))
        shapes.append(("hidden%d.bias" % l, hidden, 1))
    shapes.append(("output.weight", vocab, hidden))
    shapes.append(("output.bias", vocab, 1))
    return shapes


def _floats(buf, offset, count):
    a = array("f")
    a.frombytes(buf[offset:offset + 4 * count])
    if sys.byteorder == "big":
        a.byteswap()
    return a


def split_tensors(flat, shapes):
    """A flat parameter-layout array as {name: list of values}."""
    out, off = {}, 0
    for name, rows, cols in shapes:
        out[name] = list(flat[off:off + rows * cols])
        off += rows * cols
    return out


def read_checkpoint(path):
    """Parses and validates a checkpoint. Returns a dict of the header fields
    plus 'vocab' (list of ints), 'shapes', 'params' ({tensor: values}) and
    'moments' (a list of such dicts: AdamW m then v, or the SGD buffer)."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < HEADER.size + 4:
        raise FormatError("%s: %d bytes is shorter than a header" % (path, len(buf)))
    ck = dict(zip((n for n, _ in HEADER_FIELDS), HEADER.unpack_from(buf, 0)))
    if ck["magic"] != b"TINYCHAR":
        raise FormatError("%s: bad magic %r" % (path, ck["magic"]))
    if ck["version"] != 1:
        raise FormatError("%s: version %d, expected 1" % (path, ck["version"]))
    if ck["n_moments"] not in (0, 1, 2):
        raise FormatError("%s: n_moments %d" % (path, ck["n_moments"]))
    shapes = tensor_shapes(ck["context"], ck["embed"], ck["hidden"],
                           ck["layers"], ck["vocab"])
    P = sum(r * c for _, r, c in shapes)
    if ck["n_params"] != P:
        raise FormatError("%s: n_params %d but the config has %d"
                          % (path, ck["n_params"], P))
    V, k = ck["vocab"], ck["n_moments"]
    expect = 240 + 4 * V + 4 * P * (1 + k) + 4
    if len(buf) != expect:
        raise FormatError("%s: %d bytes, the header describes %d"
                          % (path, len(buf), expect))
    (crc,) = struct.unpack_from("<I", buf, len(buf) - 4)
    if zlib.crc32(buf[:-4]) != crc:
        raise FormatError("%s: CRC-32 mismatch" % path)
    ck["vocab_ids"] = list(struct.unpack_from("<%di" % V, buf, 240))
    off = 240 + 4 * V
    ck["shapes"] = shapes
    ck["params"] = split_tensors(_floats(buf, off, P), shapes)
    ck["moments"] = [split_tensors(_floats(buf, off + 4 * P * (1 + j), P), shapes)
                     for j in range(k)]
    ck["optimizer_name"] = OPTIMIZERS[ck["optimizer"]]
    return ck


# ---- record files -----------------------------------------------------------

def read_records(path):
    """{name: (type, shape tuple, list of values)}; ints for 'i', floats else."""
    with open(path, encoding="utf-8") as f:
        tokens = []
        for line in f:
            tokens.extend(line.split("#", 1)[0].split())
    recs, i = {}, 0
    while i < len(tokens):
        typ, name, shape = tokens[i:i + 3]
        if typ not in ("i", "f", "d"):
            raise FormatError("%s: bad record type %r" % (path, typ))
        dims = tuple(int(d) for d in shape.split("x"))
        n = math.prod(dims)
        vals = tokens[i + 3:i + 3 + n]
        if len(vals) != n:
            raise FormatError("%s: record %s is truncated" % (path, name))
        recs[name] = (typ, dims, [int(v) for v in vals] if typ == "i"
                      else [float(v) for v in vals])
        i += 3 + n
    return recs


def f32(x):
    """x rounded to float32, as a checkpoint stores it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def format_record(typ, name, shape, values, per_line=8, fmt=None):
    """One record as text; long ones wrap every per_line values. Floats are
    written so they read back exactly (9 significant digits for float32, the
    shortest exact form for float64) unless fmt says otherwise."""
    if fmt:
        vals = [fmt % v for v in values]
    elif typ == "d":
        vals = [repr(float(v)) for v in values]
    else:
        vals = [("%d" if typ == "i" else "%.9g") % v for v in values]
    assert len(vals) == math.prod(shape), name
    head = "%s %s %s" % (typ, name, "x".join(str(d) for d in shape))
    if len(vals) <= per_line:
        return head + " " + " ".join(vals) + "\n"
    lines = [head]
    for j in range(0, len(vals), per_line):
        lines.append("  " + " ".join(vals[j:j + per_line]))
    return "\n".join(lines) + "\n"


# ---- comparing --------------------------------------------------------------

# Relative error of a C value c against the reference value r of the same
# tensor:   |c - r| / max(|r|, FLOOR * max_j |r_j|).
# Why a floor. The C side computes in float32: every value is a sum of
# products, and its rounding error is a few units of 2^-24 times the sum of
# the magnitudes of its terms, which is of the order of the tensor's largest
# values, not of the value itself. An element that is small because its terms
# cancel (a gradient of 1e-5 made of terms of 1e-2, an AdamW moment whose
# gradients changed sign between steps) carries the absolute error of the
# large terms, so its error relative to itself says nothing about the code.
# Observed over 250 random variants of the cases: |c - r| up to 7e-7 of the
# tensor's largest |r| for gradients, 4e-6 for moments and updated
# parameters. With the floor at 1e-2 of the largest magnitude, a tolerance
# of 1e-4 allows 1e-6 of it on such elements and is a true relative bound on
# every element within a factor of 100 of the largest. A wrong formula
# changes the large elements too, by far more, so nothing is hidden: scaling
# one gradient by 1.001 shows as 1e-3.
FLOOR = 1e-2


def max_rel_error(c_vals, r_vals):
    """(max relative error, index of the worst element)."""
    if len(c_vals) != len(r_vals):
        raise FormatError("length %d against %d" % (len(c_vals), len(r_vals)))
    if not r_vals:
        return 0.0, -1
    floor = FLOOR * max(abs(r) for r in r_vals)
    worst, at = 0.0, -1
    for j, (c, r) in enumerate(zip(c_vals, r_vals)):
        d = abs(c - r)
        if not math.isfinite(c):
            return math.inf, j
        if d == 0.0:
            continue
        e = d / max(abs(r), floor, 1e-300)
        if e > worst:
            worst, at = e, j
    return worst, at
