"""Learned models beside the keyword taxonomy: root cause and sentiment (scikit-learn).

Root cause (:class:`CauseModel`): a complement naive Bayes classifier over character 1-4-grams
(within words: Chinese needs no segmentation, Russian inflections share their n-grams), word
1-2-grams and the keyword taxonomy's score per cause, trained on every labelled text at
once, so it is one language-independent model: a language without training rows is still
classified. It trains on the ``train`` split of the project corpus and on the analysts'
``complaint_overrides`` rows (their complaint's text), so it improves as analysts correct it.

Sentiment (:class:`SentimentModel`): per language with labelled texts of at least two
classes, a logistic regression over character 1-4-grams and words; the score is
P(positive) - P(negative), from -1 to 1. Training texts are the project corpus' ``train``
rows and the public corpora's non-held-out rows when present.

Training is deterministic (closed-form counts for the root cause, a fixed solver for sentiment, no random
state involved) and takes seconds;
:func:`fit_models` caches the fitted models by a hash of everything they learn from.

Scoring needs numpy and scipy only: a fitted model keeps its classifier as weight matrices (:class:`_NaiveBayes`,
:class:`_Linear`), scikit-learn is imported by fitting alone, and the cached form holds no scikit-learn object, so
a build that loads cached models never imports scikit-learn (about 0.7 CPU-s of imports with scipy.stats).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from cxpipe.complaints.classify import FALLBACK_CAUSE, KeywordClassifier, format_evidence
from cxpipe.complaints.features import Batch, FeatureSpace, Grams, Vocabulary, ngrams
from cxpipe.complaints.schema import MODEL_VERSION
from cxpipe.complaints.text import clean_text

if TYPE_CHECKING:
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.naive_bayes import ComplementNB

METHOD = "model"
#: A second cause is named only when the model gives it at least this probability.
SECONDARY_MIN_PROBABILITY = 0.15
#: ``other`` is chosen only when its probability exceeds the best real cause's by this much. Cross-validated on
#: the corpus' train split (python -m cxpipe.complaints.crossval, 3 repeats): macro-F1 the same at 0.1 and 0.2
#: (0.800 / 0.799 / 0.812 and 0.800 / 0.799 / 0.813, en / zh / ru), while the share of real complaints falling to
#: `other` drops (3.5 -> 2.9 %, 1.4 -> 0.8 %, 4.4 -> 3.5 %).
OTHER_MARGIN = 0.2
#: Root cause: complement naive Bayes smoothing, and the temperature that turns its per-class scores into
#: probabilities (softmax of score / temperature). Both chosen by 5-fold cross-validation on the corpus' train
#: split only (smoothing: macro-F1; temperature: log-loss); docs/complaints.md has the figures.
CAUSE_SMOOTHING = 0.5
CAUSE_TEMPERATURE = 0.2
#: Per language, the fewest labelled texts a sentiment model is trained on.
MIN_SENTIMENT_ROWS = 30
#: Keyword scores are capped here and scaled to 0-1, then weighted by KEYWORD_WEIGHT, as root-cause features.
KEYWORD_SCORE_CAP = 3.0
KEYWORD_WEIGHT = 0.5


def _linear(C: float) -> OneVsRestClassifier:  # noqa: N803 - scikit-learn's name
    """One-vs-rest logistic regressions (liblinear: fast and deterministic on sparse n-grams)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(LogisticRegression(C=C, solver="liblinear", class_weight="balanced"))


class _Linear:
    """A fitted one-vs-rest logistic regression as one weight matrix: all classes of a batch in one product.

    Gives what ``OneVsRestClassifier.predict_proba`` gives (each class's sigmoid, rows scaled to
    sum to 1) with one sparse-dense product instead of one per class.
    """

    def __init__(self, fitted: OneVsRestClassifier) -> None:
        self.classes = [str(c) for c in fitted.classes_]
        estimators = fitted.estimators_
        if len(self.classes) == 2 and len(estimators) == 1:  # binary: one estimator for the second class
            coef = np.asarray(estimators[0].coef_, dtype=np.float64).reshape(1, -1)
            self.weights = np.vstack([-coef, coef]).T
            intercept = float(np.ravel(estimators[0].intercept_)[0])
            self.intercept = np.array([-intercept, intercept])
        else:
            self.weights = np.hstack([np.asarray(e.coef_, dtype=np.float64).reshape(-1, 1) for e in estimators])
            self.intercept = np.array([float(np.ravel(e.intercept_)[0]) for e in estimators])

    def predict_proba(self, features: sp.csr_matrix) -> np.ndarray:
        decision = np.asarray(features @ self.weights) + self.intercept
        if len(self.classes) == 2:
            positive = 1 / (1 + np.exp(-decision[:, 1]))
            return np.column_stack([1 - positive, positive])
        probabilities = 1 / (1 + np.exp(-decision))
        total = probabilities.sum(axis=1, keepdims=True)
        total[total == 0] = 1
        out: np.ndarray = probabilities / total
        return out


