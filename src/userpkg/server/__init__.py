"""The HTTP edge: the brand API, the operator API, response signing, logs and metrics."""
