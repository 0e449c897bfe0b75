"""LFs built from tables."""

from __future__ import annotations

import pytest

from labelfns import LFError, keywords, lfs_from_table


def test_keywords_one_lf_per_label():
    lfs = keywords({"pets": ["dog", "cat"], "toys": "lego"}, prefix="k_")
    assert [(lf.name, lf.label, lf.keywords) for lf in lfs] == [
        ("k_pets", "pets", ("dog", "cat")), ("k_toys", "toys", ("lego",))]


def test_yaml_mapping_and_list(tmp_path):
    p = tmp_path / "kw.yaml"
    p.write_text("pets: [dog, cat]\ntoys: [lego]\n")
    assert [lf.name for lf in lfs_from_table(p)] == ["kw_pets", "kw_toys"]
    q = tmp_path / "rows.yaml"
    q.write_text("- {label: pets, pattern: 'kitt(y|en)', name: rx_kitten}\n"
                 "- {label: toys, keywords: [lego, duplo], fields: [title]}\n")
    lfs = lfs_from_table(q)
    assert lfs[0].kind == "regex" and lfs[1].fields == ("title",)


def test_csv_rows_with_overrides(tmp_path):
    p = tmp_path / "kw.csv"
    p.write_text("name,label,keywords,pattern,fields,whole_word,case_sensitive\n"
                 "kw_pets,pets,dog|cat,,,,\n"
                 "rx_toy,toys,,\\blego\\b,title|text,,yes\n")
    a, b = lfs_from_table(p)
    assert a.keywords == ("dog", "cat") and a.whole_word
    assert b.kind == "regex" and b.fields == ("title", "text") and b.case_sensitive


def test_all_row_problems_reported_together(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("label,keywords,pattern\n,dog,\npets,,\ntoys,lego,x(\n")
    with pytest.raises(LFError) as info:
        lfs_from_table(p)
    msg = str(info.value)
    assert "row 1" in msg and "missing 'label'" in msg
    assert "row 2" in msg and "exactly one of" in msg
    assert "row 3" in msg


def test_unknown_csv_column_lists_valid_ones(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("label,keyword\npets,dog\n")
    with pytest.raises(LFError, match="unknown columns.*valid columns: name, label"):
        lfs_from_table(p)


def test_duplicate_names_in_table(tmp_path):
    with pytest.raises(LFError, match="kw_pets"):
        lfs_from_table([{"label": "pets", "keywords": "dog"}, {"label": "pets", "keywords": "cat"}])
