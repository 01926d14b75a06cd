"""Omnishop: the shared code behind the HTTP API (app.py) and the Lambda functions (functions/)."""
