"""What fine-tuning costs, and the request volume at which it pays for itself.

Prices come from ``finetune/prices.toml``, a data file users edit (US dollars per 1M tokens,
with the date they were checked and their source at the top). Training is billed per token
seen: the tokens of every example, capped at the model's per-example limit, times the number
of epochs (see :mod:`finetune.validate`).

The break-even follows the trade-off Snorkel describes for fine-tuning OpenAI models: a
fine-tuned model costs more per token than its base model, but it needs a much shorter prompt
(no instructions or few-shot examples), so each request can end up cheaper; the one-off
training cost is recovered once enough requests have been served.

Example
-------
>>> p = load_prices()["gpt-4o-mini-2024-07-18"]
>>> result = break_even(zero_shot_prompt_tokens=1500, fine_tuned_prompt_tokens=100,
...                     output_tokens=5, zero_shot_prices=p.base, fine_tuned_prices=p.fine_tuned,
...                     training_cost_usd=2.88, horizon_months=12)
>>> round(result.monthly_requests)
1250
"""

from __future__ import annotations

import datetime as _dt
import math
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from finetune.tokens import resolve_model
from finetune.validate import ValidationReport, ValidationStats, default_n_epochs
from labelfns.errors import ConfigError, DataError

__all__ = [
    "PRICES_PATH",
    "TokenPrices",
    "ModelPrices",
    "CostEstimate",
    "BreakEven",
    "load_prices",
    "model_prices",
    "estimate_training_cost",
    "break_even",
]

PRICES_PATH = Path(__file__).with_name("prices.toml")
_PER = 1_000_000


@dataclass(frozen=True)
class TokenPrices:
    """Inference prices of one model, in US dollars per 1M tokens.

    Example
    -------
    >>> TokenPrices(input_per_1m=0.15, output_per_1m=0.60).request_cost(1000, 10)
    0.000156
    """

    input_per_1m: float
    output_per_1m: float

    def request_cost(self, input_tokens: float, output_tokens: float) -> float:
        """Return the cost in dollars of one request with these token counts.

        Example
        -------
        >>> TokenPrices(1.0, 2.0).request_cost(1_000_000, 500_000)
        2.0
        """
        return (input_tokens * self.input_per_1m + output_tokens * self.output_per_1m) / _PER

    def to_dict(self) -> dict[str, float]:
        """Return ``{"input_per_1m", "output_per_1m"}``.

        Example
        -------
        >>> TokenPrices(1.0, 2.0).to_dict()
        {'input_per_1m': 1.0, 'output_per_1m': 2.0}
        """
        return asdict(self)


