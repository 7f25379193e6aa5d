"""TF-IDF n-gram features of a whole batch of texts at once, computed with numpy.

The learned models (:mod:`cxpipe.complaints.model`) read texts as character 1-4-grams
within words and word 1-2-grams, weighted by TF-IDF: the features of scikit-learn's
``TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4))`` and ``TfidfVectorizer(
ngram_range=(1, 2))`` with ``sublinear_tf=True``, the same numbers (a test compares them).
scikit-learn builds them one text and one n-gram at a time in Python; here the n-grams of
every text of a batch come from a few array operations over all their characters:

1. :func:`ngrams` joins the batch into one array of code points and gives every n-gram
   a 64-bit key: a character n-gram packs its characters (16 bits each), a word is a
   polynomial hash of its characters and a word pair a mix of two word keys. This pass
   is shared: the root-cause model and the sentiment model read the same :class:`Grams`.
2. A :class:`Vocabulary` (fitted on the training texts: keys, document frequencies,
   ``min_df``) maps keys to columns through a hash table; n-grams not in it are dropped,
   counts of a key within a text are summed, ``1 + log(tf)`` times the idf, and each row
   is scaled to unit length (per block: characters, words).

Keys are exact for characters of the Basic Multilingual Plane; characters beyond it (emoji)
share 2,048 keys, and word keys are 64-bit hashes (a collision between two words of one
vocabulary is about as likely as one in 10^10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: The two blocks of features: character n-grams within words, word n-grams.
BLOCKS = ("chars", "words")
CHAR_NGRAMS = (1, 4)
_TABLE_SIZE = 0x32400  # code points classified by table (to CJK extension H); above it: no word character
_SEPARATOR = 0  # between two texts in the joined batch (NUL characters of the texts are read as spaces)
_B = np.uint64(0x100000001B3)  # odd: invertible modulo 2**64
_U64 = np.uint64


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """(is a word character as ``re``'s ``\\w``, is whitespace) per code point below :data:`_TABLE_SIZE`."""
    chars = [chr(c) for c in range(_TABLE_SIZE)]
    word = np.fromiter((c.isalnum() or c == "_" for c in chars), dtype=bool, count=_TABLE_SIZE)
    space = np.fromiter((c.isspace() for c in chars), dtype=bool, count=_TABLE_SIZE)
    word[_SEPARATOR] = space[_SEPARATOR] = False
    return word, space


@lru_cache(maxsize=4)
def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """B**i and B**-i modulo 2**64 for i < ``size`` (rounded up, so a few sizes serve every batch)."""
    return _cumpow(_B, size), _cumpow(_U64(pow(int(_B), -1, 2**64)), size)


def _cumpow(base: np.uint64, size: int) -> np.ndarray:
    out = np.empty(size, dtype=_U64)
    out[0] = 1
    if size > 1:
        out[1:] = base
        with np.errstate(over="ignore"):
            np.multiply.accumulate(out[1:], out=out[1:])
    return out


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits of a key."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
        mixed: np.ndarray = x ^ (x >> _U64(31))
        return mixed


@dataclass(frozen=True)
class Grams:
    """The n-grams of a batch: per block, the text (row) of each n-gram, its key and its count."""

    size: int  # number of texts
    rows: dict[str, np.ndarray]
    keys: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]

    def subset(self, mask: np.ndarray) -> Grams:
        """The n-grams of the texts where ``mask`` is true, renumbered in their order."""
        mask = np.asarray(mask, dtype=bool)
        renumber = np.cumsum(mask) - 1
        rows, keys, counts = {}, {}, {}
        for block in BLOCKS:
            keep = mask[self.rows[block]]
            rows[block] = renumber[self.rows[block][keep]]
            keys[block] = self.keys[block][keep]
            counts[block] = self.counts[block][keep]
        return Grams(int(mask.sum()), rows, keys, counts)


