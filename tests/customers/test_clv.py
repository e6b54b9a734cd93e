"""CLV models: published CDNOW estimates, hand-checkable behaviour and the no-crash edge cases."""

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter
from lifetimes.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value
from lifetimes.utils import ConvergenceError

from orchestration.customers.clv import (
    FIT_EMPTY,
    FIT_NOT_CONVERGED,
    FIT_OK,
    FIT_TOO_FEW_REPEAT_BUYERS,
    PREDICTION_COLUMNS,
    distinct_histories,
    expected_purchases,
    fit_clv,
)

# Fader, Hardie & Lee (2005), "Counting your customers the easy way", BG/NBD on CDNOW (weeks).
PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", on the 946 CDNOW repeat buyers
# (also used by Fader, Hardie & Lee 2005, "RFM and CLV"); lifetimes calls gamma `v`.
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow_fit():
    """One unpenalised fit on CDNOW (2,357 customers, time in weeks) shared by the CDNOW tests."""
    summary = load_cdnow_summary_data_with_monetary_value().reset_index()
    return fit_clv(summary, penalizer=0.0)


def test_bg_nbd_reproduces_published_cdnow_estimates(cdnow_fit):
    assert cdnow_fit.fit_status == FIT_OK
    assert cdnow_fit.frequency_params == pytest.approx(PUBLISHED_BG_NBD, rel=0.01)


def test_cdnow_with_spend_is_the_published_bg_nbd_data_set():
    """The BG/NBD paper's summary (no spend) has the same customers, frequency, recency and T as
    the spend data set fitted above, so the BG/NBD check above is on the published data."""
    published = load_cdnow_summary(index_col=[0])
    with_spend = load_cdnow_summary_data_with_monetary_value()
    columns = ["frequency", "recency", "T"]
    assert published[columns].to_numpy() == pytest.approx(with_spend[columns].to_numpy())


def test_gamma_gamma_reproduces_published_cdnow_estimates(cdnow_fit):
    assert cdnow_fit.spend_params == pytest.approx(PUBLISHED_GAMMA_GAMMA, rel=0.01)


def with_spend(rng, frequency, recency, age) -> pd.DataFrame:
    """A summary of these histories, repeat buyers with gamma-distributed spend."""
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(len(age))],
            "frequency": frequency,
            "recency": recency,
            "T": age,
            "monetary_value": np.where(frequency > 0, rng.gamma(4.0, 40.0, len(age)), 0.0),
        }
    )


def synthetic_summary(seed: int = 7, customers: int = 300) -> pd.DataFrame:
    """A small world in days: 0–8 repeat purchases, ages 60–365 days, gamma-distributed spend."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(60, 365, customers)
    frequency = rng.integers(0, 9, customers).astype(float)
    recency = np.where(frequency > 0, rng.uniform(0.2, 1.0, customers) * age, 0.0)
    return with_spend(rng, frequency, recency, age)


@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    """The synthetic world plus two customers equal in purchases and age, differing only in the
    date of their last purchase."""
    twins = pd.DataFrame(
        {
            "customer_id": ["recent", "silent"],
            "frequency": [5.0, 5.0],
            "recency": [350.0, 40.0],
            "T": [365.0, 365.0],
            "monetary_value": [99.0, 99.0],
        }
    )
    return pd.concat([synthetic_summary(), twins], ignore_index=True)


@pytest.fixture(scope="module")
def world_fit(world):
    return fit_clv(world)


@pytest.fixture(scope="module")
def undiscounted_fit(world):
    """No discounting, and a 360-day horizon so that CLV's 12 × 30-day months cover it exactly."""
    return fit_clv(world, horizon_days=360, discount_rate_monthly=0.0)


def prediction(result, customer_id: str) -> pd.Series:
    return result.predictions.set_index("customer_id").loc[customer_id]


def test_recent_repeat_buyer_is_more_likely_alive_than_a_silent_one(world_fit):
    recent, silent = prediction(world_fit, "recent"), prediction(world_fit, "silent")
    assert world_fit.fitted
    assert recent["probability_alive"] > silent["probability_alive"]
    assert recent["expected_purchases"] > silent["expected_purchases"]
    assert recent["predicted_clv"] > silent["predicted_clv"]


def test_one_time_buyers_get_the_gamma_gamma_population_mean_order_value(world, world_fit):
    """E[order value] of the Gamma-Gamma population is p·v / (q − 1)."""
    params = world_fit.spend_params
    population_mean = params["p"] * params["v"] / (params["q"] - 1)
    one_time = world_fit.predictions[world["frequency"] == 0]
    assert len(one_time) > 0
    assert one_time["expected_avg_order_value"].to_numpy() == pytest.approx(population_mean)


def test_undiscounted_clv_is_order_value_times_expected_purchases(undiscounted_fit):
    predictions = undiscounted_fit.predictions
    assert undiscounted_fit.clv_months == 12
    expected = predictions["expected_avg_order_value"] * predictions["expected_purchases"]
    assert predictions["predicted_clv"].to_numpy() == pytest.approx(expected.to_numpy())


def test_discounting_lowers_clv(world_fit, undiscounted_fit):
    """Both cover 12 months of 30 days; only the 1% monthly discount differs."""
    assert world_fit.clv_months == undiscounted_fit.clv_months
    discounted = world_fit.predictions["predicted_clv"]
    assert (discounted < undiscounted_fit.predictions["predicted_clv"]).all()


