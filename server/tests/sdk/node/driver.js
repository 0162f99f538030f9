'use strict';
// Drives a running Countersign server through every method of the official Authy Node
// libraries, unchanged: npm `authy` 1.4.0 and `authy-client` 1.1.4 (which carries a callback
// validator). One line per call: `<library> <method> ok` or `<library> <method> FAILED <why>`.
//
//   node driver.js BASE_URL API_KEY CALLBACK_PORT CA_FILE|- OUTBOX_COMMAND...
//
// Over TLS the test CA reaches Node through NODE_EXTRA_CA_CERTS (set by the caller); the CA
// file argument only says that the server speaks TLS. A registered device (the Rust test's)
// approves every approval request whose message is "Approve payment" and denies "Deny payment".

const http = require('http');
const { execFileSync } = require('child_process');
const authy = require('authy');

const [baseUrl, apiKey, callbackPortText, caFile, ...outbox] = process.argv.slice(2);
const callbackPort = Number(callbackPortText);
const EMAIL = 'luna@hogwarts.example';
const PHONE = '351-338-9310';
const RECIPIENT = '+543513389310';
const VERIFY_PHONE = '351-338-9311';
const VERIFY_RECIPIENT = '+543513389311';
let passed = 0;
let failed = 0;
const callbacks = [];

function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`${name} ok`);
  } else {
    failed += 1;
    const text = typeof detail === 'string' ? detail : JSON.stringify(detail);
    // Long enough to name the field a library refused, short enough to read in a list.
    console.log(`${name} FAILED ${String(text).slice(0, 600)}`);
  }
}

/** Runs one step; an exception is that step's failure, not the run's end. */
async function step(name, body) {
  try {
    await body();
  } catch (error) {
    check(name, false, `threw ${error && (error.stack || JSON.stringify(error))}`);
  }
}

/** The code in the newest message the server's log sender delivered to `recipient`. */
function lastCode(recipient) {
  const messages = JSON.parse(execFileSync(outbox[0], outbox.slice(1)));
  const message = messages.reverse().find((m) => m.recipient === recipient);
  const digits = message ? message.text.match(/\d{4,10}/g) : null;
  return digits ? digits[digits.length - 1] : null;
}

function listen() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      callbacks.push({ headers: req.headers, url: req.url, method: req.method, body: JSON.parse(body) });
      res.writeHead(200);
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(callbackPort, '127.0.0.1', () => resolve(server)));
}

async function nextCallback(uuid) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const found = callbacks.find((c) => c.body.uuid === uuid);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

/** authy 1.4.0 answers through node callbacks: (err, res). */
function call(fn, ...args) {
  return new Promise((resolve) => fn(...args, (err, res) => resolve({ err, res })));
}

async function legacyUsers(api) {
  const created = await call(api.register_user.bind(api), EMAIL, PHONE, '54');
  check('authy register_user', !created.err && Number.isInteger(created.res.user.id), created.err);
  const defaulted = await call(api.register_user.bind(api), 'neville@hogwarts.example', '201-555-0123');
  check('authy register_user (default country 1)', !defaulted.err && defaulted.res.user.id > 0, defaulted.err);
  const noLink = await call(api.register_user.bind(api), 'neville@hogwarts.example', '201-555-0123', false);
  check('authy register_user (install link flag)', !noLink.err && noLink.res.user.id === defaulted.res.user.id, noLink.err);
  const full = await call(api.register_user.bind(api), EMAIL, PHONE, '54', false);
  check('authy register_user (all arguments)', !full.err && full.res.user.id === created.res.user.id, full.err);
  const bad = await call(api.register_user.bind(api), 'not-an-email', '12', '54');
  check('authy register_user invalid', bad.err && bad.err.errors && bad.err.errors.email === 'is invalid', bad);
  return created.res.user.id;
}