def ngrams(texts: Sequence[str]) -> Grams:
    """Character 1-4-grams within words (``char_wb``) and word 1-2-grams of every text, in one pass.

    As scikit-learn reads them: whitespace splits words, each word is padded with a space
    on both sides and its character n-grams are counted (a space between two words is in
    both padded words: it counts twice as a 1-gram); words are runs of two or more word
    characters (``\\b\\w\\w+\\b``), word pairs are neighbouring words of a text.
    """
    segments = []
    for text in texts:
        parts = text.replace("\0", " ").split()
        segments.append(" " + " ".join(parts) + " " if parts else "")
    lengths = np.fromiter((len(s) + 1 for s in segments), dtype=np.int64, count=len(segments))
    joined = "\0".join(segments)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    row_of = np.repeat(np.arange(len(segments), dtype=np.int64), lengths)[: len(codes)]
    word_table, _ = _tables()
    separator = codes == _SEPARATOR
    space = codes == 32  # the only whitespace left after split/join
    is_word = word_table[np.minimum(codes, _TABLE_SIZE - 1)]
    folded = np.where(codes < 0x10000, codes, 0xD800 + (codes & 0x7FF)).astype(_U64)

    rows, keys, counts = {}, {}, {}
    # characters: n-grams with no separator and no space inside (ends may be the padding spaces)
    total = len(codes)
    char_rows, char_keys, char_counts = [], [], []
    for n in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
        m = total - n + 1
        if m <= 0:
            continue
        valid = ~separator[:m] & ~separator[n - 1 : n - 1 + m]
        for k in range(1, n - 1):
            valid &= ~space[k : k + m] & ~separator[k : k + m]
        key = folded[:m] << _U64(48)
        for k in range(1, n):
            key |= folded[k : k + m] << _U64(48 - 16 * k)
        count = np.ones(m, dtype=np.float32)
        if n == 1:  # a space between two words pads both: it counts twice
            inner = space[:m].copy()
            inner[0] = inner[-1] = False
            inner[1:-1] &= ~separator[:-2] & ~separator[2:]
            count[inner] = 2
        where = np.flatnonzero(valid)
        char_rows.append(row_of[where])
        char_keys.append(key[where])
        char_counts.append(count[where])
    rows["chars"] = np.concatenate(char_rows) if char_rows else np.zeros(0, np.int64)
    keys["chars"] = np.concatenate(char_keys) if char_keys else np.zeros(0, _U64)
    counts["chars"] = np.concatenate(char_counts) if char_counts else np.zeros(0, np.float32)

    # words: runs of two or more word characters; word pairs: neighbouring words of one text
    previous = np.concatenate(([False], is_word[:-1]))
    following = np.concatenate((is_word[1:], [False]))
    starts = np.flatnonzero(is_word & ~previous)
    ends = np.flatnonzero(is_word & ~following) + 1
    long_enough = ends - starts >= 2
    starts, ends = starts[long_enough], ends[long_enough]
    size = 1 << max(10, int(total + 1).bit_length())
    powers, inverses = _powers(size)
    with np.errstate(over="ignore"):
        prefix = np.zeros(total + 1, dtype=_U64)
        np.cumsum(folded * powers[:total], out=prefix[1:])
        word_keys = _mix((prefix[ends] - prefix[starts]) * inverses[starts] + (ends - starts).astype(_U64))
        word_rows = row_of[starts]
        pair = word_rows[:-1] == word_rows[1:]
        pair_keys = _mix(word_keys[:-1][pair] * _U64(0x9E3779B97F4A7C15) ^ (word_keys[1:][pair] + _U64(1)))
    rows["words"] = np.concatenate((word_rows, word_rows[:-1][pair]))
    keys["words"] = np.concatenate((word_keys, pair_keys))
    counts["words"] = np.ones(len(keys["words"]), dtype=np.float32)
    return Grams(len(segments), rows, keys, counts)


class Vocabulary:
    """The n-gram keys of one model's training texts that it keeps as columns, with their idf.

    ``fit`` keeps the keys found in at least ``min_df`` training texts; ``transform`` gives
    the TF-IDF matrix (sublinear tf, smoothed idf, unit-length rows per block) of a batch's
    :class:`Grams`.
    """

    def __init__(self, min_df: int = 1) -> None:
        self.min_df = min_df
        self.keys: dict[str, np.ndarray] = {}
        self.idf: dict[str, np.ndarray] = {}

    def fit(self, grams: Grams) -> Vocabulary:
        for block in BLOCKS:
            keys, rows = grams.keys[block], grams.rows[block]
            order = np.lexsort((rows, keys))
            keys, rows = keys[order], rows[order]
            first = np.ones(len(keys), dtype=bool)
            first[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
            unique, df = np.unique(keys[first], return_counts=True)
            kept = df >= self.min_df
            self.keys[block] = unique[kept]
            self.idf[block] = (np.log((1 + grams.size) / (1 + df[kept])) + 1).astype(np.float32)
        self.__dict__.pop("_own_space", None)
        return self

    @property
    def width(self) -> int:
        return sum(len(self.keys[block]) for block in BLOCKS)

    def transform(self, grams: Grams) -> sp.csr_matrix:
        """The TF-IDF matrix of ``grams`` (one row per text, this vocabulary's columns)."""
        space = self._space()
        return space.transform(space.counts(grams), 0)

    def _space(self) -> FeatureSpace:
        space = self.__dict__.get("_own_space")
        if space is None:
            space = self.__dict__["_own_space"] = FeatureSpace([self])
        return space

    def __getstate__(self) -> dict[str, object]:
        return {"min_df": self.min_df, "keys": self.keys, "idf": self.idf}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)


