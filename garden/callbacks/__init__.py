"""Learning-rate schedules and training callbacks that drop into `model.fit`."""
