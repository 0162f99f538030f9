// Runs the console's evidence.js (the file the page loads) under Node on what an approval
// page carries: {"jws", "jwk", "shown": {uuid, message, details, number}} on standard input.
// Prints the check's outcome as JSON: {"signature": bool, "matches": bool}.
"use strict";

const path = require("node:path");

// Node 18 (Debian 12) has WebCrypto but not yet as a global.
if (!globalThis.crypto) {
  globalThis.crypto = require("node:crypto").webcrypto;
}
const evidence = require(path.join(__dirname, "../../src/http/console/assets/evidence.js"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const page = JSON.parse(input);
  const outcome = await evidence.checkEvidence(page.jws, page.jwk, page.shown);
  process.stdout.write(JSON.stringify(outcome));
});
