"""Hyperparameter tuning in the shape of KerasTuner, and the learning-rate range test.

A KerasTuner program runs with ``keras_tuner`` replaced by ``nn.tuning``::

    def build_model(hp):
        units = hp.Int("units", 8, 64, step=8)
        activation = hp.Choice("activation", ["relu", "tanh"])
        model = nn.Sequential([nn.Input((2,)), nn.layers.Dense(units, activation=activation),
                               nn.layers.Dense(2, activation="softmax")], seed=0)
        model.compile(optimizer=nn.optimizers.Adam(
                          hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = nn.tuning.RandomSearch(build_model, objective="val_accuracy", max_trials=3, seed=0)
    tuner.search(x, y, epochs=2, validation_split=0.2)
    tuner.get_best_hyperparameters()[0].get("units")

(the ``seed=0`` of the model makes its initial weights, and so the search, repeat).

==================  ================================================================
hyperparameters.py  HyperParameters (hp.Int, Float, Choice, Boolean, Fixed, get,
                    values) and the search-space entries
tuners.py           Objective; Tuner (search, results_summary, get_best_hyperparameters,
                    get_best_models, trials) and RandomSearch, GridSearch, Hyperband;
                    Trial, the record of one trial
lr_range_test.py    learning_rate_range_test (Smith 2017) and its LRRangeTestResult
==================  ================================================================
"""
from .hyperparameters import Boolean, Choice, Fixed, Float, HyperParameter, HyperParameters, Int
from .lr_range_test import LRRangeTestResult, learning_rate_range_test
from .tuners import GridSearch, Hyperband, Objective, RandomSearch, Trial, Tuner

__all__ = [
    "HyperParameters", "HyperParameter", "Int", "Float", "Choice", "Boolean", "Fixed",
    "Objective", "Tuner", "RandomSearch", "GridSearch", "Hyperband", "Trial",
    "learning_rate_range_test", "LRRangeTestResult",
]
