"""Business logic over the store: brands, uploads, packages, expand tasks, the directory."""
