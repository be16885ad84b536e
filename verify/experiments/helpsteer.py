"""Streaming loader of HelpSteer-schema files into compact per-prompt score arrays.

The schema (NVIDIA HelpSteer): one record per scored response with the fields ``prompt``,
``response`` and the five attributes of :data:`ATTRIBUTES`, each an integer 0-4. Formats:

* ``jsonl`` -- one JSON object per line (blank lines are ignored);
* ``jsonl.gz`` -- the same, gzipped: the format of the published files (``train.jsonl.gz``);
* ``csv`` -- a header row naming the fields, read with the standard :mod:`csv` module (scores are
  then strings such as ``"3"``); a UTF-8 byte-order mark is ignored;
* ``parquet`` -- read in record batches with pyarrow (the optional extra ``prefdyn[parquet]``).

The format comes from the file name (``.jsonl``, ``.jsonl.gz``, ``.csv``, ``.parquet``) or from
``fmt=``. A ``jsonl`` or ``csv`` file that starts with the gzip magic bytes is decompressed whatever
its name.

Rows are validated one at a time and only what the experiments need is kept: the prompt texts (one
per prompt) and five ``int8`` scores per row; response texts are checked and dropped. Memory
therefore grows with the number of prompts and rows by a few bytes per row, not with the texts.

Validation of a row (the first failing rule is reported):

* the record is a JSON object (``jsonl``) / has every column (``csv``);
* ``prompt`` is a non-empty string (not only white space); rows are grouped by its exact text, and
  prompts are numbered in order of first appearance (rows of one prompt need not be contiguous);
* ``response`` is present and is a string (it may be empty);
* each attribute is an integer 0-4: an ``int``, an integral ``float`` (``3.0``) or a string of one
  (``"3"``, ``"3.0"``); ``3.5``, ``5``, ``-1``, ``true``, ``null`` and ``"x"`` are refused.

A malformed row raises :class:`~verify.exact.objects.InputError` naming ``FILE:LINE`` (``FILE:row N``
for Parquet) and the field; with ``skip_bad=True`` it is skipped, counted in
:attr:`LoadReport.skipped`, and the first ten messages are kept in :attr:`LoadReport.bad`. A missing
column (CSV header, Parquet schema), a missing or unreadable file, an unknown format and a file with
no valid row are errors whatever ``skip_bad`` says.

>>> groups, report = load_groups(SAMPLE_PATH)
>>> report.rows, report.prompts, report.skipped
(2197, 550, 0)
>>> groups.prompts[0]
'prefdyn synthetic prompt 0 — not HelpSteer data'
>>> groups.scores[0].dtype, groups.scores[0].shape
(dtype('int8'), (4, 5))
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
import zlib
from array import array
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from verify.exact.objects import InputError

__all__ = [
    "ATTRIBUTES",
    "FIELDS",
    "FORMATS",
    "SAMPLE_PATH",
    "Groups",
    "LoadReport",
    "load_groups",
    "detect_format",
    "parse_score",
]

#: The five scored attributes, in the order of the columns of every score array.
ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
#: Every field a record must have.
FIELDS = ("prompt", "response") + ATTRIBUTES
#: Accepted values of ``fmt`` and the file-name endings they are read from.
FORMATS = {"jsonl": (".jsonl",), "jsonl.gz": (".jsonl.gz",), "csv": (".csv",), "parquet": (".parquet",)}
#: The shipped synthetic sample (clearly labelled synthetic; see :mod:`verify.experiments.synthetic`).
SAMPLE_PATH = Path(__file__).resolve().parents[1] / "data" / "helpsteer_synthetic.jsonl.gz"

_MAX_BAD = 10
_PARQUET_HINT = 'pip install "prefdyn[parquet]"'


@dataclass
class Groups:
    """Scores grouped by prompt.

    Attributes
    ----------
    prompts : list of str
        The prompt texts, in order of first appearance in the file.
    scores : list of numpy.ndarray
        One ``(n_i, 5)`` ``int8`` array per prompt: the scores of its responses, rows in file order,
        columns in :data:`ATTRIBUTES` order.
    index : numpy.ndarray
        ``(len(prompts),)`` int64: each prompt's number in the file it was read from (``0, 1, ...``
        for a whole file). :meth:`select` keeps these numbers, and the random draws of the matrix
        construction are keyed on them, so a selection builds the same matrices as the whole file.
    """

    prompts: list[str]
    scores: list[np.ndarray]
    index: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.prompts) != len(self.scores):
            raise InputError(f"Groups: {len(self.prompts)} prompts but {len(self.scores)} score arrays")
        scores = [np.asarray(a) for a in self.scores]
        for i, a in enumerate(scores):
            if a.ndim != 2 or a.shape[1] != len(ATTRIBUTES):
                raise InputError(f"Groups: scores[{i}] has shape {a.shape}, expected (n, {len(ATTRIBUTES)})")
            if a.dtype != np.int8:
                if a.dtype.kind not in "iuf" or (a.size and (a.min() < 0 or a.max() > 4 or (a != np.floor(a)).any())):
                    raise InputError(f"Groups: scores[{i}] has a value that is not an integer 0-4")
                scores[i] = a.astype(np.int8)
        if scores:
            flat = np.concatenate(scores)
            if flat.size and (flat.min() < 0 or flat.max() > 4):
                bad = next(i for i, a in enumerate(scores) if a.size and (a.min() < 0 or a.max() > 4))
                raise InputError(f"Groups: scores[{bad}] has a value that is not an integer 0-4")
        self.scores = scores
        if self.index is None:
            self.index = np.arange(len(self.prompts), dtype=np.int64)
        else:
            self.index = np.asarray(self.index, dtype=np.int64)
            if self.index.shape != (len(self.prompts),):
                raise InputError(f"Groups: index has shape {self.index.shape}, expected ({len(self.prompts)},)")

    def __len__(self) -> int:
        return len(self.prompts)

    def sizes(self) -> np.ndarray:
        """The number of responses of each prompt, ``(len(self),)`` int64."""
        return np.array([len(s) for s in self.scores], dtype=np.int64)

    def select(self, which) -> "Groups":
        """The prompts at positions ``which`` (indices or a boolean mask), keeping their :attr:`index`.

        >>> g = Groups(["a", "b", "c"], [np.zeros((1, 5))] * 3)
        >>> g.select([2, 0]).index.tolist(), g.select([2, 0]).prompts
        ([2, 0], ['c', 'a'])
        """
        which = np.asarray(which)
        pos = np.arange(len(self))[which if which.dtype == bool else which.astype(np.int64)]
        return Groups([self.prompts[i] for i in pos], [self.scores[i] for i in pos], self.index[pos])


@dataclass
class LoadReport:
    """What :func:`load_groups` read.

    Attributes
    ----------
    path, format : str
        The file and the format it was read as.
    rows : int
        Valid rows kept.
    skipped : int
        Malformed rows skipped (only with ``skip_bad=True``; otherwise the first one is an error).
    bad : list of str
        The first (at most ten) messages of skipped rows, each ``FILE:LINE: field '...': ...``.
    prompts : int
        Distinct prompts among the valid rows.
    sizes : dict
        Number of responses -> number of prompts with that many.
    """

    path: str
    format: str
    rows: int
    skipped: int
    bad: list[str]
    prompts: int
    sizes: dict[int, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-ready dict of the report.

        >>> LoadReport("f.csv", "csv", 8, 1, ["f.csv:3: field 'prompt': empty"], 2, {4: 2}).to_json()["sizes"]
        {'4': 2}
        """
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "skipped": self.skipped,
            "bad": list(self.bad),
            "prompts": self.prompts,
            "sizes": {str(k): v for k, v in sorted(self.sizes.items())},
        }


