// A complete toktok webhook receiver in Node, with the official
// `standardwebhooks` package (npm install standardwebhooks).
// docs/webhooks.md shows this file; tests/hooks/run.sh runs it against a
// live toktok.
//
//   TOKTOK_WEBHOOK_SECRET=whsec_... node receiver.mjs PORT
//
// It verifies each delivery (signature, timestamp within five minutes),
// drops a delivery it has already handled (same `webhook-id`: delivery is
// at least once), and acts on the events a service usually cares about. A
// delivery that fails verification is answered 400 and never acted on.
import { appendFileSync } from "node:fs";
import http from "node:http";
import { Webhook } from "standardwebhooks";

const webhook = new Webhook(process.env.TOKTOK_WEBHOOK_SECRET);
const seen = new Set(); // webhook-ids handled; keep them a few days in a real service
const revokedSessions = new Set(); // sids whose access tokens this service refuses
// The test reads what arrived from here (one JSON object per line).
const eventsLog = process.env.EVENTS_LOG;

function handle(event) {
  const data = event.data;
  if (event.type === "session.revoked") {
    // Access tokens carry `sid`: refuse those of this session from now on
    // (until they expire, at most [jwt] access_ttl away).
    revokedSessions.add(data.sid);
  } else if (event.type === "user.deleted") {
    // delete what this service keeps about data.user_id
  } else if (event.type === "user.created") {
    // create this service's row for data.user
  }
}

http
  .createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let event;
      try {
        event = webhook.verify(body, req.headers);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const id = req.headers["webhook-id"];
      if (!seen.has(id)) {
        seen.add(id);
        handle(event);
        if (eventsLog) appendFileSync(eventsLog, JSON.stringify({ id, event }) + "\n");
      }
      res.writeHead(204).end();
    });
  })
  .listen(Number(process.argv[2]), "127.0.0.1");
