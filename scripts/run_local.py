"""`make run`: DynamoDB Local with on-disk data, the table, and Django's server.

Ctrl-C stops both; so do SIGTERM and SIGHUP (a `kill`, a closed terminal), which would
otherwise end this process and leave the engine and the server running.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import dynamodb_local

SITE_PORT = int(os.environ.get("PORT", "8000"))
ENGINE_PORT = int(os.environ.get("DYNAMODB_LOCAL_PORT", "8001"))
ROOT = dynamodb_local.ROOT
DATA_DIR = Path(os.environ.get("DYNAMODB_LOCAL_DATA", ROOT / ".dynamodb")).resolve()


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    for stopping in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stopping, _stop)
    if dynamodb_local.port_in_use(SITE_PORT):
        print(f"Port {SITE_PORT} is already in use: stop what uses it, or run PORT=8080 make run.")
        return 1
    env = dict(os.environ)
    env.setdefault("DYNAMODB_ENDPOINT_URL", f"http://127.0.0.1:{ENGINE_PORT}")
    python = sys.executable
    manage = str(ROOT / "manage.py")
    shown = DATA_DIR.relative_to(ROOT) if DATA_DIR.is_relative_to(ROOT) else DATA_DIR
    print(f"Starting DynamoDB Local on port {ENGINE_PORT} (data in {shown}/) ...", flush=True)
    try:
        engine = dynamodb_local.start(ENGINE_PORT, DATA_DIR)
    except dynamodb_local.EngineError as error:
        print(f"{error} (set DYNAMODB_LOCAL_PORT to use another port)")
        return 1
    try:
        subprocess.run([python, manage, "create_table"], env=env, check=True)
        print(f"Serving the site on http://127.0.0.1:{SITE_PORT}/ (Ctrl-C stops everything)")
        server = subprocess.Popen([python, manage, "runserver", f"127.0.0.1:{SITE_PORT}"], env=env)
        try:
            return server.wait()
        except KeyboardInterrupt:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=10)
            return 0
    except subprocess.CalledProcessError as error:
        return error.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        print("Stopping DynamoDB Local ...", flush=True)
        dynamodb_local.stop(engine)


if __name__ == "__main__":
    sys.exit(main())
