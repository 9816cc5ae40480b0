"""Predict latency and GPU energy from FLOPs, hardware datasheets and a calibration.

The flow: ``generation_compute`` turns a model and its settings into FLOPs per component
(``genwatt.flops``); ``model`` turns FLOPs into seconds and joules with a few fitted
efficiencies and powers; ``fit`` fits those to measurements (a genwatt store or a
CSV) and cross-validates them; ``calibration`` stores fits as JSON (one ships for the
H100, fitted on published measurements); ``predictor`` puts it together. Every energy
figure that leaves this package is labelled ``predicted``.

Nothing here imports torch: ``genwatt predict`` answers in well under two seconds.
"""

from __future__ import annotations

from genwatt.predict.calibration import Calibration, calibration_for
from genwatt.predict.generation_compute import Stage, Workload, workload_for
from genwatt.predict.hardware import HardwareProfile, get_profile, list_profiles
from genwatt.predict.model import FORMS, ModelForm, ModelParams, estimate, get_form
from genwatt.predict.predictor import Prediction, predict, predict_workload

__all__ = [
    "FORMS",
    "Calibration",
    "HardwareProfile",
    "ModelForm",
    "ModelParams",
    "Prediction",
    "Stage",
    "Workload",
    "calibration_for",
    "estimate",
    "get_form",
    "get_profile",
    "list_profiles",
    "predict",
    "predict_workload",
    "workload_for",
]
