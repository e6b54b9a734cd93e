"""Customer lifetime value: BG/NBD for how often a customer buys, Gamma-Gamma for how much.

Both models are the `lifetimes` implementations. The per-customer summary (the dbt model
int_customers__clv_summary) follows the lifetimes convention, with time in days: `frequency` =
number of repeat purchase days (the first purchase is not counted), `recency` = customer age at
the last purchase, `T` = customer age at the end of observation, `monetary_value` = mean net value
of the repeat purchases (CNY).

Customers with the same purchase history (frequency, recency, T in whole days) get the same
BG/NBD answers, and at a million customers there are some 70,000 such histories for 600,000
buyers: BG/NBD is fitted on the distinct histories weighted by their customers (the same
likelihood) and evaluated once per history.

A nightly run must not crash because the world is tiny or empty, so `fit_clv` never raises for lack
of data: it returns the same prediction columns filled with NaN and a `fit_status` saying why.
Callers test `result.fitted` before trusting the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import ConvergenceError

FIT_OK = "ok"
FIT_POOLED_SPEND = "ok_pooled_spend"  # frequency model fitted; spend pooled (see below)
FIT_EMPTY = "empty"
FIT_TOO_FEW_REPEAT_BUYERS = "too_few_repeat_buyers"
FIT_NOT_CONVERGED = "not_converged"

MIN_REPEAT_BUYERS = 20  # below this the Gamma-Gamma spend model has too little data to be trusted
DAYS_PER_MONTH = 30  # lifetimes' customer_lifetime_value steps in 30-day months when freq="D"

SUMMARY_COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value"]
PREDICTION_COLUMNS = [
    "customer_id",
    "probability_alive",
    "expected_purchases",
    "expected_avg_order_value",
    "predicted_clv",
]


@dataclass(frozen=True)
class ClvResult:
    """Fitted model parameters and per-customer predictions of one CLV run.

    `expected_purchases` covers `horizon_days`; `predicted_clv` covers `clv_months` 30-day months
    (lifetimes discounts month by month), i.e. 12 months = 360 days for the default 365-day horizon.
    """

    fit_status: str
    fit_message: str
    horizon_days: int
    clv_months: int
    predictions: pd.DataFrame
    frequency_params: dict[str, float] = field(default_factory=dict)  # BG/NBD: r, alpha, a, b
    spend_params: dict[str, float] = field(default_factory=dict)  # Gamma-Gamma: p, q, v

    @property
    def fitted(self) -> bool:
        return self.fit_status in (FIT_OK, FIT_POOLED_SPEND)


def fit_clv(
    summary: pd.DataFrame,
    *,
    horizon_days: int = 365,
    discount_rate_monthly: float = 0.01,
    penalizer: float = 0.001,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma on `summary` and predict value over the next `horizon_days`.

    Customers with no repeat purchase get the Gamma-Gamma population mean as their expected order
    value (the model's own answer for frequency 0). A small `penalizer` keeps the optimiser stable
    on small worlds; use 0.0 to reproduce published estimates.
    """
    summary = _clean(summary)
    clv_months = max(1, round(horizon_days / DAYS_PER_MONTH))
    try:
        _check_enough_data(summary, min_repeat_buyers)
        histories, history_rows = distinct_histories(summary)
        frequency_model = _fit_frequency(histories, penalizer)
        spend_model = _fit_spend(summary, penalizer)
    except _NotFitted as reason:
        unfitted = _unfitted_predictions(summary)
        return ClvResult(reason.status, str(reason), horizon_days, clv_months, unfitted)
    by_history = _history_predictions(
        histories, frequency_model, horizon_days, clv_months, discount_rate_monthly
    )
    predictions = _predict(summary, by_history[history_rows], spend_model)
    return ClvResult(
        FIT_POOLED_SPEND if spend_model_is_degenerate(spend_model) else FIT_OK,
        "",
        horizon_days,
        clv_months,
        predictions,
        frequency_params=_params(frequency_model),
        spend_params=_params(spend_model),
    )


class _NotFitted(Exception):
    """Why the models could not be fitted; `fit_clv` turns it into a status, never a crash."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def _floats() -> dict[str, type]:
    return {column: float for column in SUMMARY_COLUMNS[1:]}


def _clean(summary: pd.DataFrame) -> pd.DataFrame:
    """Index by customer; a missing or negative (refunds exceed purchases) spend counts as zero."""
    summary = summary[SUMMARY_COLUMNS].astype(_floats()).set_index("customer_id")
    summary["monetary_value"] = summary["monetary_value"].fillna(0.0).clip(lower=0.0)
    return summary


def _spenders(summary: pd.DataFrame) -> pd.DataFrame:
    """Repeat buyers with positive spend: Gamma-Gamma needs strictly positive order values."""
    return summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]


def _check_enough_data(summary: pd.DataFrame, min_repeat_buyers: int) -> None:
    if summary.empty:
        raise _NotFitted(FIT_EMPTY, "no customers to fit")
    repeat_buyers = len(_spenders(summary))
    if repeat_buyers < min_repeat_buyers:
        message = f"{repeat_buyers} repeat buyers with positive spend, need {min_repeat_buyers}"
        raise _NotFitted(FIT_TOO_FEW_REPEAT_BUYERS, message)


def _converged(fit):
    """Run a lifetimes fit, reporting non-convergence as `_NotFitted` instead of raising."""
    try:
        return fit()
    except ConvergenceError as error:
        raise _NotFitted(FIT_NOT_CONVERGED, str(error).strip()) from error


HISTORY = ["frequency", "recency", "T"]


def distinct_histories(summary: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct (frequency, recency, T) of `summary` with a `customers` count, and for each
    customer the row of its history."""
    rows = summary.groupby(HISTORY, sort=False).ngroup().to_numpy()
    histories = summary[HISTORY].drop_duplicates().reset_index(drop=True)
    histories["customers"] = np.bincount(rows, minlength=len(histories))
    return histories, rows


