"""A load worker for spawned processes: stdlib only, so a child imports it without Django."""

import json
import urllib.request

# A browser's User-Agent: urllib's own ("Python-urllib/3.x") is a tool's, and never counted.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def post_many(url: str, times: int) -> list[int]:
    """POST /api/count `times` times and return the counts the server answered."""
    counts = []
    for _ in range(times):
        request = urllib.request.Request(
            f"{url}/api/count", method="POST", data=b"", headers={"User-Agent": BROWSER}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            counts.append(json.load(response)["count"])
    return counts
