"""Tests for finetune.costs: the price file, training cost arithmetic and the break-even."""

from __future__ import annotations

import json
import warnings

import pytest

from finetune.costs import (
    TokenPrices,
    break_even,
    estimate_training_cost,
    load_prices,
    model_prices,
)
from finetune.validate import validate_records
from labelfns.errors import ConfigError, DataError

REQUIRED = ["gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "gpt-4.1-mini", "gpt-4.1-nano",
            "gpt-3.5-turbo-0125"]


@pytest.mark.parametrize("model", REQUIRED)
def test_load_prices_has_complete_entries_for_required_models(model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entry = model_prices(model)
    assert entry.training_per_1m > 0
    assert 0 < entry.base.input_per_1m < entry.fine_tuned.input_per_1m
    assert 0 < entry.base.output_per_1m < entry.fine_tuned.output_per_1m
    assert entry.checked == "2026-11-21"


def test_load_prices_published_values():
    prices = load_prices()
    mini = prices["gpt-4o-mini-2024-07-18"]
    assert (mini.training_per_1m, mini.base, mini.fine_tuned) == (
        3.0, TokenPrices(0.15, 0.60), TokenPrices(0.30, 1.20))
    assert prices["gpt-3.5-turbo-0125"].training_per_1m == 8.0


def test_load_prices_rejects_unknown_key(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text('[models."m"]\ntrainig_per_1m = 3.0\n')
    with pytest.raises(ConfigError, match=r"prices\.toml.*trainig_per_1m"):
        load_prices(path)


@pytest.mark.parametrize("body", [
    '[models."m"]\ntraining_per_1m = -1\n',
    '[models."m"]\nbase = { input_per_1m = 0.1 }\n',
    '[models."m"]\nbase = { input_per_1m = "cheap", output_per_1m = 1 }\n',
    "not toml [",
])
def test_load_prices_rejects_malformed_values(tmp_path, body):
    path = tmp_path / "prices.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match="prices.toml"):
        load_prices(path)


def test_load_prices_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_prices(tmp_path / "prices.toml")


def test_estimate_training_cost_arithmetic():
    stats = {"n_examples": 300, "billing_tokens_per_epoch": 200_000}
    est = estimate_training_cost(stats, "gpt-4o-mini-2024-07-18")
    # 300 examples -> 3 epochs; 200k x 3 = 600k tokens at $3 per 1M
    assert (est.n_epochs, est.billed_tokens, est.price_per_1m) == (3, 600_000, 3.0)
    assert est.cost_usd == pytest.approx(1.80)
    assert est.approximate is False
    est5 = estimate_training_cost(stats, "gpt-4o-2024-08-06", n_epochs=5)
    assert (est5.billed_tokens, est5.cost_usd) == (1_000_000, pytest.approx(25.0))


def test_estimate_training_cost_from_validation_report():
    line = json.dumps({"messages": [{"role": "user", "content": "hello world"},
                                    {"role": "assistant", "content": "spam"}]})
    report = validate_records([line] * 12, model="gpt-3.5-turbo-0125")
    est = estimate_training_cost(report, "gpt-3.5-turbo-0125")
    # 12 examples x 14 tokens = 168 per epoch; min(25, 100 // 12) = 8 epochs; $8 per 1M
    assert (est.n_examples, est.n_epochs, est.billed_tokens) == (12, 8, 1344)
    assert est.cost_usd == pytest.approx(1344 * 8 / 1e6)
    assert json.loads(json.dumps(est.to_dict()))["billed_tokens"] == 1344


def test_estimate_training_cost_unknown_model_warns_naming_prices_toml():
    stats = {"n_examples": 100, "billing_tokens_per_epoch": 1000}
    with pytest.warns(UserWarning, match=r"prices\.toml"):
        est = estimate_training_cost(stats, "my-model")
    assert est.cost_usd is None and est.price_per_1m is None
    assert est.billed_tokens == 3000


def test_estimate_training_cost_warns_when_counted_for_other_model():
    stats = {"n_examples": 100, "billing_tokens_per_epoch": 1000, "model": "gpt-4-0613"}
    with pytest.warns(UserWarning, match="counted for 'gpt-4-0613'"):
        estimate_training_cost(stats, "gpt-4o-mini-2024-07-18")


@pytest.mark.parametrize("n_epochs", [0, -2, 1.5, True])
def test_estimate_training_cost_rejects_bad_epochs(n_epochs):
    with pytest.raises(ConfigError, match="n_epochs"):
        estimate_training_cost({"n_examples": 10, "billing_tokens_per_epoch": 10},
                               "gpt-4o-mini-2024-07-18", n_epochs=n_epochs)


def test_estimate_training_cost_rejects_incomplete_stats():
    with pytest.raises(DataError, match="billing_tokens_per_epoch"):
        estimate_training_cost({"n_examples": 10}, "gpt-4o-mini-2024-07-18")


def test_break_even_hand_computed():
    # zero-shot: (1500 x 0.15 + 5 x 0.60) / 1e6 = 228e-6 $ per request
    # fine-tuned: (100 x 0.30 + 5 x 1.20) / 1e6 = 36e-6 $ per request -> saves 192e-6
    # $2.88 / (192e-6 x 12 months) = 1250 requests per month
    result = break_even(zero_shot_prompt_tokens=1500, fine_tuned_prompt_tokens=100,
                        output_tokens=5, zero_shot_prices=TokenPrices(0.15, 0.60),
                        fine_tuned_prices=TokenPrices(0.30, 1.20), training_cost_usd=2.88,
                        horizon_months=12)
    assert result.zero_shot_cost_per_request == pytest.approx(228e-6)
    assert result.fine_tuned_cost_per_request == pytest.approx(36e-6)
    assert result.savings_per_request == pytest.approx(192e-6)
    assert result.monthly_requests == pytest.approx(1250)
    assert result.pays_off
    assert result.net_savings(1250) == pytest.approx(0, abs=1e-9)
    assert result.net_savings(2500) == pytest.approx(2.88)
    one_month = break_even(zero_shot_prompt_tokens=1500, fine_tuned_prompt_tokens=100,
                           output_tokens=5, zero_shot_prices=TokenPrices(0.15, 0.60),
                           fine_tuned_prices=TokenPrices(0.30, 1.20), training_cost_usd=2.88,
                           horizon_months=1)
    assert one_month.monthly_requests == pytest.approx(15000)


def test_break_even_big_prompted_model_vs_small_fine_tuned_model():
    # gpt-4o with 800 prompt + 20 output tokens vs fine-tuned gpt-4o-mini with 50 + 2:
    # (800 x 2.50 + 20 x 10.00) / 1e6 = 2200e-6; (50 x 0.30 + 2 x 1.20) / 1e6 = 17.4e-6
    # $10 / (2182.6e-6 x 6) = 763.615...
    prices = load_prices()
    result = break_even(zero_shot_prompt_tokens=800, fine_tuned_prompt_tokens=50,
                        output_tokens=20, fine_tuned_output_tokens=2,
                        zero_shot_prices=prices["gpt-4o-2024-08-06"].base,
                        fine_tuned_prices=prices["gpt-4o-mini-2024-07-18"].fine_tuned,
                        training_cost_usd=10, horizon_months=6)
    assert result.savings_per_request == pytest.approx(2182.6e-6)
    assert result.monthly_requests == pytest.approx(763.6152600873575)


def test_break_even_never_pays_off_returns_none():
    # same prompt length: the fine-tuned model is simply dearer per token
    result = break_even(zero_shot_prompt_tokens=200, fine_tuned_prompt_tokens=200,
                        output_tokens=5, zero_shot_prices=TokenPrices(0.15, 0.60),
                        fine_tuned_prices=TokenPrices(0.30, 1.20), training_cost_usd=1.0)
    assert result.monthly_requests is None and not result.pays_off
    assert result.savings_per_request < 0
    data = json.loads(json.dumps(result.to_dict()))
    assert data["monthly_requests"] is None and data["pays_off"] is False


def test_break_even_free_training_pays_off_at_any_volume():
    result = break_even(zero_shot_prompt_tokens=1000, fine_tuned_prompt_tokens=10,
                        output_tokens=1, zero_shot_prices=TokenPrices(1, 1),
                        fine_tuned_prices=TokenPrices(2, 2), training_cost_usd=0)
    assert result.monthly_requests == 0.0


@pytest.mark.parametrize("kwargs", [
    {"zero_shot_prompt_tokens": -1},
    {"output_tokens": float("nan")},
    {"horizon_months": 0},
    {"training_cost_usd": -5},
    {"zero_shot_prices": None},
    {"fine_tuned_prices": TokenPrices(-1, 1)},
])
def test_break_even_rejects_invalid_inputs(kwargs):
    args = {"zero_shot_prompt_tokens": 100, "fine_tuned_prompt_tokens": 10,
            "output_tokens": 1, "zero_shot_prices": TokenPrices(1, 1),
            "fine_tuned_prices": TokenPrices(2, 2), "training_cost_usd": 1.0, **kwargs}
    with pytest.raises(ConfigError):
        break_even(**args)


def test_model_prices_unknown_model_warns_naming_prices_toml():
    with pytest.warns(UserWarning, match=r"prices\.toml"):
        assert model_prices("gpt-9-ultra") is None


def test_model_prices_resolves_fine_tuned_model_names():
    assert model_prices("ft:gpt-4o-mini-2024-07-18:acme:labels:abc").model == \
        "gpt-4o-mini-2024-07-18"