def _fit_frequency(histories: pd.DataFrame, penalizer: float) -> BetaGeoFitter:
    model = BetaGeoFitter(penalizer_coef=penalizer)
    return _converged(
        lambda: model.fit(
            histories["frequency"],
            histories["recency"],
            histories["T"],
            weights=histories["customers"],
        )
    )


def _fit_spend(summary: pd.DataFrame, penalizer: float) -> GammaGammaFitter:
    spenders = _spenders(summary)
    model = GammaGammaFitter(penalizer_coef=penalizer)
    return _converged(lambda: model.fit(spenders["frequency"], spenders["monetary_value"]))


def _params(model) -> dict[str, float]:
    return {name: float(value) for name, value in model.params_.items()}


def _history_predictions(
    histories: pd.DataFrame,
    frequency_model: BetaGeoFitter,
    horizon_days: int,
    clv_months: int,
    discount_rate_monthly: float,
) -> np.ndarray:
    """Per history: probability alive, expected purchases over the horizon, and discounted
    expected purchases over `clv_months` (times the order value, the customer's CLV)."""
    return np.column_stack(
        [
            frequency_model.conditional_probability_alive(
                histories["frequency"], histories["recency"], histories["T"]
            ),
            expected_purchases(frequency_model, histories, horizon_days),
            _discounted_purchases(frequency_model, histories, clv_months, discount_rate_monthly),
        ]
    )


def _predict(
    summary: pd.DataFrame, by_history: np.ndarray, spend_model: GammaGammaFitter
) -> pd.DataFrame:
    """Each customer's predictions from its history's (`by_history`, one row per customer)."""
    predictions = pd.DataFrame(index=summary.index)
    predictions["probability_alive"] = by_history[:, 0]
    predictions["expected_purchases"] = by_history[:, 1]
    predictions["expected_avg_order_value"] = _expected_order_value(summary, spend_model)
    predictions["predicted_clv"] = predictions["expected_avg_order_value"] * by_history[:, 2]
    return predictions.astype(float).reset_index()[PREDICTION_COLUMNS]


def expected_purchases(model: BetaGeoFitter, summary: pd.DataFrame, days: float) -> pd.Series:
    """BG/NBD's expected purchases in the next `days`. When the fit finds no dropout at all
    (a and b collapse to 0, as on a short history) lifetimes' formula is 0/0 for one-time buyers;
    there the model is the NBD without dropout, whose expectation is (r + x) / (alpha + T) * t."""
    expected = model.conditional_expected_number_of_purchases_up_to_time(
        days, summary["frequency"], summary["recency"], summary["T"]
    )
    r, alpha = float(model.params_["r"]), float(model.params_["alpha"])
    no_dropout = (r + summary["frequency"]) / (alpha + summary["T"]) * days
    return expected.fillna(no_dropout)


def _discounted_purchases(
    frequency_model: BetaGeoFitter,
    histories: pd.DataFrame,
    months: int,
    discount_rate_monthly: float,
) -> pd.Series:
    """Sum over the coming months of the purchases expected that month, discounted: times the
    expected order value, the same sum as lifetimes' `customer_lifetime_value`, but with the
    purchases expected by time 0 taken as 0 (lifetimes evaluates its model at t = 0, which is
    NaN for customers who have bought only once)."""
    value = pd.Series(0.0, index=histories.index)
    before = pd.Series(0.0, index=histories.index)
    for month in range(1, months + 1):
        by_then = expected_purchases(frequency_model, histories, month * DAYS_PER_MONTH)
        value += (by_then - before) / (1 + discount_rate_monthly) ** month
        before = by_then
    return value


def spend_model_is_degenerate(spend_model: GammaGammaFitter) -> bool:
    """Gamma-Gamma's population mean order value is p*v/(q-1): with q <= 1 it is infinite."""
    return float(spend_model.params_["q"]) <= 1.0


def _expected_order_value(summary: pd.DataFrame, spend_model: GammaGammaFitter) -> pd.Series:
    """Gamma-Gamma's conditional expectation; when the fit finds no usable heterogeneity between
    customers (q <= 1), every customer gets the pooled mean order value of repeat purchases, the
    limit Gamma-Gamma's shrinkage tends to as heterogeneity vanishes."""
    if not spend_model_is_degenerate(spend_model):
        return spend_model.conditional_expected_average_profit(
            summary["frequency"], summary["monetary_value"]
        )
    spenders = _spenders(summary)
    pooled = (spenders["frequency"] * spenders["monetary_value"]).sum() / spenders[
        "frequency"
    ].sum()
    return pd.Series(pooled, index=summary.index)


def _unfitted_predictions(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per customer with NaN predictions, so downstream joins keep their shape."""
    predictions = pd.DataFrame(index=summary.index, columns=PREDICTION_COLUMNS[1:], dtype=float)
    return predictions.reset_index()[PREDICTION_COLUMNS]