def test_empty_world_returns_empty_predictions_and_a_status():
    empty = synthetic_summary().iloc[:0]
    result = fit_clv(empty)
    assert result.fit_status == FIT_EMPTY
    assert not result.fitted
    assert list(result.predictions.columns) == PREDICTION_COLUMNS
    assert result.predictions.empty


def test_tiny_world_keeps_every_customer_with_nan_predictions():
    tiny = synthetic_summary(customers=10)
    result = fit_clv(tiny)
    assert result.fit_status == FIT_TOO_FEW_REPEAT_BUYERS
    assert "need 20" in result.fit_message
    assert result.frequency_params == {} and result.spend_params == {}
    assert list(result.predictions["customer_id"]) == list(tiny["customer_id"])
    assert result.predictions.drop(columns="customer_id").isna().all().all()


def repeated_histories(seed: int = 11, customers: int = 5_000) -> pd.DataFrame:
    """Customers in whole days over a short history, so that many share (frequency, recency, T),
    as the customers of a real order book do."""
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 40, customers).astype(float)
    frequency = rng.integers(0, 4, customers).astype(float)
    recency = np.where(frequency > 0, np.floor(rng.uniform(0.5, 1.0, customers) * age), 0.0)
    return with_spend(rng, frequency, recency, age)


def test_distinct_histories_count_their_customers():
    summary = pd.DataFrame(
        {
            "frequency": [1.0, 0.0, 1.0, 1.0],
            "recency": [5.0, 0.0, 5.0, 6.0],
            "T": [9.0, 9.0, 9.0, 9.0],
        }
    )
    histories, rows = distinct_histories(summary)
    assert histories.to_dict("list") == {
        "frequency": [1.0, 0.0, 1.0],
        "recency": [5.0, 0.0, 6.0],
        "T": [9.0, 9.0, 9.0],
        "customers": [2, 1, 1],
    }
    assert rows.tolist() == [0, 1, 0, 2]


def test_fit_on_distinct_histories_equals_lifetimes_fitted_on_every_customer():
    """BG/NBD fitted once per distinct history, weighted by its customers, is the model lifetimes
    fits on the customers one by one: the same parameters and the same predictions."""
    summary = repeated_histories()
    assert summary[["frequency", "recency", "T"]].drop_duplicates().shape[0] < len(summary) / 4
    result = fit_clv(summary, penalizer=0.001)
    model = BetaGeoFitter(penalizer_coef=0.001).fit(
        summary["frequency"], summary["recency"], summary["T"]
    )
    assert result.frequency_params == pytest.approx(dict(model.params_), rel=1e-4)
    predicted = result.predictions.set_index("customer_id").loc[summary["customer_id"]]
    alive = model.conditional_probability_alive(
        summary["frequency"], summary["recency"], summary["T"]
    )
    assert predicted["probability_alive"].to_numpy() == pytest.approx(alive, rel=1e-4)
    purchases = expected_purchases(model, summary, 365)
    assert predicted["expected_purchases"].to_numpy() == pytest.approx(purchases, rel=1e-4)


def test_non_convergence_is_a_status_not_a_crash(world, monkeypatch):
    def diverge(*args, **kwargs):
        raise ConvergenceError("optimiser did not converge")

    monkeypatch.setattr(BetaGeoFitter, "fit", diverge)
    result = fit_clv(world)
    assert result.fit_status == FIT_NOT_CONVERGED
    assert result.fit_message == "optimiser did not converge"
    assert result.predictions.drop(columns="customer_id").isna().all().all()


def test_degenerate_spend_model_falls_back_to_the_pooled_repeat_order_value():
    """With no heterogeneity between customers Gamma-Gamma finds q <= 1 (no finite mean): every
    customer then gets the frequency-weighted mean repeat order value, computed here by hand."""
    import numpy as np

    from orchestration.customers.clv import FIT_POOLED_SPEND, fit_clv

    rng = np.random.default_rng(3)
    n = 400
    frequency = rng.integers(1, 6, n).astype(float)
    age = rng.uniform(200, 365, n)
    recency = age * rng.uniform(0.3, 1.0, n)
    # Every customer's mean order value is one draw of the same very wide spend distribution.
    monetary = rng.pareto(1.2, n) * 100 + 20
    summary = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "frequency": frequency,
            "recency": recency,
            "T": age,
            "monetary_value": monetary,
        }
    )
    result = fit_clv(summary)
    assert result.spend_params["q"] <= 1  # heavy-tailed spend: no finite population mean
    pooled = (frequency * monetary).sum() / frequency.sum()
    assert result.fit_status == FIT_POOLED_SPEND and result.fitted
    assert np.allclose(result.predictions.expected_avg_order_value, pooled)
    assert (result.predictions.predicted_clv > 0).all()


def test_expected_purchases_without_dropout_is_the_nbd_expectation():
    """a, b -> 0 (no dropout seen on a short history): lifetimes gives 0/0 for one-time buyers;
    the limit is the NBD's (r + x) / (alpha + T) * t, here (1 + 0) / (50 + 10) * 30 = 0.5."""
    from lifetimes import BetaGeoFitter

    from orchestration.customers.clv import expected_purchases

    model = BetaGeoFitter()
    model.params_ = pd.Series({"r": 1.0, "alpha": 50.0, "a": 1e-19, "b": 1e-10})
    summary = pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [10.0]})
    assert abs(expected_purchases(model, summary, 30).iloc[0] - 0.5) < 1e-9
