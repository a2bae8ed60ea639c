"""A complete toktok webhook receiver in Python, with the official
`standardwebhooks` package (pip install standardwebhooks). docs/webhooks.md
shows this file; tests/hooks/run.sh runs it against a live toktok.

    TOKTOK_WEBHOOK_SECRET=whsec_... python receiver.py PORT

It verifies each delivery (signature, timestamp within five minutes), drops
a delivery it has already handled (same `webhook-id`: delivery is at least
once), and acts on the events a service usually cares about. A delivery
that fails verification is answered 400 and never acted on.
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["TOKTOK_WEBHOOK_SECRET"])
lock = threading.Lock()
seen = set()  # webhook-ids handled; keep them a few days in a real service
revoked_sessions = set()  # sids whose access tokens this service refuses
# The test reads what arrived from here (one JSON object per line).
EVENTS_LOG = os.environ.get("EVENTS_LOG")


def handle(event):
    data = event["data"]
    if event["type"] == "session.revoked":
        # Access tokens carry `sid`: refuse those of this session from now
        # on (until they expire, at most [jwt] access_ttl away).
        revoked_sessions.add(data["sid"])
    elif event["type"] == "user.deleted":
        pass  # delete what this service keeps about data["user_id"]
    elif event["type"] == "user.created":
        pass  # create this service's row for data["user"]


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = webhook.verify(body, dict(self.headers))
        except WebhookVerificationError:
            self.send_response(400)
            self.end_headers()
            return
        msg_id = self.headers["webhook-id"]
        with lock:
            if msg_id not in seen:
                seen.add(msg_id)
                handle(event)
                if EVENTS_LOG:
                    with open(EVENTS_LOG, "a") as log:
                        log.write(json.dumps({"id": msg_id, "event": event}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer.request_queue_size = 128  # toktok sends up to 128 at once
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
