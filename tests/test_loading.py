"""Loading LF modules."""

from __future__ import annotations

import pytest

from labelfns import LabelcycleError, LFError, load_lfs


def write(path, text):
    path.write_text(text)
    return path


def test_collects_in_definition_order_with_lists(tmp_path):
    p = write(tmp_path / "lfs.py",
              "from labelfns import labeling_function, keyword_lf, keywords\n"
              "@labeling_function()\ndef b(x):\n    return None\n"
              "KW = keywords({'x': ['y'], 'z': ['w']})\n"
              "a = keyword_lf('a', ['q'], 'x')\n"
              "alias = a\n")
    assert [lf.name for lf in load_lfs([p])] == ["b", "kw_x", "kw_z", "a"]


def test_duplicate_names_across_modules_rejected(tmp_path):
    p1 = write(tmp_path / "one.py", "from labelfns import keyword_lf\nk = keyword_lf('dup', ['a'], 0)\n")
    p2 = write(tmp_path / "two.py", "from labelfns import keyword_lf\nk = keyword_lf('dup', ['b'], 0)\n")
    with pytest.raises(LFError, match="LF 'dup'"):
        load_lfs([p1, p2])


def test_import_error_names_user_file_and_line(tmp_path):
    p = write(tmp_path / "broken.py", "x = 1\ny = undefined_name + 1\n")
    with pytest.raises(LabelcycleError) as info:
        load_lfs([p])
    msg = str(info.value)
    assert "broken.py, line 2" in msg and "NameError" in msg and "undefined_name" in msg


def test_syntax_error_names_line(tmp_path):
    p = write(tmp_path / "syn.py", "def f(:\n    pass\n")
    with pytest.raises(LabelcycleError, match=r"syn.py, line 1: SyntaxError"):
        load_lfs([p])


def test_relative_path_and_sibling_import(tmp_path):
    write(tmp_path / "helpers.py", "WORDS = ['dog']\n")
    write(tmp_path / "lfs.py", "from helpers import WORDS\nfrom labelfns import keyword_lf\n"
                               "k = keyword_lf('k', WORDS, 0)\n")
    assert load_lfs(["lfs.py"], base_dir=tmp_path)[0].keywords == ("dog",)


def test_missing_module_is_clear(tmp_path):
    with pytest.raises(LabelcycleError, match="not found"):
        load_lfs([tmp_path / "nope.py"])
    with pytest.raises(LabelcycleError, match="not found"):
        load_lfs(["no_such_module_xyz"])


def test_load_lfs_leaves_out_slicing_functions(tmp_path):
    from labelfns.loading import load_lfs

    (tmp_path / "mixed.py").write_text(
        "from labelfns import keyword_lf\n"
        "from snorkel.slicing import slicing_function\n"
        "lf_refund = keyword_lf('lf_refund', ['refund'], 'refund', labels=['other', 'refund'])\n"
        "@slicing_function()\n"
        "def short(x):\n"
        "    return len(x.text) < 20\n")
    assert [lf.name for lf in load_lfs([tmp_path / "mixed.py"])] == ["lf_refund"]