class _RowError(InputError):
    """A rule broken by one row (without its place); the loader adds the file and line."""


def detect_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The format of ``path``: ``fmt`` if given (checked), else from the file name.

    >>> detect_format("train.jsonl.gz"), detect_format("x.CSV"), detect_format("x.data", "csv")
    ('jsonl.gz', 'csv', 'csv')
    >>> detect_format("x.txt")
    Traceback (most recent call last):
    ...
    verify.exact.objects.InputError: x.txt: unknown format (expected a name ending in .jsonl, .jsonl.gz, .csv or .parquet, or fmt= one of jsonl, jsonl.gz, csv, parquet)
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"{path}: unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
        return fmt
    name = str(path).lower()
    for f in sorted(FORMATS, key=len, reverse=True):
        if any(name.endswith(e) for e in FORMATS[f]):
            return f
    raise InputError(
        f"{path}: unknown format (expected a name ending in .jsonl, .jsonl.gz, .csv or .parquet,"
        f" or fmt= one of {', '.join(FORMATS)})"
    )


def parse_score(value: Any) -> int:
    """An attribute score as an int 0-4; raises :class:`~verify.exact.objects.InputError` naming the value otherwise.

    >>> parse_score(3), parse_score(3.0), parse_score(" 2 "), parse_score("4.0")
    (3, 3, 2, 4)
    """
    t = type(value)
    if t is int:
        v = value
    elif t is float:
        if not (math.isfinite(value) and value.is_integer()):
            raise _RowError(f"expected an integer 0-4, got {value!r}")
        v = int(value)
    elif t is str:
        s = value.strip()
        try:
            v = int(s)
        except ValueError:
            try:
                x = float(s)
            except ValueError:
                raise _RowError(f"expected an integer 0-4, got {value!r}") from None
            if not (math.isfinite(x) and x.is_integer()):
                raise _RowError(f"expected an integer 0-4, got {value!r}") from None
            v = int(x)
    else:  # bool, None, containers, numpy scalars of the wrong kind
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            v = int(value)
        elif isinstance(value, (float, np.floating)) and not isinstance(value, bool):
            return parse_score(float(value))
        else:
            raise _RowError(f"expected an integer 0-4, got {value!r}")
    if not 0 <= v <= 4:
        raise _RowError(f"expected an integer 0-4, got {value!r}")
    return v


