"""A load worker for spawned processes: stdlib only, so a child imports it without Django."""

import json
import urllib.request


def post_many(url: str, times: int) -> list[int]:
    """POST /api/count `times` times and return the counts the server answered."""
    counts = []
    for _ in range(times):
        request = urllib.request.Request(f"{url}/api/count", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            counts.append(json.load(response)["count"])
    return counts
