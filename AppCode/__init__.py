"""ScriptBatch: run folders of Python scripts as safe, parallel, recorded batches."""

__version__ = "1.0.0"
