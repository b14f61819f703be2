"""Inside the image (the Dockerfile's `check` stage): start `policybot serve` as the image
would, ask a question, read /readyz, stop it. Exits non-zero on any failure."""

import json
import subprocess
import sys
import time
import urllib.request

BASE = "http://127.0.0.1:8080"
server = subprocess.Popen(
    [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port", "8080"]
)
try:
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"{BASE}/readyz", timeout=2) as ready:
                checks = json.load(ready)
                break
        except OSError:
            if server.poll() is not None:
                sys.exit(f"the server stopped while starting (exit {server.returncode})")
            time.sleep(0.5)
    else:
        sys.exit("the server was not ready within 60 s")
    assert checks["status"] == "ready", checks
    question = json.dumps({"org": "derbyshire", "question": "can I friend a service user?"})
    asked = urllib.request.Request(
        f"{BASE}/api/ask", data=question.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(asked, timeout=10) as answer:
        reply = json.load(answer)
    assert reply["kind"] == "answer" and reply["matches"][0]["quote"], reply
    print(f"check-image: ready {checks['checks']}; answered: {reply['matches'][0]['section']}")
finally:
    server.terminate()
    server.wait(timeout=20)
