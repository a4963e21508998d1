"""nginx as the gateway: Debian's package unpacked under ``.local/`` (no system install, no
service), run with our own prefix and a config rendered from ``deploy/gateway``.
"""

import os
import pwd
import re
from pathlib import Path

from devstack import config

NGINX_ROOT = config.LOCAL / "nginx"
NGINX_BIN = NGINX_ROOT / "usr" / "sbin" / "nginx"
MIME_TYPES = NGINX_ROOT / "etc" / "nginx" / "mime.types"
TEMPLATE = config.ROOT / "deploy" / "gateway" / "assetflow.conf.template"
PACKAGES = ("nginx", "nginx-common")
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def render(
    prefix: Path,
    *,
    listen: str,
    api_upstream: str,
    web_root: Path,
    rate: str = "50r/s",
    burst: int = 100,
    body_limit: str = "64m",
    storage_origin: str = "http://127.0.0.1:9000",
) -> Path:
    """Write the main config and the rendered server config under ``prefix``; returns the
    main config's path."""
    for name in ("conf.d", "logs", *(f"temp/{d}" for d in _TEMP_DIRS)):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    values = {
        "GATEWAY_LISTEN": listen,
        "API_UPSTREAM": api_upstream,
        "WEB_ROOT": str(web_root),
        "GATEWAY_RATE": rate,
        "GATEWAY_BURST": str(burst),
        "GATEWAY_BODY_LIMIT": body_limit,
        "STORAGE_ORIGIN": storage_origin,
    }
    # Only ${NAME} placeholders, as envsubst fills them in compose; nginx's own $variables
    # stay. An unknown name raises KeyError rather than reaching nginx.
    server = _PLACEHOLDER.sub(lambda m: values[m[1]], TEMPLATE.read_text())
    (prefix / "conf.d" / "assetflow.conf").write_text(server)
    temp = "\n".join(f"    {d}_temp_path {prefix / 'temp' / d};" for d in _TEMP_DIRS)
    # Started by root (CI, containers), nginx would hand its workers to "nobody", who cannot
    # read the project's files: keep the invoking user, as any other local process does.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    main = f"""daemon off;
{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    access_log {prefix / "logs" / "access.log"};
{temp}
    include {prefix / "conf.d"}/*.conf;
}}
"""
    conf = prefix / "nginx.conf"
    conf.write_text(main)
    return conf


def argv(conf: Path) -> list[str]:
    """The command that runs nginx in the foreground with ``conf``."""
    prefix = conf.parent
    error_log = prefix / "logs" / "error.log"  # -e: not the package's /var/log path
    return [str(NGINX_BIN), "-p", str(prefix), "-c", str(conf), "-e", str(error_log)]
