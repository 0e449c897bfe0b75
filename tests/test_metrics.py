import numpy as np
import pytest
from sklearn.metrics import f1_score

from labelfns.errors import DataError
from weak_supervision.metrics import Scores, accuracy, macro_f1, score, wilson_interval


def test_accuracy_counts_abstain_as_wrong():
    assert accuracy([0, 1, 1, 2], [0, 1, -1, 2]) == pytest.approx(0.75)
    assert accuracy(np.array([1, 1]), np.array([-1, -1])) == 0.0


def test_macro_f1_hand_computed():
    # class 0: P=1, R=1/2 -> F1=2/3; class 1: P=R=1 -> F1=1
    assert macro_f1([0, 0, 1, 1], [0, -1, 1, 1]) == pytest.approx((2 / 3 + 1) / 2)


def test_macro_f1_averages_over_classes_in_y_true_unless_labels_given():
    y_true, y_pred = [0, 0, 1, 1], [0, 0, 1, 2]
    # class 2 only predicted: ignored by default, scored 0 when listed
    assert macro_f1(y_true, y_pred) == pytest.approx((1 + 2 / 3) / 2)
    assert macro_f1(y_true, y_pred, labels=[0, 1, 2]) == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_macro_f1_matches_sklearn_on_random_data():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 4, 300)
    p = np.where(rng.random(300) < 0.2, -1, rng.integers(0, 4, 300))
    expected = f1_score(t, p, labels=np.unique(t), average="macro", zero_division=0)
    assert macro_f1(t, p) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(8, 10, 0.4902, 0.9433), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (50, 100, 0.4038, 0.5962)],
)
def test_wilson_interval_known_values(successes, n, low, high):
    lo, hi = wilson_interval(successes, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_wilson_interval_empty_and_invalid():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)
    with pytest.raises(ValueError):
        wilson_interval(-1, 10)


def test_wilson_interval_narrows_with_z():
    wide = wilson_interval(30, 40, z=2.58)
    narrow = wilson_interval(30, 40, z=1.0)
    assert wide[0] < narrow[0] < 0.75 < narrow[1] < wide[1]


def test_score_fields():
    s = score([0, 1, 1, 0], [0, 1, -1, 1])
    assert isinstance(s, Scores)
    assert (s.accuracy, s.n, s.coverage) == (0.5, 4, 0.75)
    assert s.macro_f1 == pytest.approx(macro_f1([0, 1, 1, 0], [0, 1, -1, 1]))
    assert s.to_dict() == {"accuracy": 0.5, "macro_f1": s.macro_f1, "n": 4, "coverage": 0.75}
    with pytest.raises(AttributeError):
        s.accuracy = 1.0  # frozen


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([0, 1], [0], "align"),
        ([], [], "empty"),
        ([0, -1], [0, 1], "without gold"),
        ([0, 1], [0, -2], "abstain"),
        ([0.5, 1], [0, 1], "integer"),
    ],
)
def test_metrics_reject_bad_input(y_true, y_pred, match):
    with pytest.raises(DataError, match=match):
        score(y_true, y_pred)