class _NaiveBayes:
    """A fitted complement naive Bayes model as one weight matrix: all classes of a batch in one product.

    A text's score for a class is ``features @ feature_log_prob_`` (scikit-learn's joint log-likelihood of
    ``ComplementNB``); probabilities are the softmax of score / ``temperature`` (temperature 1 gives
    ``ComplementNB.predict_proba``).
    """

    def __init__(self, fitted: ComplementNB, temperature: float) -> None:
        if len(fitted.classes_) < 2:
            raise ValueError("naive Bayes: at least two classes are needed")
        self.classes = [str(c) for c in fitted.classes_]
        self.weights = np.ascontiguousarray(np.asarray(fitted.feature_log_prob_, dtype=np.float64).T)
        self.temperature = temperature

    def predict_proba(self, features: sp.csr_matrix) -> np.ndarray:
        scores = np.asarray(features @ self.weights) / self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        out: np.ndarray = scores / scores.sum(axis=1, keepdims=True)
        return out


def _prepare(texts: Sequence[str]) -> list[str]:
    return [clean_text(t).lower() for t in texts]


def text_grams(texts: Sequence[str]) -> Grams:
    """The n-grams both models read (:mod:`cxpipe.complaints.features`), of the cleaned, lower-cased texts."""
    return ngrams(_prepare(texts))


def _ngram_features(
    vocabulary: Vocabulary, texts: Sequence[str], grams: Grams | Batch | None, rows: np.ndarray | None = None
) -> sp.csr_matrix:
    """``vocabulary``'s TF-IDF matrix of ``texts``: from the caller's batch or n-grams (of ``rows`` of them when
    given), else from the texts."""
    if isinstance(grams, Batch):
        return grams.features(vocabulary, rows)
    if grams is None:
        grams = text_grams(texts)
    elif rows is not None:
        mask = np.zeros(grams.size, dtype=bool)
        mask[rows] = True
        grams = grams.subset(mask)
    return vocabulary.transform(grams)


@dataclass(frozen=True)
class CausePrediction:
    root_cause: str
    secondary_cause: str | None
    confidence: float
    evidence: str
    method: str


