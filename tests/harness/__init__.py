"""The checks that layer and model tests share, as keras-hub's `TestCase`: each test file gives
tiny arguments and expected shapes, the harness does the rest.

- `run_layer_test` (tests/harness/layers.py): build, call, `compute_output_shape`, config and
  `.keras` round trips, one fit step.
- `run_model_test` (tests/harness/models.py): forward, backward to every weight, `.keras` round
  trip, one fit step.
"""
