"""index/vectors.py: the FAISS index of passage vectors (exact or approximate by size),
its search, filters, changes and files."""
import numpy as np
import pytest

from index import CorruptIndex
from index import vectors as vectors_module
from index.vectors import APPROXIMATE, EXACT, VectorIndex

DIM = 32


def unit(matrix):
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def clustered(n, seed=0, centres=60):
    """Unit vectors in clusters of uneven size and spread, like real embeddings (uniform
    random vectors are the worst case of any approximate index and nothing like real data)."""
    rng = np.random.default_rng(seed)
    centre = unit(rng.normal(size=(centres, DIM)))
    which = rng.choice(centres, n, p=rng.dirichlet(np.ones(centres)))
    spread = rng.uniform(0.2, 0.6, centres)[which, None]
    return unit(centre[which] + spread * rng.normal(size=(n, DIM)) / np.sqrt(DIM))


@pytest.fixture
def small_threshold(monkeypatch):
    """Approximate above 1,000 vectors, so tests build IVFs in milliseconds."""
    monkeypatch.setattr(vectors_module, "EXACT_MAX", 1000)


def test_add_search_remove_save_load(tmp_path):
    rng = np.random.default_rng(0)
    vectors = unit(rng.normal(size=(10, 8)))
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
    vectors_module.faiss.write_index(vectors_module.faiss.IndexFlatIP(8), str(tmp_path / "flat.faiss"))
    with pytest.raises(CorruptIndex, match="not an index this program writes"):
        VectorIndex.load(tmp_path / "flat.faiss", 8)


def test_a_save_that_fails_midway_leaves_the_previous_file(tmp_path, monkeypatch):
    vectors = unit(np.random.default_rng(0).normal(size=(6, 8)))
    index = VectorIndex(8)
    index.add(np.arange(5), vectors[:5])
    index.save(tmp_path / "v.faiss")

    def disk_full(faiss_index, name):
        with open(name, "wb") as handle:
            handle.write(b"half a file")
        raise RuntimeError("No space left on device")

    index.add(np.array([5]), vectors[5:])
    monkeypatch.setattr(vectors_module.faiss, "write_index", disk_full)
    with pytest.raises(RuntimeError):
        index.save(tmp_path / "v.faiss")
    monkeypatch.undo()
    loaded = VectorIndex.load(tmp_path / "v.faiss", 8)
    assert len(loaded) == 5 and loaded.search(vectors[4], 1)[0][0] == 4


def test_type_is_chosen_by_size(small_threshold):
    data = clustered(3000)
    assert VectorIndex.build(np.arange(1000), data[:1000]).kind == EXACT
    assert VectorIndex.build(np.arange(1001), data[:1001]).kind == APPROXIMATE  # one past the threshold
    assert VectorIndex.build(np.arange(3000), data).kind == APPROXIMATE
    assert VectorIndex.build(np.zeros(0), np.zeros((0, DIM)), dim=DIM).kind == EXACT


