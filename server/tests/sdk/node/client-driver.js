'use strict';
// npm `authy-client` 1.1.4 against the server: every Client method. The library itself asserts
// the shape and types of each answer (an AssertionFailedError names the field), so "ok" here
// means the library accepted the answer and the values are the expected ones.

const { Client } = require('authy-client');

const VERIFY_PHONE = '351-338-9313';
const VERIFY_RECIPIENT = '+543513389313';
const OWN_PHONE = '351-338-9314';

function describe(error) {
  if (!error) return 'no error';
  const fields = { name: error.name, message: error.message, code: error.code, body: error.body, errors: error.errors };
  return JSON.stringify(fields);
}

/** Awaits `promise`; a rejection is returned as `{ error }` so that refusals can be checked. */
async function settle(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

async function users(client, h) {
  const created = await settle(client.registerUser({ countryCode: '54', email: h.EMAIL, phone: h.PHONE }));
  const id = created.value && created.value.user.id;
  h.check('authy-client registerUser', Number.isInteger(id), describe(created.error));
  const iso = await settle(client.registerUser({ countryCode: 'AR', email: h.EMAIL, phone: h.PHONE }));
  h.check('authy-client registerUser (ISO country)', iso.value && iso.value.user.id === id, describe(iso.error));
  const status = await settle(client.getUserStatus({ authyId: id }));
  h.check('authy-client getUserStatus', status.value && status.value.status.authy_id === id, describe(status.error));
  const activity = await settle(client.registerActivity({ authyId: id, data: { reason: 'foo' }, type: 'banned' }, { ip: '127.0.0.1' }));
  h.check('authy-client registerActivity', Boolean(activity.value), describe(activity.error));
  return id;
}

async function tokens(client, h, id) {
  const sms = await settle(client.requestSms({ authyId: id }, { force: true }));
  h.check('authy-client requestSms', Boolean(sms.value), describe(sms.error));
  const code = h.lastCode(h.RECIPIENT);
  const verified = await settle(client.verifyToken({ authyId: id, token: code }));
  h.check('authy-client verifyToken', verified.value && verified.value.token === 'is valid', describe(verified.error));
  const wrong = String((Number(code) + 1) % 1e7).padStart(7, '0');
  const refused = await settle(client.verifyToken({ authyId: id, token: wrong }, { force: true }));
  h.check('authy-client verifyToken(force) wrong code', refused.error && refused.error.code === 401
    && refused.error.body && refused.error.body.error_code === '60020', describe(refused.error));
  const voice = await settle(client.requestCall({ authyId: id }, { force: true }));
  h.check('authy-client requestCall', Boolean(voice.value), describe(voice.error));
}

async function phones(client, h) {
  const start = await settle(client.startPhoneVerification({ countryCode: '54', phone: VERIFY_PHONE, via: 'sms' }, { codeLength: 6 }));
  h.check('authy-client startPhoneVerification', Boolean(start.value), describe(start.error));
  const code = h.lastCode(VERIFY_RECIPIENT);
  const verified = await settle(client.verifyPhone({ countryCode: '54', phone: VERIFY_PHONE, token: code }));
  h.check('authy-client verifyPhone', Boolean(verified.value), describe(verified.error));
  const info = await settle(client.getPhoneInformation({ countryCode: '54', phone: VERIFY_PHONE }, { ip: '10.0.0.1' }));
  h.check('authy-client getPhoneInformation', Boolean(info.value), describe(info.error));
}

async function application(client, h) {
  const details = await settle(client.getApplicationDetails());
  h.check('authy-client getApplicationDetails', details.value && details.value.app.name === 'Gringotts', describe(details.error));
  const stats = await settle(client.getApplicationStatistics());
  h.check('authy-client getApplicationStatistics', stats.value && Array.isArray(stats.value.stats), describe(stats.error));
}

async function oneTouch(client, h, id) {
  const created = await settle(client.createApprovalRequest({
    authyId: id,
    message: 'Approve payment',
    details: { visible: { Amount: '713.00 EUR' }, hidden: { ip: '10.0.0.1' } },
    logos: [{ res: 'default', url: 'https://gringotts.example/logo.png' }],
  }, { ttl: 120 }));
  const uuid = created.value && created.value.approval_request.uuid;
  h.check('authy-client createApprovalRequest', Boolean(uuid), describe(created.error));
  if (!uuid) return;
  const callback = await h.nextCallback(uuid);
  h.check('authy-client approval callback arrives', Boolean(callback), 'none within 20 s');
  const status = await settle(client.getApprovalRequest({ id: uuid }));
  h.check('authy-client getApprovalRequest', status.value && status.value.approval_request.status === 'approved', describe(status.error));
  if (!callback) return;
  // The callback URL is registered as plain http on the test's own listener, whatever the API speaks.
  const request = { body: callback.body, headers: callback.headers, method: callback.method, protocol: 'http', url: callback.url };
  const valid = await settle(client.verifyCallback(request));
  h.check('authy-client verifyCallback', Boolean(valid.value), describe(valid.error));
  const forged = { ...request, body: { ...callback.body, status: 'denied' } };
  const tampered = await settle(client.verifyCallback(forged));
  h.check('authy-client verifyCallback rejects a tampered body', Boolean(tampered.error), 'accepted');
  await denial(client, h, id);
}

/** A request the device denies: its callback validates too. */
async function denial(client, h, id) {
  const created = await settle(client.createApprovalRequest({ authyId: id, message: 'Deny payment' }));
  const uuid = created.value && created.value.approval_request.uuid;
  h.check('authy-client createApprovalRequest (to be denied)', Boolean(uuid), describe(created.error));
  const callback = uuid && await h.nextCallback(uuid);
  h.check('authy-client denial callback arrives', Boolean(callback), 'none within 20 s');
  if (!callback) return;
  const request = { body: callback.body, headers: callback.headers, method: callback.method, protocol: 'http', url: callback.url };
  const valid = await settle(client.verifyCallback(request));
  h.check('authy-client verifyCallback (denied)', Boolean(valid.value) && callback.body.status === 'denied', describe(valid.error));
}

async function run(h, { baseUrl, apiKey }) {
  const client = new Client({ key: apiKey }, { host: baseUrl, timeout: 10000 });
  let id = null;
  await h.step('authy-client registerUser', async () => { id = await users(client, h); });
  if (!Number.isInteger(id)) return;
  await h.step('authy-client verifyToken', () => tokens(client, h, id));
  await h.step('authy-client verifyPhone', () => phones(client, h));
  await h.step('authy-client application', () => application(client, h));
  await h.step('authy-client createApprovalRequest', () => oneTouch(client, h, id));
  await h.step('authy-client deleteUser', () => deletion(client, h));
}

/** Deletes a user of its own: the shared one is still needed by the other library. */
async function deletion(client, h) {
  const created = await settle(client.registerUser({ countryCode: 'AR', email: 'ginny@hogwarts.example', phone: OWN_PHONE }));
  const id = created.value && created.value.user.id;
  h.check('authy-client registerUser (a second user)', Number.isInteger(id), describe(created.error));
  const deleted = await settle(client.deleteUser({ authyId: id }));
  h.check('authy-client deleteUser', Boolean(deleted.value), describe(deleted.error));
  const gone = await settle(client.getUserStatus({ authyId: id }));
  h.check('authy-client getUserStatus after deleteUser', gone.error && gone.error.code === 404, describe(gone.error));
}

module.exports = { run };
