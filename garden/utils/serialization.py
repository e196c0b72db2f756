"""Registration shared by every custom garden object (layers, losses, schedules, models)."""

import keras

PACKAGE = "garden"


def serializable(cls):
    """Registers `cls` with Keras under `garden>ClassName`, so saved models find it on load."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)
