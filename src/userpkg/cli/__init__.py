"""The `userpkg` command: service side (serve, worker) and brand side (upload, expand, ...)."""
