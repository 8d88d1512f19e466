"""The service: the functions' logic, the RQ queue, S3 storage, callbacks and metrics (no model code)."""