class CauseModel:
    """Root cause from text and keyword evidence. ``fit`` once, ``predict`` a batch.

    ``model`` is the fitted scikit-learn ``ComplementNB`` in the process that fitted it; a pickled model
    (the cache of :func:`fit_models`) keeps only its weight matrix (``linear``) and has ``model = None``.
    """

    def __init__(self, keywords: KeywordClassifier) -> None:
        self.keywords = keywords
        self.vocabulary = Vocabulary(min_df=1)
        self.model: ComplementNB | None = None
        self.linear: _NaiveBayes | None = None
        self.keyword_causes: list[str] = sorted(keywords.causes)

    def __getstate__(self) -> dict[str, object]:
        # the scikit-learn object stays out: unpickling it would import scikit-learn, scoring reads ``linear``
        return {**self.__dict__, "model": None}

    def _features(
        self, texts: Sequence[str], languages: Sequence[str], grams: Grams | Batch | None = None, fit: bool = False
    ) -> tuple[Any, list[tuple[dict[str, float], dict[str, list[str]]]]]:
        if fit:
            grams = text_grams(texts)
            self.vocabulary.fit(grams)
        ngram_features = _ngram_features(self.vocabulary, texts, grams)
        matched = self.keywords.scores_many(texts, languages)
        column = {c: i for i, c in enumerate(self.keyword_causes)}
        rows, cols, vals = [], [], []
        for i, (scores, _) in enumerate(matched):
            for cause, value in scores.items():
                rows.append(i)
                cols.append(column[cause])
                vals.append(min(value, KEYWORD_SCORE_CAP) / KEYWORD_SCORE_CAP * KEYWORD_WEIGHT)
        kw = sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(column)), dtype=np.float32)
        return sp.hstack([ngram_features, kw], format="csr"), matched

    def fit(self, texts: Sequence[str], languages: Sequence[str], causes: Sequence[str]) -> CauseModel:
        if len(set(causes)) < 2:
            raise ValueError("CauseModel: the training texts need at least two different root causes")
        from sklearn.naive_bayes import ComplementNB

        features, _ = self._features(texts, languages, fit=True)
        self.model = ComplementNB(alpha=CAUSE_SMOOTHING).fit(features, list(causes))
        self.linear = _NaiveBayes(self.model, CAUSE_TEMPERATURE)
        return self

    @property
    def classes(self) -> list[str]:
        assert self.linear is not None, "CauseModel: fit first"
        return list(self.linear.classes)

    def _probabilities(self, features: sp.csr_matrix) -> np.ndarray:
        assert self.linear is not None, "CauseModel: fit first"
        return self.linear.predict_proba(features)

    def probabilities(
        self, texts: Sequence[str], languages: Sequence[str], grams: Grams | Batch | None = None
    ) -> np.ndarray:
        """Probability of each cause in :attr:`classes` per text (rows sum to 1)."""
        features, _ = self._features(texts, languages, grams)
        return self._probabilities(features)

    def predict(
        self, texts: Sequence[str], languages: Sequence[str], grams: Grams | Batch | None = None
    ) -> list[CausePrediction]:
        """Root cause, secondary cause, confidence (the winner's probability) and evidence per text.

        The root cause is the most probable cause; ``other`` only when it leads the best real cause by
        :data:`OTHER_MARGIN`. ``grams``: the texts' n-grams (:func:`text_grams`) or their batch
        (:meth:`Models.batch`) when the caller has them already.
        """
        if not texts:
            return []
        features, matched = self._features(texts, languages, grams)
        probabilities = self._probabilities(features)
        classes = self.classes
        order = np.argsort(-cause_decision(probabilities, classes), axis=1, kind="stable")[:, :2]
        best = np.take_along_axis(probabilities, order, axis=1)
        out = []
        none = CausePrediction(FALLBACK_CAUSE, None, 0.0, "", "none")
        for text, (first, second), (p1, p2), (scores, evidence) in zip(
            texts, order.tolist(), best.tolist(), matched, strict=True
        ):
            if not text or not text.strip():
                out.append(none)
                continue
            cause, runner_up = classes[first], classes[second]
            secondary = runner_up if p2 >= SECONDARY_MIN_PROBABILITY and runner_up != FALLBACK_CAUSE else None
            text_evidence = f"model: {cause} {p1:.2f}" + (f", {runner_up} {p2:.2f}" if p2 >= 0.05 else "")
            if scores:
                ranked = sorted(scores, key=lambda c: (-scores[c], c))
                if secondary is None:  # a second cause the text names in so many words, when the model has none
                    secondary = next((c for c in ranked if c not in (cause, FALLBACK_CAUSE)), None)
                text_evidence += f"; keywords: {format_evidence(ranked, evidence)}"
            out.append(CausePrediction(cause, secondary, round(p1, 3), text_evidence, METHOD))
        return out


def cause_decision(probabilities: np.ndarray, classes: Sequence[str], margin: float = OTHER_MARGIN) -> np.ndarray:
    """The scores a root cause is chosen by: the probabilities, with ``other``'s lowered by ``margin`` so that a
    real cause wins over ``other`` unless ``other`` leads it by that much."""
    if FALLBACK_CAUSE not in classes:
        return probabilities
    decision = probabilities.copy()
    decision[:, list(classes).index(FALLBACK_CAUSE)] -= margin
    return decision


