"""One cold start split into phases, for the phase profile of bench/lambda_cold.py.

    python -S bench/cold_phases.py TASK_DIR SDK_DIR ours|bare   < one POST event (a JSON line)

Prints [[phase, cpu_s, wall_s, peak_rss_mib], ...], marking the end of each phase. Ours imports
Zappa's handler module without instantiating it, then instantiates it with marks around the
import of the app module (Django's WSGI module, its set-up, the warm-up), in the order of a real
start. Standard library only: the unzipped package and the runtime's SDK are the path.
"""

import importlib
import json
import os
import re
import sys
import time
import types
from pathlib import Path

marks: list[tuple[str, float, float, float]] = []


def mark(name: str) -> None:
    status = Path("/proc/self/status").read_text()
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    marks.append((name, time.process_time(), time.perf_counter(), peak))


def instantiate_with_marks(handler: types.ModuleType) -> None:
    """Build Zappa's LambdaHandler as the init does, marking the app module's phases."""

    def import_app(name: str) -> types.ModuleType:
        if name != "resume_site.wsgi":
            return importlib.import_module(name)
        from core.lifetime import kept_for_life

        # Django's WSGI module is imported here, before the app module that imports it, to
        # mark its end: with the collector paused as the app module pauses it around it (the
        # app module's own pause then nests, and the set-up is frozen once, as in a real start).
        with kept_for_life("Django's set-up"):
            import django.core.wsgi

            mark("Django's WSGI handler module")
            get_application = django.core.wsgi.get_wsgi_application

            def timed_application():
                application = get_application()
                mark("Django set-up: settings, apps, middleware")
                return application

            django.core.wsgi.get_wsgi_application = timed_application
            module = importlib.import_module(name)
            mark("warm-up: URL resolver, views (resume_site/warmup.py)")
        return module

    handler.importlib = types.SimpleNamespace(import_module=import_app)
    handler.global_handler = handler.LambdaHandler()


def main() -> None:
    sys.path[:] = [sys.argv[1], sys.argv[2], *sys.path[1:]]
    os.chdir(sys.argv[1])
    answers, sys.stdout = sys.stdout, sys.stderr
    mark("interpreter start")
    import boto3  # noqa: F401 (timed: the runtime's SDK)

    mark("import boto3 (the runtime's SDK)")
    import handler

    if sys.argv[3] == "ours":
        mark("Zappa's handler module (werkzeug, asyncio, tarfile)")
        instantiate_with_marks(handler)
    else:
        mark("the handler module: one boto3 client")
    response = handler.lambda_handler(json.loads(sys.stdin.readline()), None)
    if response["statusCode"] != 200:
        raise RuntimeError(f"the first POST answered {response}")
    mark("first POST /api/count (client, requests)")
    answers.write(json.dumps(marks))


if __name__ == "__main__":
    main()