_MISSING = object()
_INT = int
_STR = str


def _check_row(t: tuple) -> bytes:
    """Validate one row, its fields in :data:`FIELDS` order (``_MISSING`` for an absent one); the scores as bytes."""
    prompt, response, h, c, co, cx, v = t
    if type(prompt) is _STR and type(response) is _STR and prompt and not prompt.isspace():
        # fast paths: five ints (JSON, Parquet) or five one-character strings (CSV)
        if type(h) is _INT and type(c) is _INT and type(co) is _INT and type(cx) is _INT and type(v) is _INT:
            if 0 <= h <= 4 and 0 <= c <= 4 and 0 <= co <= 4 and 0 <= cx <= 4 and 0 <= v <= 4:
                return bytes((h, c, co, cx, v))
        elif type(h) is _STR and type(c) is _STR and type(co) is _STR and type(cx) is _STR and type(v) is _STR:
            joined = h + c + co + cx + v
            if len(joined) == 5 and not joined.strip("01234"):
                return joined.encode("ascii").translate(_DIGITS)
    if prompt is _MISSING:
        raise _RowError("field 'prompt': missing")
    if type(prompt) is not str:
        raise _RowError(f"field 'prompt': expected a string, got {_short(prompt)}")
    if not prompt.strip():
        raise _RowError("field 'prompt': empty")
    if response is _MISSING:
        raise _RowError("field 'response': missing")
    if type(response) is not str:
        raise _RowError(f"field 'response': expected a string, got {_short(response)}")
    out = bytearray(5)
    for k, name in enumerate(ATTRIBUTES):
        value = t[2 + k]
        if value is _MISSING:
            raise _RowError(f"field '{name}': missing")
        try:
            out[k] = parse_score(value)
        except _RowError as e:
            raise _RowError(f"field '{name}': {e}") from None
    return bytes(out)


