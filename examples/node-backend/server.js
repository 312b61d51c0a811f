'use strict';
// A WhatsApp Flows backend in Node.js behind waflow.
//
// waflow keeps the protocol (RSA/AES, Meta's signature, flow tokens, the
// checks of submitted values and of every answer) and POSTs each request
// here as plain JSON, signed the Standard Webhooks way. This server checks
// that signature with the standardwebhooks package, then answers with the
// JSON it would give Meta: a screen and its data, the same screen with
// field errors, or SUCCESS. docs/forwarding.md has the whole contract.
//
// It also receives waflow's events at /events (a completed flow, a booking,
// a flow's health alert, a message that could not be sent: docs/events.md),
// signed the same way with the subscription's secret, and acts on each
// webhook-id once.
//
// Environment: TABLE_BOOKING_SECRET (the whsec_ secret waflow signs with,
// required), EVENTS_SECRET (the whsec_ secret of the events subscription;
// without it /events answers 404), PORT (8081; 0 picks a free one), HOST
// (127.0.0.1).

const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const secret = process.env.TABLE_BOOKING_SECRET;
if (!secret || !secret.startsWith('whsec_')) {
  console.error('set TABLE_BOOKING_SECRET to the whsec_ secret waflow signs with');
  process.exit(2);
}
const webhook = new Webhook(secret);
const eventsSecret = process.env.EVENTS_SECRET;
if (eventsSecret && !eventsSecret.startsWith('whsec_')) {
  console.error('EVENTS_SECRET must be the whsec_ secret of the events subscription');
  process.exit(2);
}
const eventsWebhook = eventsSecret ? new Webhook(eventsSecret) : null;
// The webhook-ids acted on: waflow delivers at least once, with the same id.
const seenEvents = new Set();
const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST || '127.0.0.1';
const maxBody = 1 << 20;

// Tonight's times and how many tables each has; bookings live in memory.
const times = ['18:00', '18:30', '19:00', '19:30', '20:00', '20:30'];
const tablesPerTime = 2;
const booked = new Map();
let nextBooking = 1;

const left = (time) => tablesPerTime - (booked.get(time) ?? 0);

// The PICK screen's data: the dropdown's options come from here, so they
// change as tables are booked (a dynamic data-source).
function pickData(errors = {}) {
  return {
    slots: times.filter((t) => left(t) > 0).map((t) => ({ id: t, title: `${t} (${left(t)} left)` })),
    slot_error: errors.slot ?? '',
    name_error: errors.name ?? '',
  };
}

// answer returns [status, body] for one forwarded request.
function answer(req) {
  const data = req.data ?? {};
  if (req.action === 'INIT' || req.action === 'BACK') {
    return [200, { screen: 'PICK', data: pickData() }];
  }
  if (req.action === 'data_exchange' && req.screen === 'PICK') {
    // Field errors: rules the phone cannot check, shown under each field
    // through the components' error-message (${data.slot_error}, ...).
    const errors = {};
    if (!times.includes(data.slot) || left(data.slot) <= 0) errors.slot = 'Just taken, pick another time';
    if (typeof data.name !== 'string' || !/\S+\s+\S+/.test(data.name)) errors.name = 'Please give your full name';
    if (Object.keys(errors).length > 0) {
      return [200, { screen: 'PICK', data: { ...pickData(errors), error_message: 'Please check the form' } }];
    }
    const name = data.name.trim();
    return [200, { screen: 'CONFIRM', data: { summary: `A table at ${data.slot} for ${name}`, slot: data.slot, name } }];
  }
  if (req.action === 'data_exchange' && req.screen === 'CONFIRM') {
    if (left(data.slot) <= 0) {
      return [200, { screen: 'CONFIRM', data: { summary: 'That time was just taken: go back and pick another.', slot: data.slot, name: data.name, error_message: 'Just taken' } }];
    }
    booked.set(data.slot, (booked.get(data.slot) ?? 0) + 1);
    const bookingId = `TB-${nextBooking++}`;
    return [200, { screen: 'SUCCESS', data: { extension_message_response: { params: {
      flow_token: req.flow_token, booking_id: bookingId, slot: data.slot, name: data.name,
    } } } }];
  }
  return [400, { error: `no answer for ${req.action} on ${req.screen || '(no screen)'}` }];
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// receiveEvent checks an event's signature and acts on it once.
function receiveEvent(req, res, body) {
  let event;
  try {
    event = eventsWebhook.verify(body, req.headers);
  } catch (err) {
    console.log(`refused an unsigned or forged event: ${err.message}`);
    send(res, 401, { error: 'bad signature' });
    return;
  }
  const id = req.headers['webhook-id'];
  if (seenEvents.has(id)) {
    console.log(`event ${id} ${event.type} again: already handled`);
    res.writeHead(204).end();
    return;
  }
  seenEvents.add(id);
  // Act on it here: update the CRM, send an e-mail... Logged without its data.
  console.log(`event ${id} ${event.type} received`);
  res.writeHead(204).end();
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    send(res, 200, { status: 'ok' });
    return;
  }
  const isEvent = req.url === '/events';
  if (isEvent && !eventsWebhook) {
    send(res, 404, { error: 'events are not configured: set EVENTS_SECRET' });
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, { error: 'POST only' });
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > maxBody) {
      send(res, 413, { error: 'body too large' });
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    const body = Buffer.concat(chunks);
    if (isEvent) {
      receiveEvent(req, res, body);
      return;
    }
    let forwarded;
    try {
      // Checks webhook-id, webhook-timestamp (5 minutes either way) and
      // webhook-signature over the raw body, then parses it.
      forwarded = webhook.verify(body, req.headers);
    } catch (err) {
      console.log(`refused an unsigned or forged request: ${err.message}`);
      send(res, 401, { error: 'bad signature' });
      return;
    }
    const [status, reply] = answer(forwarded);
    // One line per request, without the values the user entered.
    console.log(`${forwarded.id} ${forwarded.action} ${forwarded.screen || '-'} -> ${status} ${reply.screen ?? ''}`);
    send(res, status, reply);
  });
});

server.listen(port, host, () => {
  const addr = server.address();
  console.log(`listening on http://${addr.address}:${addr.port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
