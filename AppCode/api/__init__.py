"""The REST API adapter (``scriptbatch serve``): ``app.create_app`` and ``server.ApiServer``."""
