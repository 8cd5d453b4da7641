"""userpkg: the WeChat Pay Brand API user-package service and its client."""

__version__ = "0.1.0"
