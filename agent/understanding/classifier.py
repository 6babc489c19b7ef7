"""The example-trained intent classifier: scikit-learn over character and word n-grams.

Trained from ``prompts/nlu/intents.yaml`` (the examples per intent) on first use and
cached under ``SATYA_HOME/cache`` keyed by the corpus and library versions, so a later
start loads it in milliseconds. Character n-grams carry typos and other languages;
word n-grams carry phrasing. A logistic regression gives calibrated-enough scores for
the clarification threshold (a linear SVM: as accurate here as a logistic regression
and thirty times faster to train; its margins are turned into scores by a softmax).
A message is scored by the fitted model's own arithmetic (``LinearScorer``: n-grams,
tf-idf, the SVM's weights) without scikit-learn's per-call checks, a tenth of the time.

Example::

    >>> clf = IntentClassifier.train()
    >>> clf.predict("how's my stuff doing on the market?")[0][0]
    'dashboard'
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import pickle
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from prompts import load_text, load_yaml

log = logging.getLogger("satya.nlu")
CORPUS = "nlu/intents.yaml"
_VERSION = 5  # bump when the features or the model change
_SHARPNESS = 6.0  # softmax temperature over the SVM's margins
_C = 1.0  # the SVM's regularisation, chosen on the development sets (bench/nlu.py)


def normalise(text: str) -> str:
    """Lowercase, NFKC, typographic quotes made plain: what the classifier sees."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").lower()
    return " ".join(text.split())


def corpus() -> list[tuple[str, str]]:
    """(text, intent) pairs of the training corpus."""
    data = load_yaml(CORPUS)
    intents = data["intents"]
    assert isinstance(intents, dict)
    return [(str(t), str(kind)) for kind, texts in intents.items() for t in texts or ()]


