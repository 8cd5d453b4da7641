"""Task processing, inside `userpkg serve` or alone as `userpkg worker`."""