_DIGITS = bytes(range(256)).translate(bytes.maketrans(b"01234", bytes(range(5))))


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _text_lines(path: Path) -> Iterator[str]:
    """The lines of a UTF-8 text file, gunzipped when it starts with the gzip magic bytes.

    Each line is decoded on its own (line endings kept, a leading byte-order mark dropped), so a
    decoding error names its line exactly.
    """
    with open(path, "rb") as fh:
        magic = fh.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(f"{path}:{lineno}: not UTF-8 text ({e.reason} at byte {e.start + 1})") from None
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield line


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line, fields or _RowError)`` for each non-blank line."""
    fields = itemgetter(*FIELDS)
    decode = json.JSONDecoder().raw_decode
    for lineno, line in enumerate(_text_lines(path), 1):
        try:
            rec, end = decode(line)
            if end != len(line) and not line[end:].isspace():
                raise ValueError
        except ValueError:
            if not line.strip():
                continue
            try:  # the standard parser, for its message (or for leading white space)
                rec = json.loads(line)
            except ValueError as e:
                msg = f"invalid JSON ({e.msg} at column {e.colno})" if isinstance(e, json.JSONDecodeError) else "invalid JSON"
                yield lineno, _RowError(msg)
                continue
        if type(rec) is not dict:
            yield lineno, _RowError(f"expected a JSON object, got {type(rec).__name__}")
            continue
        try:
            yield lineno, fields(rec)
        except KeyError:
            yield lineno, tuple(rec.get(f, _MISSING) for f in FIELDS)


def _csv_rows(path: Path) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(_text_lines(path))
    try:
        header = next(reader)
    except StopIteration:
        return
    names = [h.strip() for h in header]
    missing = [f for f in FIELDS if f not in names]
    if missing:
        raise InputError(f"{path}:1: missing column {missing[0]!r} (the header has {', '.join(map(repr, names))})")
    cols = [names.index(f) for f in FIELDS]
    fields = itemgetter(*cols)
    width = max(cols) + 1
    start = reader.line_num + 1
    for row in reader:
        lineno, start = start, reader.line_num + 1
        if not row:
            continue
        if len(row) < width:
            yield lineno, tuple(row[c] if c < len(row) else _MISSING for c in cols)
        else:
            yield lineno, fields(row)


def _parquet_rows(path: Path, batch_size: int = 65536) -> Iterator[tuple[int, Any]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"{path}: reading Parquet needs pyarrow: {_PARQUET_HINT}") from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises ArrowInvalid / OSError for a file that is not Parquet
        raise InputError(f"{path}: not a readable Parquet file ({_short(str(e))[1:-1]})") from None
    names = pf.schema_arrow.names
    missing = [f for f in FIELDS if f not in names]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]!r} (the file has {', '.join(map(repr, names))})")
    rtype = pf.schema_arrow.field("response").type
    if not (pa.types.is_string(rtype) or pa.types.is_large_string(rtype) or pa.types.is_null(rtype)):
        raise InputError(f"{path}: column 'response' has type {rtype}, expected strings")
    rownum = 0
    for batch in pf.iter_batches(batch_size=batch_size, columns=list(FIELDS)):
        n = batch.num_rows
        prompts = batch.column(0).to_pylist()
        resp = batch.column(1)
        if resp.null_count:
            responses = ["" if v else None for v in resp.is_valid().to_pylist()]
        else:
            responses = [""] * n
        scores = [batch.column(2 + k).to_pylist() for k in range(len(ATTRIBUTES))]
        for r in range(n):
            yield rownum + r + 1, (prompts[r], responses[r], *(col[r] for col in scores))
        rownum += n


_READERS = {"jsonl": _jsonl_rows, "jsonl.gz": _jsonl_rows, "csv": _csv_rows, "parquet": _parquet_rows}


def load_groups(path: str | os.PathLike, *, fmt: str | None = None, skip_bad: bool = False) -> tuple[Groups, LoadReport]:
    """Read a HelpSteer-schema file, streaming, into scores grouped by prompt.

    Parameters
    ----------
    path : str or path-like
        The file.
    fmt : {"jsonl", "jsonl.gz", "csv", "parquet"}, optional
        The format; by default from the file name (see :func:`detect_format`).
    skip_bad : bool
        Skip malformed rows and count them instead of raising on the first one.

    Returns
    -------
    (Groups, LoadReport)

    Raises
    ------
    InputError
        ``FILE:LINE: field 'helpfulness': expected an integer 0-4, got 'x'`` for a malformed row
        (without ``skip_bad``); one line for a missing file, an unknown format, a missing column or
        a file without a valid row.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "t.csv")
    >>> _ = open(p, "w").write("prompt,response,helpfulness,correctness,coherence,complexity,verbosity\\n"
    ...                        "q,a,3,3,4,1,1\\nq,b,x,2,4,1,2\\n")
    >>> load_groups(p)
    Traceback (most recent call last):
    ...
    verify.exact.objects.InputError: ...t.csv:3: field 'helpfulness': expected an integer 0-4, got 'x'
    >>> g, r = load_groups(p, skip_bad=True)
    >>> g.scores[0].tolist(), r.skipped
    ([[3, 3, 4, 1, 1]], 1)
    """
    p = Path(path)
    label = str(path)
    fmt = detect_format(label, fmt)
    if not p.exists():
        raise InputError(f"{label}: no such file")
    if p.is_dir():
        raise InputError(f"{label}: is a directory, expected a {fmt} file")
    ids: dict[str, int] = {}
    prompt_of_row = array("l")
    scores = bytearray()
    bad: list[str] = []
    skipped = 0
    where = "row " if fmt == "parquet" else ""
    lineno = 0
    try:
        for lineno, item in _READERS[fmt](p):
            try:
                if type(item) is _RowError:
                    raise item
                row = _check_row(item)
            except _RowError as e:
                msg = f"{label}:{where}{lineno}: {e}"
                if not skip_bad:
                    raise InputError(msg) from None
                skipped += 1
                if len(bad) < _MAX_BAD:
                    bad.append(msg)
                continue
            prompt = item[0]
            k = ids.get(prompt)
            if k is None:
                k = ids[prompt] = len(ids)
            prompt_of_row.append(k)
            scores += row
    except PermissionError as e:
        raise InputError(f"{label}: cannot read ({e.strerror})") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise InputError(f"{label}: broken gzip stream after line {lineno} ({e})") from None
    except csv.Error as e:
        raise InputError(f"{label}:{lineno + 1}: malformed CSV ({e})") from None
    rows = len(prompt_of_row)
    if rows == 0:
        extra = f" ({skipped} malformed rows skipped; first: {bad[0]})" if skipped else ""
        raise InputError(f"{label}: no valid rows{extra}")
    owner = np.frombuffer(prompt_of_row, dtype=np.dtype(prompt_of_row.typecode)) if rows else np.zeros(0, np.int64)
    table = np.frombuffer(bytes(scores), dtype=np.int8).reshape(rows, len(ATTRIBUTES))
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=len(ids))
    grouped = np.split(table[order], np.cumsum(counts)[:-1])
    groups = Groups(list(ids), grouped)
    sizes = dict(zip(*[a.tolist() for a in np.unique(counts, return_counts=True)]))
    report = LoadReport(label, fmt, rows, skipped, bad, len(ids), sizes)
    return groups, report
