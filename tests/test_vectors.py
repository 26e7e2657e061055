import numpy as np
import pytest

from index import CorruptIndex
from index.vectors import VectorIndex


def test_add_search_remove_save_load(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(10, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(8)
    index.add(np.arange(100, 110), vectors)
    assert index.search(vectors[4], 1)[0][0] == 104
    index.remove([104])
    assert len(index) == 9 and all(i != 104 for i, _ in index.search(vectors[4], 9))
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", 8)
    assert loaded.search(vectors[5], 3) == index.search(vectors[5], 3)
    assert not (tmp_path / "v.faiss.tmp").exists()


def test_unreadable_or_wrong_dimension_file(tmp_path):
    (tmp_path / "bad.faiss").write_bytes(b"garbage")
    with pytest.raises(CorruptIndex, match="bad.faiss"):
        VectorIndex.load(tmp_path / "bad.faiss", 8)
    VectorIndex(4).save(tmp_path / "four.faiss")
    with pytest.raises(CorruptIndex, match="4-d"):
        VectorIndex.load(tmp_path / "four.faiss", 8)
