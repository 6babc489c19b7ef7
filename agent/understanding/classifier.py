"""The example-trained intent classifier: scikit-learn over character and word n-grams.

Trained from ``prompts/nlu/intents.yaml`` (the examples per intent) on first use and
cached under ``SATYA_HOME/cache`` keyed by the corpus and library versions, so a later
start loads it in milliseconds. Character n-grams carry typos and other languages;
word n-grams carry phrasing. A logistic regression gives calibrated-enough scores for
the clarification threshold (a linear SVM: as accurate here as a logistic regression
and thirty times faster to train; its margins are turned into scores by a softmax).

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
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from prompts import load_text, load_yaml

log = logging.getLogger("satya.nlu")
CORPUS = "nlu/intents.yaml"
_VERSION = 3  # bump when the features or the model change
_SHARPNESS = 4.0  # softmax temperature over the SVM's margins


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
class IntentClassifier:
    """Text -> ranked (intent, score) pairs."""

    pipeline: Any
    fingerprint: str

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
        model = Pipeline([("features", features), ("clf", LinearSVC(C=1.0, random_state=0))])
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
        margins = np.asarray(self.pipeline.decision_function([normalise(text)])[0])
        exp = np.exp((margins - margins.max()) * _SHARPNESS)
        probs = exp / exp.sum()
        classes = self.pipeline.classes_
        ranked = sorted(zip(classes, probs, strict=True), key=lambda p: -p[1])
        return [(str(k), float(p)) for k, p in ranked[:top]]


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
