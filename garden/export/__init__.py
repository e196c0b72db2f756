"""Export to SavedModel and TFLite, and parity checks of the exported files."""
