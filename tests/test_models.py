"""The shipped answer models are what `make train` produces: refit from the committed features
(evals/train/features.npz) and compare with assistant/models/*.json."""

import importlib.util
import json
import sys

import numpy as np

from assistant.answer import selection
from conftest import ROOT


def _train_module():
    sys.path.insert(0, str(ROOT / "evals"))
    spec = importlib.util.spec_from_file_location("train_answers", ROOT / "evals" / "train_answers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_models_match_a_refit_of_the_committed_features():
    train = _train_module()
    for model, name in zip(train.fit(), ("selection", "answerability")):
        shipped = json.loads((selection.MODELS / f"{name}.json").read_text(encoding="utf-8"))
        assert shipped["features"] == list(model.names)
        np.testing.assert_allclose(shipped["coef"], model.coef, atol=1e-3)
        np.testing.assert_allclose(shipped["intercept"], model.intercept, atol=1e-3)
        assert abs(shipped["threshold"] - model.threshold) < 1e-3


def test_models_rank_an_answering_unit_above_a_non_answering_one():
    """On the committed held-in rows, a unit labelled as holding the answer scores higher on average."""
    data = np.load(ROOT / "evals" / "train" / "features.npz")
    p = selection.load_model("selection").predict(data["units"].astype(np.float64))
    labels = data["unit_labels"]
    assert p[labels].mean() > p[~labels].mean() + 0.2
    q = selection.load_model("answerability").predict(data["questions"].astype(np.float64))
    ok = data["question_labels"]
    assert q[ok].mean() > q[~ok].mean() + 0.2
