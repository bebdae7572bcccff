"""The notifier's key for webhook signing secrets on the one-machine default.

The notifier stores each webhook's signing secret encrypted with this Fernet key, so the
database never holds a secret in clear. In production the key comes from the environment
(a secret store); for `regia up` it is made once and kept beside the data it protects,
readable by its owner only, so secrets survive a restart.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet

from .embedded.private import private_dir, private_file

VARIABLE = "REGIA_NOTIFIER_SECRETS_KEY"


def notifier_secrets_key(data_dir: Path) -> str:
    given = os.environ.get(VARIABLE, "").strip()
    if given:
        return given
    path = data_dir / "notifier-secrets.key"
    if not path.exists():
        private_dir(data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(Fernet.generate_key().decode())
    return private_file(path).read_text().strip()  # tightened if an earlier run left it loose
