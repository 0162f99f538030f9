// Unit check of the console's in-page evidence verification (evidence.js) under Node, with
// WebCrypto (globalThis.crypto.subtle) and no browser, against the answer JWS of
// docs/device-protocol.md's test vectors: the valid answer verifies and matches the content
// it was made for; a tampered payload, a tampered signature, another key, other shown
// content or another request are each flagged.
// Run: node server/tests/console/evidence_check.js
"use strict";

const assert = require("node:assert/strict");
const path = require("node:path");

// Node 18 (Debian 12) has WebCrypto but not yet as a global.
if (!globalThis.crypto) {
  globalThis.crypto = require("node:crypto").webcrypto;
}
const { createPublicKey } = require("node:crypto");

const evidence = require(path.join(__dirname, "../../src/http/console/assets/evidence.js"));

const SPKI =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Z5A_4QCLi8maQa6elWKLxk8vGyDC1-n1F3o8KU1EYimQ";
const JWS =
  "eyJhbGciOiJFUzI1NiIsImtpZCI6IjciLCJ0eXAiOiJjb3VudGVyc2lnbi1hbnN3ZXIrandzIn0.eyJ2IjoxLCJ0eXAiOiJwYXltZW50LWFwcHJvdmFsIiwidXVpZCI6IjZmMmMzZjNlLTUyYTYtNGMzNi05YTU1LTNmNmIwZjFmOWQyMSIsIm5vbmNlIjoiOVQydVFtMHJWWXQxd3EzWjV4N2FCUSIsImRldmljZV9pZCI6NywiZGVjaXNpb24iOiJhcHByb3ZlIiwiY29udGVudF9zaGEyNTYiOiJjNTRiZjZlZDlkZGU0NTU2NmZkNmMyZWRmM2NkNjY5Yjc2MDU4MDM5MmFlMWY3NzQxNjhlYTYxYTVmNjA0YzhjIiwiaGlkZGVuX2RldGFpbHNfc2hhMjU2IjoiMTY0OTdlN2U3NWZhNWRmMGJkNTg3NDVkZDgyNzA2OGZmOWFlMmM2ZDkxZmY3NWEwNjNjMjFkNzAxNTI3N2RkZSIsImlhdCI6MTc5NTAwMDAwMH0.vClYdmqvOL0sLmhsSefZmgORIetaQ7KK13y9b2Bzq_90vkEyLsjnAvTCOv_icIvYKvelSK9NyY6ZnMvyilBdxg";
const SHOWN = {
  uuid: "6f2c3f3e-52a6-4c36-9a55-3f6b0f1f9d21",
  message: "Approve payment",
  details: [
    ["Amount", "713.00 EUR"],
    ["Payee", "Hermione Granger"],
  ],
  number: null,
};

// The JWK the server would put in the page, derived here by Node's own SPKI parser.
const jwk = createPublicKey({ key: Buffer.from(SPKI, "base64url"), format: "der", type: "spki" })
  .export({ format: "jwk" });

function flipLastChar(part) {
  const last = part[part.length - 1];
  return part.slice(0, -1) + (last === "A" ? "B" : "A");
}

async function main() {
  const [header, payload, signature] = JWS.split(".");

  assert.equal(
    evidence.displayedContent(SHOWN.message, SHOWN.details),
    "message=Approve%20payment&Amount=713.00%20EUR&Payee=Hermione%20Granger"
  );
  assert.equal(
    await evidence.sha256Hex(evidence.displayedContent(SHOWN.message, SHOWN.details)),
    "c54bf6ed9dde45566fd6c2edf3cd669b760580392ae1f774168ea61a5f604c8c"
  );
  // RFC 3986 unreserved only: the characters encodeURIComponent would leave alone are encoded.
  assert.equal(evidence.enc("a!b'c(d)e*f~g"), "a%21b%27c%28d%29e%2Af~g");
  // NFC first: a decomposed é signs the same as the composed one.
  assert.equal(evidence.enc("e\u0301"), "%C3%A9");

  assert.deepEqual(await evidence.checkEvidence(JWS, jwk, SHOWN), { signature: true, matches: true });

  const amountChanged = { ...SHOWN, details: [["Amount", "7.00 EUR"], SHOWN.details[1]] };
  assert.deepEqual(await evidence.checkEvidence(JWS, jwk, amountChanged), {
    signature: true,
    matches: false,
  });
  const otherRequest = { ...SHOWN, uuid: "00000000-0000-4000-8000-000000000000" };
  assert.deepEqual(await evidence.checkEvidence(JWS, jwk, otherRequest), {
    signature: true,
    matches: false,
  });
  // Number matching: the vector's approval carries no number, so a page showing one flags it.
  const withNumber = { ...SHOWN, number: 42 };
  assert.deepEqual(await evidence.checkEvidence(JWS, jwk, withNumber), {
    signature: true,
    matches: false,
  });

  // A payload edited to say "deny" (same length, re-encoded) no longer verifies.
  const edited = Buffer.from(
    Buffer.from(payload, "base64url").toString().replace('"approve"', '"deny!!!"')
  ).toString("base64url");
  const invalid = { signature: false, matches: false };
  assert.deepEqual(await evidence.checkEvidence([header, edited, signature].join("."), jwk, SHOWN), invalid);
  assert.deepEqual(
    await evidence.checkEvidence([header, payload, flipLastChar(signature)].join("."), jwk, SHOWN),
    invalid
  );
  // Another device's key.
  const other = (await crypto.subtle.exportKey(
    "jwk",
    (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"])).publicKey
  ));
  assert.deepEqual(await evidence.checkEvidence(JWS, other, SHOWN), invalid);
  // Malformed input is "not valid", never an exception.
  assert.deepEqual(await evidence.checkEvidence("not a jws", jwk, SHOWN), invalid);
  assert.deepEqual(await evidence.checkEvidence(header + ".." + signature, jwk, SHOWN), invalid);
  assert.deepEqual(await evidence.checkEvidence([header, payload, "AAAA"].join("."), jwk, SHOWN), invalid);
  const noneAlg = Buffer.from('{"alg":"none"}').toString("base64url");
  assert.deepEqual(await evidence.checkEvidence([noneAlg, payload, signature].join("."), jwk, SHOWN), invalid);

  console.log("evidence.js: all checks passed");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