class FeatureSpace:
    """The columns of several vocabularies in one index: a batch's n-grams are looked up and counted once
    (:meth:`counts`), and each vocabulary's TF-IDF matrix is taken from those counts (:meth:`transform`).

    Both the union and each vocabulary keep their keys sorted, so a vocabulary's columns come out of the
    union's in order: no second lookup, no second sort.
    """

    def __init__(self, vocabularies: Sequence[Vocabulary]) -> None:
        self.vocabularies = list(vocabularies)
        self.keys = {block: np.unique(np.concatenate([v.keys[block] for v in self.vocabularies])) for block in BLOCKS}
        # per vocabulary and block: the vocabulary's column of each union column, -1 where it has none
        self.columns: list[dict[str, np.ndarray]] = []
        for vocabulary in self.vocabularies:
            columns = {}
            for block in BLOCKS:
                mapping = np.full(len(self.keys[block]), -1, dtype=np.int64)
                mapping[np.searchsorted(self.keys[block], vocabulary.keys[block])] = np.arange(
                    len(vocabulary.keys[block])
                )
                columns[block] = mapping
            self.columns.append(columns)
        self._index: dict[str, pd.Index] = {}

    def counts(self, grams: Grams) -> dict[str, sp.csr_matrix]:
        """Per block, how often each known n-gram occurs in each text (duplicates summed, columns sorted)."""
        out = {}
        for block in BLOCKS:
            index = self._index.get(block)
            if index is None:
                index = self._index[block] = pd.Index(self.keys[block])
            columns = np.asarray(index.get_indexer(pd.Index(grams.keys[block])))
            known = columns >= 0
            matrix = sp.csr_matrix(
                (grams.counts[block][known], (grams.rows[block][known], columns[known])),
                shape=(grams.size, len(self.keys[block])),
                dtype=np.float32,
            )
            matrix.sum_duplicates()
            out[block] = matrix
        return out

    def transform(self, counts: dict[str, sp.csr_matrix], which: int, rows: np.ndarray | None = None) -> sp.csr_matrix:
        """Vocabulary ``which``'s TF-IDF matrix (sublinear tf, its idf, unit-length rows per block) of the texts
        ``rows`` (all when None) from :meth:`counts`."""
        vocabulary, mapping = self.vocabularies[which], self.columns[which]
        blocks = []
        for block in BLOCKS:
            matrix = counts[block] if rows is None else counts[block][rows]
            columns = mapping[block][matrix.indices]
            keep = columns >= 0
            size = matrix.shape[0]
            row_of = np.repeat(np.arange(size), np.diff(matrix.indptr))[keep]
            indptr = np.zeros(size + 1, dtype=np.int64)
            np.cumsum(np.bincount(row_of, minlength=size), out=indptr[1:])
            data = matrix.data[keep]  # a copy: the counts stay as they are for the next vocabulary
            np.log(data, out=data)
            data += 1
            kept_columns = columns[keep]
            data *= vocabulary.idf[block][kept_columns]
            own = sp.csr_matrix((data, kept_columns, indptr), shape=(size, len(vocabulary.keys[block])))
            own.has_sorted_indices = True
            blocks.append(normalize_rows(own, row_of))
        return sp.hstack(blocks, format="csr", dtype=np.float32)


def normalize_rows(matrix: sp.csr_matrix, row_of: np.ndarray | None = None) -> sp.csr_matrix:
    """``matrix`` with each row scaled to unit length in place: scikit-learn's ``normalize(matrix, copy=False)``
    (``norm="l2"``) for a float32 CSR matrix, to the bit, without importing scikit-learn.

    As scikit-learn computes it: each row's sum of squares added up in float64 in the order of its entries (the
    squares taken in float32), its square root, each entry divided by it in float64 and rounded back to float32;
    rows whose sum is 0 left as they are. ``np.bincount`` with weights adds in that order, in float64.
    ``row_of``: the row of each stored entry, when the caller has it.
    """
    data = matrix.data
    if row_of is None:
        row_of = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    squares = (data * data).astype(np.float64)
    norms = np.sqrt(np.bincount(row_of, weights=squares, minlength=matrix.shape[0]))
    norms[norms == 0] = 1.0  # x / 1.0 is x: an empty row stays as it is
    data[:] = data.astype(np.float64) / norms[row_of]
    return matrix


class Batch:
    """A batch's n-grams counted once in a :class:`FeatureSpace`: the TF-IDF matrix of any of its vocabularies,
    for all texts or some, comes from the same counts."""

    def __init__(self, space: FeatureSpace, grams: Grams) -> None:
        self.space = space
        self.size = grams.size
        self.counts = space.counts(grams)

    def features(self, vocabulary: Vocabulary, rows: np.ndarray | None = None) -> sp.csr_matrix:
        which = next(i for i, v in enumerate(self.space.vocabularies) if v is vocabulary)
        return self.space.transform(self.counts, which, rows)
