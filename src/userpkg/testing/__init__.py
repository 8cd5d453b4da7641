"""Test your own client against a real sandbox (SPEC §12).

    with userpkg.testing.sandbox() as sb:
        sb.admin.add_fault("expand", "error", status=500)
        ...  # your client, configured from sb.credentials_path or sb.manifest

`sandbox()` starts `userpkg serve --sandbox` as a subprocess on a free loopback port with a
fresh data directory, waits until it answers, and stops it on exit (SIGTERM, then SIGKILL).
With pytest, the `userpkg_sandbox` fixture (registered by this package's `pytest11` entry
point) yields the same object for each test.
"""

from userpkg.testing.admin import SandboxAdmin
from userpkg.testing.sandbox import DEFAULT_USERS, Sandbox, SandboxStartError, sandbox

__all__ = ["DEFAULT_USERS", "Sandbox", "SandboxAdmin", "SandboxStartError", "sandbox"]