async function legacyTokens(api, id) {
  const sms = await call(api.request_sms.bind(api), id, true);
  check('authy request_sms(force)', !sms.err && sms.res.success === true && typeof sms.res.message === 'string', sms.err);
  const code = lastCode(RECIPIENT);
  check('authy request_sms delivers a 7-digit code', code && code.length === 7, code);
  // A new user must be verified with force (documented); after that, without.
  const verified = await call(api.verify.bind(api), id, code, true);
  check('authy verify(force)', !verified.err && verified.res.token === 'is valid', verified.err);
  const wrong = String((Number(code) + 1) % 1e7).padStart(7, '0');
  const refused = await call(api.verify.bind(api), id, wrong);
  check('authy verify wrong code', refused.err && refused.err.error_code === '60020', refused.err);
  const plain = await call(api.request_sms.bind(api), id);
  check('authy request_sms', !plain.err && plain.res.success === true, plain.err);
  const voice = await call(api.request_call.bind(api), id, true);
  check('authy request_call(force)', !voice.err && voice.res.success === true, voice.err);
  const voice2 = await call(api.request_call.bind(api), id);
  check('authy request_call', !voice2.err && voice2.res.success === true, voice2.err);
  const status = await call(api.user_status.bind(api), id);
  check('authy user_status', !status.err && status.res.status.authy_id === id
    && status.res.status.country_code === 54 && Array.isArray(status.res.status.devices), status.err);
}

async function legacyPhones(api) {
  const phones = api.phones();
  const start = await call(phones.verification_start, VERIFY_PHONE, '54', { via: 'sms', code_length: 6 });
  check('authy phones.verification_start', !start.err && start.res.success === true, start.err);
  const viaOnly = await call(phones.verification_start, '351-338-9312', '54', 'sms');
  check('authy phones.verification_start(via)', !viaOnly.err && viaOnly.res.success === true, viaOnly.err);
  const code = lastCode(VERIFY_RECIPIENT);
  const pending = await call(phones.verification_status, VERIFY_PHONE, '54');
  check('authy phones.verification_status', !pending.err && pending.res.status === 'pending', pending.err || pending.res);
  const wrong = await call(phones.verification_check, VERIFY_PHONE, '54', code === '000000' ? '111111' : '000000');
  check('authy phones.verification_check wrong code', wrong.err && wrong.err.error_code === '60022', wrong.err);
  const good = await call(phones.verification_check, VERIFY_PHONE, '54', code);
  check('authy phones.verification_check', !good.err && good.res.success === true, good.err);
  const info = await call(phones.info, VERIFY_PHONE, '54');
  check('authy phones.info', !info.err && info.res.success === true && typeof info.res.type === 'string', info.err);
}

async function legacyOneTouch(api, id) {
  const sent = await call(api.send_approval_request.bind(api), id,
    { message: 'Approve payment', details: { Amount: '713.00 EUR' }, seconds_to_expire: 120 },
    { ip: '10.0.0.1' }, [{ res: 'default', url: 'https://gringotts.example/logo.png' }]);
  const uuid = !sent.err && sent.res.approval_request && sent.res.approval_request.uuid;
  check('authy send_approval_request', uuid && sent.res.success === true, sent.err);
  if (!uuid) return;
  const callback = await nextCallback(uuid);
  check('authy approval callback arrives', callback && callback.body.status === 'approved', callback);
  const status = await call(api.check_approval_status.bind(api), uuid);
  check('authy check_approval_status', !status.err && status.res.approval_request.status === 'approved', status.err);
}

async function legacyDelete(api, id) {
  const deleted = await call(api.delete_user.bind(api), id);
  check('authy delete_user', !deleted.err && deleted.res.success === true, deleted.err);
  const gone = await call(api.user_status.bind(api), id);
  check('authy user_status after delete_user', Boolean(gone.err), gone.res);
}

/** Every call but deletion; returns the shared user's id (null when it could not be created). */
async function legacy(api) {
  let id = null;
  await step('authy register_user', async () => { id = await legacyUsers(api); });
  if (!id) return null;
  await step('authy verify', () => legacyTokens(api, id));
  await step('authy phones', () => legacyPhones(api));
  await step('authy send_approval_request', () => legacyOneTouch(api, id));
  return id;
}

async function main() {
  const server = await listen();
  const api = authy(apiKey, baseUrl);
  const id = await legacy(api);
  // authy-client works on the same user (the one with the approving device), so the user is
  // deleted only after both libraries ran; authy-client deletes a user of its own.
  const helpers = { check, step, lastCode, nextCallback, EMAIL, PHONE, RECIPIENT };
  await step('authy-client', () => require('./client-driver').run(helpers, { baseUrl, apiKey }));
  if (id) await step('authy delete_user', () => legacyDelete(api, id));
  server.close();
  console.log(`node (${caFile === '-' ? 'http' : 'https'}): ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