class SentimentModel:
    """Sentiment from -1 to 1 per language: one classifier for each language with labelled texts."""

    def __init__(self) -> None:
        self.models: dict[str, tuple[Vocabulary, _Linear]] = {}

    def fit(self, rows: Sequence[Mapping[str, str]]) -> SentimentModel:
        """Train on rows with ``language, text, sentiment`` (negative/neutral/positive)."""
        by_language: dict[str, list[Mapping[str, str]]] = {}
        for row in rows:
            if row.get("sentiment") and row.get("text"):
                by_language.setdefault(row["language"], []).append(row)
        for language, labelled in sorted(by_language.items()):
            labels = [r["sentiment"] for r in labelled]
            if len(labelled) < MIN_SENTIMENT_ROWS or len(set(labels)) < 2:
                continue
            grams = text_grams([r["text"] for r in labelled])
            vocabulary = Vocabulary(min_df=2).fit(grams)
            model = _linear(C=3.0).fit(vocabulary.transform(grams), labels)
            self.models[language] = (vocabulary, _Linear(model))
        return self

    @property
    def languages(self) -> list[str]:
        return sorted(self.models)

    def probabilities(
        self,
        texts: Sequence[str],
        language: str,
        grams: Grams | Batch | None = None,
        rows: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """P(class) per text for ``language``'s classes (``negative``, maybe ``neutral``, ``positive``).

        ``grams``: n-grams or batch of a larger set of texts, ``texts`` being its ``rows``.
        """
        vocabulary, model = self.models[language]
        matrix = model.predict_proba(_ngram_features(vocabulary, texts, grams, rows))
        return {c: matrix[:, i] for i, c in enumerate(model.classes)}

    def scores(
        self,
        texts: Sequence[str],
        language: str,
        grams: Grams | Batch | None = None,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(positive) - P(negative) per text, rounded to 4 places."""
        p = self.probabilities(texts, language, grams, rows)
        zero = np.zeros(len(texts))
        scores: np.ndarray = np.round(p.get("positive", zero) - p.get("negative", zero), 4)
        return scores


@dataclass
class Models:
    causes: CauseModel
    sentiment: SentimentModel
    key: str
    #: the languages of the training rows (project corpus and public corpora, the overrides aside), which
    #: language detection chooses among; None when the caller did not say (the rows are read again then)
    training_languages: frozenset[str] | None = None

    def batch(self, grams: Grams) -> Batch:
        """``grams`` looked up once for both models (all their vocabularies in one :class:`FeatureSpace`)."""
        space = _SPACES.get(self.key)
        if space is None or space.vocabularies[0] is not self.causes.vocabulary:
            vocabularies = [
                self.causes.vocabulary,
                *(self.sentiment.models[lang][0] for lang in self.sentiment.languages),
            ]
            space = FeatureSpace(vocabularies)
            _SPACES.clear()
            _SPACES[self.key] = space
        return Batch(space, grams)


_SPACES: dict[str, FeatureSpace] = {}


def training_key(*parts: Sequence[Mapping[str, object]]) -> str:
    """Hash of everything a model learns from (and the model version)."""
    digest = hashlib.sha256(MODEL_VERSION.encode())
    for part in parts:
        digest.update(_part_digest(part))
    return digest.hexdigest()[:24]


#: Digests of tuples of rows already hashed (the tuple is kept, so its id is not reused).
_DIGESTS: dict[int, tuple[tuple[Mapping[str, object], ...], bytes]] = {}


def _part_digest(part: Sequence[Mapping[str, object]]) -> bytes:
    """sha256 of the rows of ``part``; remembered for a tuple (cxpipe's training rows are read once per process)."""
    if isinstance(part, tuple) and id(part) in _DIGESTS and _DIGESTS[id(part)][0] is part:
        return _DIGESTS[id(part)][1]
    value = hashlib.sha256(json.dumps([sorted((str(k), str(v)) for k, v in r.items()) for r in part]).encode()).digest()
    if isinstance(part, tuple):
        if len(_DIGESTS) > 16:
            _DIGESTS.clear()
        _DIGESTS[id(part)] = (part, value)
    return value


#: Fitted models of this process, most recently used last; a process that alternates between a few
#: training sets (the review command, the held-out evaluation, tests) keeps each instead of refitting.
_MEMORY: OrderedDict[str, Any] = OrderedDict()
_MEMORY_SIZE = 6
#: The form of the cached files, in their names: 2 holds no scikit-learn object (a file of form 1, which pickled
#: the root-cause model's ``ComplementNB`` and so imported scikit-learn on loading, is no longer read).
CACHE_FORMAT = 2


def _load(kind: str, key: str, cache_dir: Path | None) -> Any | None:
    """The model ``kind`` trained on inputs hashing to ``key``, from memory or ``cache_dir``; None if neither has it."""
    name = f"complaint_{kind}_{key}"
    if name in _MEMORY:
        _MEMORY.move_to_end(name)
        return _MEMORY[name]
    path = cache_dir / f"{name}_f{CACHE_FORMAT}.pkl" if cache_dir is not None else None
    if path is None or not path.is_file():
        return None
    with path.open("rb") as fh:
        model = pickle.load(fh)
    _remember(name, model)
    return model


def _remember(name: str, model: Any) -> None:
    _MEMORY[name] = model
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _cached(kind: str, key: str, cache_dir: Path | None, build: Callable[[], Any]) -> Any:
    """The model ``kind`` trained on inputs hashing to ``key``: from memory, ``cache_dir``, or ``build()``."""
    model = _load(kind, key, cache_dir)
    if model is not None:
        return model
    model = build()
    if cache_dir is not None:
        path = cache_dir / f"complaint_{kind}_{key}_f{CACHE_FORMAT}.pkl"
        _write_atomically(path, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    _remember(f"complaint_{kind}_{key}", model)
    return model


def _inputs_path(inputs: str, cache_dir: Path) -> Path:
    return cache_dir / f"complaint_inputs_{inputs}_f{CACHE_FORMAT}.json"


def cached_models(inputs: str, cache_dir: Path) -> Models | None:
    """The models fitted before on the training inputs whose bytes hash to ``inputs``
    (:func:`cxpipe.complaints.incremental.training_inputs_key`), without reading or hashing the training rows.

    :func:`remember_models` noted which cached models (their :func:`training_key` per kind) and which training
    languages those inputs gave; None when it did not, or a model file is gone: the caller reads the rows and
    fits (or finds the models by their rows' keys) as before. New training data changes the inputs' bytes and
    so their hash: nothing fitted on the old data is found by it.
    """
    try:
        entry = json.loads(_inputs_path(inputs, cache_dir).read_text(encoding="utf-8"))
        cause_key, sentiment_key, languages = entry["causes"], entry["sentiment"], entry["training_languages"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    causes, sentiment = _load("causes", cause_key, cache_dir), _load("sentiment", sentiment_key, cache_dir)
    if causes is None or sentiment is None:
        return None
    return Models(causes, sentiment, f"{cause_key}-{sentiment_key}", frozenset(languages))


def remember_models(inputs: str, models: Models, cache_dir: Path) -> None:
    """Note in ``cache_dir`` that the training inputs hashing to ``inputs`` gave ``models`` (read by
    :func:`cached_models`)."""
    if models.training_languages is None:
        raise ValueError("remember_models: the models' training_languages are needed")
    cause_key, sentiment_key = models.key.split("-")
    entry = {"causes": cause_key, "sentiment": sentiment_key, "training_languages": sorted(models.training_languages)}
    _write_atomically(_inputs_path(inputs, cache_dir), json.dumps(entry).encode())


def fit_models(
    taxonomy: Sequence[Mapping[str, object]],
    cause_rows: Sequence[Mapping[str, str]],
    sentiment_rows: Sequence[Mapping[str, str]],
    cache_dir: Path | None = None,
) -> Models:
    """Both models, trained on ``cause_rows`` (``language, text, root_cause``) and ``sentiment_rows``.

    The same inputs give the same models; each is reused from memory, or from
    ``cache_dir/complaint_<kind>_<key>_f<CACHE_FORMAT>.pkl`` when a cache directory is given (the key is a
    hash of its training data, so new overrides or taxonomy rows train a new one).
    """

    def causes() -> CauseModel:
        labelled = [r for r in cause_rows if r.get("text") and r.get("root_cause")]
        return CauseModel(KeywordClassifier(taxonomy)).fit(
            [r["text"] for r in labelled], [r["language"] for r in labelled], [r["root_cause"] for r in labelled]
        )

    cause_key = training_key(taxonomy, cause_rows)
    sentiment_key = training_key(sentiment_rows)
    return Models(
        causes=_cached("causes", cause_key, cache_dir, causes),
        sentiment=_cached("sentiment", sentiment_key, cache_dir, lambda: SentimentModel().fit(sentiment_rows)),
        key=f"{cause_key}-{sentiment_key}",
    )
