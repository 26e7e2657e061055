"""Language centering: the cross-language remedy for the dense ranking.

Multilingual encoders place every text of one language in its own region: with plain cosine,
English questions about the Chinese seeds found the right passage in the top 5 in 0% of
cases. Subtracting each language's mean passage vector (from passages, and the mean of the
question's language from the question) removes that offset and keeps what the text is about:
cross-language hit@5 rose to 0.84 on a 38-question probe, and same-language hit@1 from 0.79
to 0.84 (../shared/notes/models.md).
"""
from __future__ import annotations

import json

import numpy as np

#: A language with fewer passages than this has no reliable mean of its own (the mean of a
#: single short article is mostly its topic); its passages use the mean of all passages.
MIN_GROUP_PASSAGES = 8
#: The means are refreshed (and every stored vector re-centred, without re-embedding) once a
#: language's passage count has moved this far from the snapshot. Between refreshes new
#: passages use the old means; 10% growth moves a mean by at most about 10% of its spread.
REFRESH_SHARE = 0.10
ALL = "*"


def group(lang: str) -> str:
    """Both Chinese scripts share one mean: they are one language to the encoder's semantics."""
    return "zh" if lang.startswith("zh") else lang


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


class Centering:
    """Per-language mean passage vectors, as of a snapshot."""

    def __init__(self, means: dict[str, np.ndarray], counts: dict[str, int]) -> None:
        self.means = means
        self.counts = counts

    @classmethod
    def fit(cls, langs: list[str], matrix: np.ndarray) -> "Centering":
        if not len(langs):
            return cls({}, {})
        groups = np.array([group(lang) for lang in langs])
        means = {ALL: matrix.mean(axis=0)}
        counts = {ALL: len(langs)}
        for name in set(groups.tolist()):
            mask = groups == name
            counts[name] = int(mask.sum())
            if counts[name] >= MIN_GROUP_PASSAGES:
                means[name] = matrix[mask].mean(axis=0)
        return cls(means, counts)

    def _mean(self, lang: str) -> np.ndarray | None:
        return self.means.get(group(lang), self.means.get(ALL))

    def passages(self, vectors: np.ndarray, langs: list[str]) -> np.ndarray:
        if not self.means:
            return vectors
        return _unit(vectors - np.vstack([self._mean(lang) for lang in langs]))

    def query(self, vector: np.ndarray, lang: str) -> np.ndarray:
        mean = self._mean(lang)
        return vector if mean is None else _unit(vector - mean)

    def is_stale(self, lang_counts: dict[str, int]) -> bool:
        """True when the passage counts per language moved too far from the snapshot."""
        now: dict[str, int] = {ALL: sum(lang_counts.values())}
        for lang, count in lang_counts.items():
            now[group(lang)] = now.get(group(lang), 0) + count
        for name in set(now) | set(self.counts):
            before, after = self.counts.get(name, 0), now.get(name, 0)
            if abs(after - before) > REFRESH_SHARE * max(before, 1) and (
                    before >= MIN_GROUP_PASSAGES or after >= MIN_GROUP_PASSAGES):
                return True
        return False

    def to_json(self) -> str:
        return json.dumps({"counts": self.counts, "means": {k: v.tolist() for k, v in self.means.items()}})

    @classmethod
    def from_json(cls, text: str) -> "Centering":
        data = json.loads(text)
        return cls({k: np.asarray(v, dtype=np.float32) for k, v in data["means"].items()}, data["counts"])