@dataclass(frozen=True)
class ModelPrices:
    """Prices of one model from ``prices.toml``.

    Attributes
    ----------
    model : str
        The model's name in the price file.
    training_per_1m : float or None
        Price per 1M training tokens (None if the model cannot be fine-tuned there).
    base, fine_tuned : TokenPrices or None
        Inference prices of the model as is and of a model fine-tuned from it.
    checked : str or None
        ISO date the prices were last checked (the file's ``checked`` key).

    Example
    -------
    >>> load_prices()["gpt-4.1-nano-2025-04-14"].training_per_1m
    1.5
    """

    model: str
    training_per_1m: float | None
    base: TokenPrices | None
    fine_tuned: TokenPrices | None
    checked: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the prices as a JSON-ready dict.

        Example
        -------
        >>> load_prices()["gpt-4o-2024-08-06"].to_dict()["fine_tuned"]
        {'input_per_1m': 3.75, 'output_per_1m': 15.0}
        """
        return asdict(self)


def _price(path: Path, where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{path}: {where} must be a non-negative number of dollars per 1M "
                          f"tokens, got {value!r}; fix it in that file")
    return float(value)


def _token_prices(path: Path, where: str, value: Any) -> TokenPrices | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"input_per_1m", "output_per_1m"}:
        raise ConfigError(f"{path}: {where} must be {{ input_per_1m = <number>, output_per_1m = "
                          f"<number> }}, got {value!r}; fix it in that file")
    return TokenPrices(_price(path, f"{where}.input_per_1m", value["input_per_1m"]),
                       _price(path, f"{where}.output_per_1m", value["output_per_1m"]))


def load_prices(path: str | Path | None = None) -> dict[str, ModelPrices]:
    """Read the price file.

    Parameters
    ----------
    path : str or Path, optional
        TOML price file; defaults to ``finetune/prices.toml``.

    Returns
    -------
    dict
        Model name -> :class:`ModelPrices`.

    Raises
    ------
    ConfigError
        If the file is missing, is not TOML, or an entry is malformed (the message names it).

    Example
    -------
    >>> prices = load_prices()
    >>> prices["gpt-4o-mini-2024-07-18"].base
    TokenPrices(input_per_1m=0.15, output_per_1m=0.6)
    """
    p = Path(path) if path is not None else PRICES_PATH
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: price file not found; restore finetune/prices.toml or pass an "
                          "existing file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read prices ({exc}); fix the TOML syntax") from exc
    checked = raw.get("checked")
    if isinstance(checked, (_dt.date, _dt.datetime)):
        checked = checked.isoformat()
    elif checked is not None:
        checked = str(checked)
    models = raw.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{p}: [models] must hold one table per model")
    allowed = {"training_per_1m", "base", "fine_tuned"}
    out: dict[str, ModelPrices] = {}
    for name, entry in models.items():
        where = f"models.{name!r}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{p}: {where} must be a table")
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise ConfigError(f"{p}: {where} has unknown key(s) {', '.join(unknown)}; use "
                              f"{', '.join(sorted(allowed))}")
        training = entry.get("training_per_1m")
        out[name] = ModelPrices(
            model=name,
            training_per_1m=None if training is None else _price(p, f"{where}.training_per_1m",
                                                                  training),
            base=_token_prices(p, f"{where}.base", entry.get("base")),
            fine_tuned=_token_prices(p, f"{where}.fine_tuned", entry.get("fine_tuned")),
            checked=checked,
        )
    return out


def model_prices(model: str, *,
                 prices: Mapping[str, ModelPrices] | None = None) -> ModelPrices | None:
    """Return the prices of ``model`` (aliases and ``ft:`` names resolved), or None with a warning.

    Parameters
    ----------
    model : str
        Model name.
    prices : mapping, optional
        A price table from :func:`load_prices`; defaults to ``finetune/prices.toml``.

    Example
    -------
    >>> model_prices("gpt-4.1-mini").model
    'gpt-4.1-mini-2025-04-14'
    """
    table = prices if prices is not None else load_prices()
    for name in (model, resolve_model(model)):
        if name in table:
            return table[name]
    source = str(PRICES_PATH) if prices is None else "the given price table"
    warnings.warn(f"no prices for model {model!r} in {source}; add a [models.\"{model}\"] table "
                  "with training_per_1m, base and fine_tuned prices to finetune/prices.toml",
                  stacklevel=2)
    return None


@dataclass(frozen=True)
class CostEstimate:
    """Estimated price of one fine-tuning job.

    Attributes
    ----------
    model : str
        Model to fine-tune.
    n_examples : int
        Training examples.
    n_epochs : int
        Epochs (OpenAI's default rule unless given).
    billed_tokens : int
        Training tokens billed: capped tokens per epoch times ``n_epochs``.
    price_per_1m : float or None
        Training price per 1M tokens (None when ``prices.toml`` has none for the model).
    cost_usd : float or None
        ``billed_tokens * price_per_1m / 1e6``.
    approximate : bool
        Whether the token counts are estimates.

    Example
    -------
    >>> stats = {"n_examples": 100, "billing_tokens_per_epoch": 50_000}
    >>> estimate_training_cost(stats, "gpt-4o-mini-2024-07-18").to_dict()["cost_usd"]
    0.45
    """

    model: str
    n_examples: int
    n_epochs: int
    billed_tokens: int
    price_per_1m: float | None
    cost_usd: float | None
    approximate: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the estimate as a JSON-ready dict.

        Example
        -------
        >>> stats = {"n_examples": 10, "billing_tokens_per_epoch": 1000}
        >>> estimate_training_cost(stats, "gpt-4o-mini-2024-07-18").to_dict()["n_epochs"]
        10
        """
        return asdict(self)


def _stats_fields(source: ValidationReport | ValidationStats | Mapping[str, Any]
                  ) -> tuple[int, int, int | None, bool, str | None]:
    """Return (n_examples, tokens per epoch, default epochs, approximate, model counted for)."""
    if isinstance(source, ValidationReport):
        source = source.stats
    if isinstance(source, ValidationStats):
        return (source.n_examples, source.billing_tokens_per_epoch, source.n_epochs or None,
                source.approximate, source.model)
    if not isinstance(source, Mapping):
        raise TypeError("estimate_training_cost needs a ValidationReport, its stats, or a "
                        f"mapping with n_examples and billing_tokens_per_epoch, got "
                        f"{type(source).__name__}")
    missing = [k for k in ("n_examples", "billing_tokens_per_epoch") if k not in source]
    if missing:
        raise DataError(f"token statistics lack {', '.join(missing)}; pass the stats of "
                        "validate_file()")
    n_examples, per_epoch = source["n_examples"], source["billing_tokens_per_epoch"]
    for key, value in (("n_examples", n_examples), ("billing_tokens_per_epoch", per_epoch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DataError(f"token statistics: {key} must be a non-negative integer, "
                            f"got {value!r}")
    epochs = source.get("n_epochs") or None
    model = source.get("model")
    return (n_examples, per_epoch, epochs, bool(source.get("approximate", False)),
            model if isinstance(model, str) else None)


def estimate_training_cost(report_or_stats: ValidationReport | ValidationStats | Mapping[str, Any],
                           model: str, *, n_epochs: int | None = None,
                           prices: Mapping[str, ModelPrices] | None = None) -> CostEstimate:
    """Estimate what fine-tuning ``model`` on a validated file costs.

    Parameters
    ----------
    report_or_stats : ValidationReport, ValidationStats or mapping
        Output of :func:`finetune.validate.validate_file` (or its ``stats``, or a dict with
        ``n_examples`` and ``billing_tokens_per_epoch``, optionally ``n_epochs``).
    model : str
        Model to fine-tune; its training price comes from ``prices.toml``.
    n_epochs : int, optional
        Epochs to train; default: OpenAI's default rule for the number of examples.
    prices : mapping, optional
        A price table from :func:`load_prices`; defaults to ``finetune/prices.toml``.

    Returns
    -------
    CostEstimate
        ``cost_usd`` is None, with a warning naming ``prices.toml``, when the model has no
        training price.

    Raises
    ------
    ConfigError
        If ``n_epochs`` is not a positive integer.

    Example
    -------
    >>> stats = {"n_examples": 300, "billing_tokens_per_epoch": 200_000}
    >>> est = estimate_training_cost(stats, "gpt-4.1-nano-2025-04-14")
    >>> est.n_epochs, est.billed_tokens, est.cost_usd
    (3, 600000, 0.9)
    """
    n_examples, per_epoch, default_epochs, approximate, counted_for = \
        _stats_fields(report_or_stats)
    if n_epochs is not None:
        if isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs < 1:
            raise ConfigError(f"n_epochs must be a positive integer, got {n_epochs!r}")
        epochs = n_epochs
    elif default_epochs is not None:
        epochs = default_epochs
    else:
        epochs = default_n_epochs(n_examples) if n_examples > 0 else 0
    if counted_for is not None and resolve_model(counted_for) != resolve_model(model):
        warnings.warn(f"tokens were counted for {counted_for!r} but the cost is estimated for "
                      f"{model!r}; validate the file with model={model!r} for exact limits",
                      stacklevel=2)
    billed = per_epoch * epochs
    entry = model_prices(model, prices=prices)
    price = entry.training_per_1m if entry is not None else None
    if entry is not None and price is None:
        warnings.warn(f"prices.toml has no training_per_1m for {entry.model!r}; add it to "
                      "finetune/prices.toml", stacklevel=2)
    cost = None if price is None else round(billed * price / _PER, 10)
    return CostEstimate(model=model, n_examples=n_examples, n_epochs=epochs,
                        billed_tokens=billed, price_per_1m=price, cost_usd=cost,
                        approximate=approximate)


@dataclass(frozen=True)
class BreakEven:
    """Whether and when fine-tuning pays for itself (see :func:`break_even`).

    Attributes
    ----------
    zero_shot_cost_per_request, fine_tuned_cost_per_request : float
        Dollars per request with the long prompt on the base model / the short prompt on the
        fine-tuned model.
    savings_per_request : float
        Their difference (negative when the fine-tuned model costs more per request).
    training_cost_usd : float
        One-off training cost.
    horizon_months : float
        Months within which training must be paid back.
    monthly_requests : float or None
        Requests per month above which fine-tuning pays off within the horizon; None when it
        never does (no per-request saving).

    Example
    -------
    >>> b = break_even(zero_shot_prompt_tokens=1000, fine_tuned_prompt_tokens=1000,
    ...                output_tokens=5, zero_shot_prices=TokenPrices(1, 1),
    ...                fine_tuned_prices=TokenPrices(2, 2), training_cost_usd=10)
    >>> b.pays_off, b.monthly_requests
    (False, None)
    """

    zero_shot_cost_per_request: float
    fine_tuned_cost_per_request: float
    savings_per_request: float
    training_cost_usd: float
    horizon_months: float
    monthly_requests: float | None

    @property
    def pays_off(self) -> bool:
        """True when some request volume recovers the training cost within the horizon."""
        return self.monthly_requests is not None

    def net_savings(self, requests_per_month: float) -> float:
        """Return dollars saved over the horizon at a volume, after paying for training.

        Example
        -------
        >>> b = break_even(zero_shot_prompt_tokens=2000, fine_tuned_prompt_tokens=0,
        ...                output_tokens=0, zero_shot_prices=TokenPrices(1, 1),
        ...                fine_tuned_prices=TokenPrices(2, 2), training_cost_usd=1,
        ...                horizon_months=1)
        >>> round(b.net_savings(1000), 6)
        1.0
        """
        return self.savings_per_request * requests_per_month * self.horizon_months \
            - self.training_cost_usd

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict (with ``pays_off``).

        Example
        -------
        >>> b = break_even(zero_shot_prompt_tokens=10, fine_tuned_prompt_tokens=10,
        ...                output_tokens=1, zero_shot_prices=TokenPrices(1, 1),
        ...                fine_tuned_prices=TokenPrices(1, 1), training_cost_usd=0)
        >>> b.to_dict()["pays_off"]
        False
        """
        return {**asdict(self), "pays_off": self.pays_off}


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def break_even(*, zero_shot_prompt_tokens: float, fine_tuned_prompt_tokens: float,
               output_tokens: float, zero_shot_prices: TokenPrices,
               fine_tuned_prices: TokenPrices, training_cost_usd: float,
               horizon_months: float = 12,
               fine_tuned_output_tokens: float | None = None) -> BreakEven:
    """Return the monthly request volume above which fine-tuning pays off within a horizon.

    Per request, the zero-shot route costs ``zero_shot_prompt_tokens`` input and
    ``output_tokens`` output tokens at ``zero_shot_prices``; the fine-tuned route costs
    ``fine_tuned_prompt_tokens`` and ``fine_tuned_output_tokens`` (default: ``output_tokens``)
    at ``fine_tuned_prices``. With a saving ``s`` per request, training is paid back within
    ``horizon_months`` when ``s * requests_per_month * horizon_months >= training_cost_usd``,
    so the threshold is ``training_cost_usd / (s * horizon_months)``. Cached-input discounts
    are ignored.

    Parameters
    ----------
    zero_shot_prompt_tokens, fine_tuned_prompt_tokens : float
        Prompt tokens per request without / with fine-tuning (instructions and few-shot
        examples make the first much longer).
    output_tokens : float
        Output tokens per request (the label).
    zero_shot_prices, fine_tuned_prices : TokenPrices
        Inference prices of the prompted model (e.g. ``load_prices()[m].base``) and of the
        fine-tuned model (``load_prices()[m].fine_tuned``).
    training_cost_usd : float
        One-off training cost (e.g. ``estimate_training_cost(...).cost_usd``).
    horizon_months : float
        Months in which training must pay for itself; default 12.
    fine_tuned_output_tokens : float, optional
        Output tokens per request of the fine-tuned model, if different.

    Returns
    -------
    BreakEven
        ``monthly_requests`` is None when fine-tuning saves nothing per request.

    Raises
    ------
    ConfigError
        If a count or price is negative or the horizon is not positive.

    Example
    -------
    >>> b = break_even(zero_shot_prompt_tokens=1500, fine_tuned_prompt_tokens=100,
    ...                output_tokens=5, zero_shot_prices=TokenPrices(0.15, 0.60),
    ...                fine_tuned_prices=TokenPrices(0.30, 1.20), training_cost_usd=2.88)
    >>> round(b.savings_per_request * 1e6), round(b.monthly_requests)
    (192, 1250)
    """
    zs_prompt = _non_negative("zero_shot_prompt_tokens", zero_shot_prompt_tokens)
    ft_prompt = _non_negative("fine_tuned_prompt_tokens", fine_tuned_prompt_tokens)
    out = _non_negative("output_tokens", output_tokens)
    ft_out = out if fine_tuned_output_tokens is None else \
        _non_negative("fine_tuned_output_tokens", fine_tuned_output_tokens)
    training = _non_negative("training_cost_usd", training_cost_usd)
    horizon = _non_negative("horizon_months", horizon_months)
    if horizon == 0:
        raise ConfigError("horizon_months must be positive, e.g. 12")
    for name, p in (("zero_shot_prices", zero_shot_prices),
                    ("fine_tuned_prices", fine_tuned_prices)):
        if not isinstance(p, TokenPrices):
            raise ConfigError(f"{name} must be TokenPrices (e.g. load_prices()[model].base), "
                              f"got {p!r}; is the model missing from finetune/prices.toml?")
        _non_negative(f"{name}.input_per_1m", p.input_per_1m)
        _non_negative(f"{name}.output_per_1m", p.output_per_1m)
    zero_shot = zero_shot_prices.request_cost(zs_prompt, out)
    fine_tuned = fine_tuned_prices.request_cost(ft_prompt, ft_out)
    savings = zero_shot - fine_tuned
    # Costs are sums of products of decimal prices; ignore float noise around zero.
    if savings <= 1e-15:
        monthly = None
    else:
        monthly = training / (savings * horizon)
    return BreakEven(zero_shot_cost_per_request=zero_shot, fine_tuned_cost_per_request=fine_tuned,
                     savings_per_request=savings, training_cost_usd=training,
                     horizon_months=horizon, monthly_requests=monthly)