def _fingerprint() -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(load_text(CORPUS).encode())
    digest.update(f"{_VERSION}:{version('scikit-learn')}".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class LinearScorer:
    """The margins ``pipeline.decision_function`` gives for one text, computed directly.

    Per vectorizer: its analyzer's n-grams counted over its vocabulary, tf = 1 + log(count)
    (sublinear), times the idf, scaled to unit length (l2); the SVM adds up its weights of
    those columns. scikit-learn does the same through validation, sparse matrices and
    joblib on every call, which cost ~1 ms a message; this costs ~0.1 ms.
    """

    parts: tuple[tuple[Callable[[str], list[str]], dict[str, int], Any, int], ...]
    coef: Any  # (classes, features) of the whole feature union
    intercept: Any  # (classes,)

    @classmethod
    def of(cls, pipeline: Any) -> LinearScorer:
        union, svm = pipeline.named_steps["features"], pipeline.named_steps["clf"]
        if union.transformer_weights is not None:
            raise ValueError("weighted feature unions are not supported")
        parts, offset = [], 0
        for _name, vec in union.transformer_list:
            if not (vec.sublinear_tf and vec.use_idf and vec.norm == "l2" and not vec.binary):
                raise ValueError("the scorer computes sublinear tf-idf with l2 norms only")
            parts.append((vec.build_analyzer(), vec.vocabulary_, vec.idf_, offset))
            offset += len(vec.vocabulary_)
        if offset != svm.coef_.shape[1]:
            raise ValueError("the SVM's weights do not match the vectorizers' vocabularies")
        return cls(tuple(parts), svm.coef_, svm.intercept_)

    def margins(self, text: str) -> Any:
        out = np.array(self.intercept, dtype=np.float64)
        for analyze, vocabulary, idf, offset in self.parts:
            counts: dict[int, int] = {}
            for gram in analyze(text):
                column = vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(sorted(counts), dtype=np.intp, count=len(counts))
            tf = np.log(np.array([counts[c] for c in columns], dtype=np.float64)) + 1.0
            weights = tf * idf[columns]
            weights /= np.sqrt(weights @ weights)
            out += self.coef[:, columns + offset] @ weights
        return out


@dataclass(frozen=True, slots=True)
class IntentClassifier:
    """Text -> ranked (intent, score) pairs."""

    pipeline: Any
    fingerprint: str
    scorer: LinearScorer = field(init=False, repr=False, compare=False)
    classes: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scorer", LinearScorer.of(self.pipeline))
        object.__setattr__(self, "classes", tuple(str(k) for k in self.pipeline.classes_))

    @classmethod
    def train(cls, examples: list[tuple[str, str]] | None = None) -> IntentClassifier:
        """Fit on ``examples`` (default: the corpus in ``prompts/nlu``)."""
        # scikit-learn is imported here, not at start-up: a chat's prompt never waits for it
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion, Pipeline
        from sklearn.svm import LinearSVC

        pairs = examples if examples is not None else corpus()
        features = FeatureUnion(
            [
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1
                    ),
                ),
                (
                    "words",
                    TfidfVectorizer(
                        analyzer="word",
                        ngram_range=(1, 2),
                        sublinear_tf=True,
                        token_pattern=r"(?u)\b\w+\b|[?!👍]",
                    ),
                ),
            ]
        )
        model = Pipeline([("features", features), ("clf", LinearSVC(C=_C, random_state=0))])
        model.fit([normalise(t) for t, _ in pairs], [k for _, k in pairs])
        return cls(model, _fingerprint() if examples is None else "custom")

    @classmethod
    def load(cls, cache_dir: Path | None) -> IntentClassifier:
        """The corpus model: from the cache when it was trained on this corpus, else trained now."""
        fingerprint = _fingerprint()
        loaded = _LOADED.get(fingerprint)
        if loaded is not None:
            return loaded
        model = cls._load(cache_dir, fingerprint)
        _LOADED[fingerprint] = model
        return model

    @classmethod
    def _load(cls, cache_dir: Path | None, fingerprint: str) -> IntentClassifier:
        path = cache_dir / f"nlu-{fingerprint}.pkl" if cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                with path.open("rb") as fh:  # written by this code under the user's own home
                    pipeline = pickle.load(fh)
                return cls(pipeline, fingerprint)
            except Exception:  # a damaged cache is rebuilt, never fatal
                log.info("the language model cache %s is unreadable; training again", path)
        model = cls.train()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                with tmp.open("wb") as fh:
                    pickle.dump(model.pipeline, fh, protocol=pickle.HIGHEST_PROTOCOL)
                tmp.replace(path)
            except OSError:
                log.info("could not cache the language model under %s", path.parent)
        return model

    def predict(self, text: str, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` likeliest intents with their scores, best first."""
        margins = self.scorer.margins(normalise(text))
        exp = np.exp((margins - margins.max()) * _SHARPNESS)
        probs = exp / exp.sum()
        ranked = sorted(zip(self.classes, probs.tolist(), strict=True), key=lambda p: -p[1])
        return ranked[:top]


_LOADED: dict[str, IntentClassifier] = {}  # one model per process, whatever the number of homes


class BackgroundClassifier:
    """The corpus model, loaded (or trained) on a thread from the moment it is created:
    the first message waits for it only if it comes within that second or two."""

    def __init__(self, cache_dir: Path | None) -> None:
        self._future: Future[IntentClassifier] = Future()
        threading.Thread(target=self._load, args=(cache_dir,), daemon=True).start()

    def _load(self, cache_dir: Path | None) -> None:
        try:
            self._future.set_result(IntentClassifier.load(cache_dir))
        except BaseException as exc:  # the first message raises it; the rules answer meanwhile
            self._future.set_exception(exc)

    async def ready(self) -> IntentClassifier:
        return await asyncio.wrap_future(self._future)

    def predict(self, text: str, top: int = 3) -> list[tuple[str, float]]:
        return self._future.result().predict(text, top)
