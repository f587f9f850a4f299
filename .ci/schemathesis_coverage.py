"""How many documented operations answered a 2xx at least once during the
contract tests, from schemathesis' HAR reports.

Usage: schemathesis_coverage.py OPENAPI_URL HAR...
"""

import json
import re
import sys
import urllib.parse
import urllib.request

doc = json.load(urllib.request.urlopen(sys.argv[1], timeout=30))
operations = []
for path, item in doc["paths"].items():
    pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
    literal = len(re.sub(r"\{[^/]+?\}", "", path))
    for method in item:
        if method in ("get", "put", "post", "delete", "patch", "head", "options"):
            operations.append((method.upper(), path, pattern, literal))

reached = set()
for har in sys.argv[2:]:
    with open(har) as f:
        entries = json.load(f)["log"]["entries"]
    for entry in entries:
        if not 200 <= entry["response"]["status"] < 300:
            continue
        method = entry["request"]["method"]
        path = urllib.parse.urlsplit(entry["request"]["url"]).path
        fits = [(lit, p) for m, p, rx, lit in operations if m == method and rx.match(path)]
        if fits:
            reached.add((method, max(fits)[1]))

missing = sorted(f"{m} {p}" for m, p, _, _ in operations if (m, p) not in reached)
print(f"operations that answered a 2xx: {len(reached)} of {len(operations)}")
for name in missing:
    print(f"  never 2xx: {name}")
