"""The endpoints under ``/api/v1``, one module per resource; each only translates HTTP to
service calls made through a ``Caller`` (``AppCode/api/auth.py``) and results to the JSON
shapes of ``services/json_shapes.py``."""
