"""A telecom churn data set like the notebook's, generated deterministically.

Two tables, as in the notebook: ``features`` (customerID plus numeric, already one-hot encoded
features) and ``response`` (customerID, Churn "Yes"/"No"). Churn depends on contract, tenure,
charges and payment method, so the models have something to learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PRIMARY_KEY = "customerID"
LABEL = "Churn"


@dataclass(frozen=True)
class ChurnData:
    features: pd.DataFrame
    response: pd.DataFrame


def generate(customers: int = 2000, seed: int = 7) -> ChurnData:
    rng = np.random.default_rng(seed)
    ids = [f"{rng.integers(1000, 9999)}-{''.join(rng.choice(list('ABCDEFGHJKLMNPQRSTUVWXYZ'), 5))}"
           for _ in range(customers)]
    ids = list(dict.fromkeys(ids))  # unique, stable order
    n = len(ids)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.21, 0.24])
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.34, 0.44, 0.22])
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer", "Credit card"], n,
                         p=[0.34, 0.23, 0.22, 0.21])
    tenure = rng.integers(1, 73, n)
    monthly = np.round(np.where(internet == "Fiber optic", rng.normal(90, 12, n),
                                np.where(internet == "DSL", rng.normal(58, 10, n),
                                         rng.normal(22, 3, n))).clip(18, 120), 2)
    total = np.round(monthly * tenure * rng.uniform(0.93, 1.05, n), 2)
    features = pd.DataFrame({
        PRIMARY_KEY: ids,
        "SeniorCitizen": (rng.random(n) < 0.16).astype(int),
        "tenure": tenure.astype(float),
        "MonthlyCharges": monthly,
        "TotalCharges": total,
        "gender_Male": (rng.random(n) < 0.5).astype(int),
        "Partner_Yes": (rng.random(n) < 0.48).astype(int),
        "Dependents_Yes": (rng.random(n) < 0.3).astype(int),
        "PhoneService_Yes": (rng.random(n) < 0.9).astype(int),
        "InternetService_Fiber_optic": (internet == "Fiber optic").astype(int),
        "InternetService_No": (internet == "No").astype(int),
        "Contract_One_year": (contract == "One year").astype(int),
        "Contract_Two_year": (contract == "Two year").astype(int),
        "PaperlessBilling_Yes": (rng.random(n) < 0.59).astype(int),
        "PaymentMethod_Electronic_check": (payment == "Electronic check").astype(int),
    })
    # Doubles throughout: a feature looked up for an unknown key is NaN, which integer columns
    # cannot hold (the model's signature would refuse it).
    numeric = [c for c in features.columns if c != PRIMARY_KEY]
    features[numeric] = features[numeric].astype(float)
    churn = _churn(rng, contract, tenure, monthly, internet, payment)
    response = pd.DataFrame({PRIMARY_KEY: ids, LABEL: np.where(churn, "Yes", "No")})
    return ChurnData(features=features, response=response)


def _churn(rng: np.random.Generator, contract: np.ndarray, tenure: np.ndarray,
           monthly: np.ndarray, internet: np.ndarray, payment: np.ndarray) -> np.ndarray:
    score = (-1.2 + 1.3 * (contract == "Month-to-month") - 0.035 * tenure
             + 0.018 * (monthly - 60) + 0.5 * (internet == "Fiber optic")
             + 0.45 * (payment == "Electronic check"))
    probability = 1 / (1 + np.exp(-score))
    return rng.random(len(score)) < probability


def training_frame(data: ChurnData) -> tuple[pd.DataFrame, pd.Series]:
    """X and y the way the notebook builds them: features joined to the response by id."""
    dataset = data.features.merge(data.response, on=PRIMARY_KEY, how="inner")
    return dataset.drop(columns=[PRIMARY_KEY, LABEL]), dataset[LABEL]