def test_approximate_recall_on_clustered_data(small_threshold, monkeypatch):
    # Production scans 128 of 1,000 lists at 1M vectors (12.8%); the same share here.
    n = 20_000
    lists = vectors_module.list_count(n)
    monkeypatch.setattr(vectors_module, "PROBES", round(0.128 * lists))
    data = clustered(n + 200, seed=1)
    base, queries = data[:n], data[n:]
    ids = np.arange(n) * 7 + 3
    index = VectorIndex.build(ids, base)
    exact = VectorIndex.build(ids[:1000], base[:1000])  # a second, exact index over part of it
    assert index.kind == APPROXIMATE and exact.kind == EXACT
    truth = ids[np.argsort(-(queries @ base.T), axis=1)[:, :10]]
    recall = np.mean([len(set(t) & {i for i, _ in index.search(q, 10)}) / 10 for q, t in zip(queries, truth)])
    assert recall >= 0.95
    top, score = index.search(queries[0], 1)[0]
    assert score == pytest.approx(float(base[(top - 3) // 7] @ queries[0]), abs=1e-3)  # float16 storage


def test_remove_with_the_approximate_type(small_threshold):
    data = clustered(3000, seed=2)
    index = VectorIndex.build(np.arange(3000), data)
    gone = np.arange(0, 3000, 3)
    index.remove(gone)
    index.remove([10**9])  # unknown ids are ignored
    assert index.kind == APPROXIMATE and len(index) == 2000
    for q in data[:30]:
        assert not {i for i, _ in index.search(q, 20)} & set(gone.tolist())
    assert index.search(data[1], 1)[0][0] == 1
    ids, stored = index.contents()
    assert sorted(ids.tolist()) == [i for i in range(3000) if i % 3]
    assert np.allclose(stored[np.argsort(ids)], data[[i for i in range(3000) if i % 3]], atol=1e-3)


def test_growing_and_shrinking_switch_the_type(small_threshold):
    data = clustered(1500, seed=3)
    index = VectorIndex(DIM)
    index.add(np.arange(900), data[:900])
    assert index.kind == EXACT
    index.add(np.arange(900, 1500), data[900:])
    assert index.kind == APPROXIMATE and len(index) == 1500
    assert index.search(data[1200], 1)[0][0] == 1200
    index.remove(np.arange(1100))  # below half the threshold: exact again
    assert index.kind == EXACT and len(index) == 400
    assert index.search(data[1300], 1)[0][0] == 1300


def test_an_approximate_index_grown_fourfold_is_retrained_with_more_lists(small_threshold):
    data = clustered(7000, seed=8)
    index = VectorIndex.build(np.arange(1500), data[:1500])
    assert index.kind == APPROXIMATE and index._index.nlist == vectors_module.list_count(1500)
    index.add(np.arange(1500, 6000), data[1500:6000])  # exactly 4x: not yet
    assert index._index.nlist == vectors_module.list_count(1500)
    index.add(np.arange(6000, 7000), data[6000:])
    assert len(index) == 7000 and index._index.nlist == vectors_module.list_count(7000)
    assert index.search(data[6500], 1)[0][0] == 6500


@pytest.mark.parametrize("n", [500, 3000], ids=["exact", "approximate"])
def test_save_and_memory_mapped_load_round_trip(tmp_path, small_threshold, n):
    data = clustered(n + 50, seed=4)
    index = VectorIndex.build(np.arange(n) + 1, data[:n])
    path = tmp_path / "v.faiss"
    index.save(path)
    mapped = VectorIndex.load(path, DIM)
    whole = VectorIndex.load(path, DIM, mmap=False)
    assert mapped.mapped and not whole.mapped and mapped.kind == whole.kind == index.kind
    for q in data[n:n + 10]:
        assert mapped.search(q, 10) == whole.search(q, 10) == index.search(q, 10)
    assert np.allclose(mapped.similarity(data[0], [1, 2]), whole.similarity(data[0], [1, 2]))
    path.unlink()  # another process replaced the file: the mapping keeps the old one
    assert mapped.search(data[5], 1)[0][0] == 6
    mapped.add(np.array([10**6]), data[n:n + 1])  # copies into memory first
    mapped.remove([1])
    assert not mapped.mapped and len(mapped) == n
    assert mapped.search(data[n], 1)[0][0] == 10**6
    mapped.save(path)
    again = VectorIndex.load(path, DIM)
    assert len(again) == n and again.search(data[n], 1)[0][0] == 10**6
    assert all(i != 1 for i, _ in again.search(data[0], 20))


@pytest.mark.parametrize("n", [500, 3000], ids=["exact", "approximate"])
def test_allowed_filter(small_threshold, monkeypatch, n):
    # 4 of the 55 lists unfiltered, so that only the filter's share widens the search.
    monkeypatch.setattr(vectors_module, "PROBES", 4)
    data = clustered(n, seed=5)
    ids = np.arange(n) + 1000
    index = VectorIndex.build(ids, data)
    rng = np.random.default_rng(0)
    for share in (0.5, 0.02):
        allowed = rng.choice(ids, int(share * n), replace=False)
        for q in data[:20]:
            hits = index.search(q, 10, allowed)
            assert len(hits) == 10 and {i for i, _ in hits} <= set(allowed.tolist())
        # A small allowed set is searched in every list: exactly its own top 10.
        best = allowed[np.argsort(-(data[allowed - 1000] @ data[7]))[:10]]
        if share < 0.1:
            assert [i for i, _ in index.search(data[7], 10, allowed)] == best.tolist()
    assert index.search(data[0], 5, np.zeros(0, dtype=np.int64)) == []


@pytest.mark.parametrize("n", [500, 3000], ids=["exact", "approximate"])
def test_similarity_of_listed_ids(small_threshold, n):
    data = clustered(n, seed=6)
    index = VectorIndex.build(np.arange(n) * 2, data)
    sims = index.similarity(data[3], [0, 10, 2 * (n - 1)])
    assert np.allclose(sims, data[[0, 5, n - 1]] @ data[3], atol=1e-3)
    assert index.similarity(data[3], []).shape == (0,)
    # an id the index lacks (a passage committed since this snapshot was read) is neutral
    sims = index.similarity(data[3], [10, 7, 2 * n + 1, 0])
    assert np.allclose(sims, [data[5] @ data[3], 0.0, 0.0, data[0] @ data[3]], atol=1e-3)


@pytest.mark.parametrize("ids", [(np.arange(400) - 200) * 10**9, np.arange(400) - 50],
                         ids=["far apart", "close, some negative"])
def test_allowed_filter_with_sparse_or_negative_ids(ids):
    # Neither can be a bitmap over 0..max id: a hash set is needed.
    data = clustered(400, seed=7)
    index = VectorIndex.build(ids, data)
    allowed = ids[::7]
    best = allowed[np.argsort(-(data[::7] @ data[3]))[:5]]
    assert [i for i, _ in index.search(data[3], 5, allowed)] == best.tolist()


def test_empty_index_round_trip(tmp_path):
    VectorIndex(4).save(tmp_path / "e.faiss")
    loaded = VectorIndex.load(tmp_path / "e.faiss", 4)
    assert len(loaded) == 0 and loaded.search(np.ones(4, np.float32), 3) == []
    loaded.add(np.array([5]), np.full((1, 4), 0.5, np.float32))
    assert loaded.search(np.ones(4, np.float32), 3) == [(5, 2.0)]
