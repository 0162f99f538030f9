// Verifies an approval's signed evidence in the operator's browser, independently of the
// server: the device's answer is a JWS (ES256, docs/device-protocol.md) checked here with
// WebCrypto against the device's public key (a JWK the page carries), and the content hash it
// signs is recomputed from the message and details the page shows. The server's own verdict
// is printed next to it; this check is the one an operator can trust without trusting the
// server's code. Loaded as a static file (the console's CSP allows no inline script); under
// Node it exports its functions for the unit check instead of touching a document.
(function () {
  "use strict";

  var subtle = globalThis.crypto && globalThis.crypto.subtle;

  function base64UrlToBytes(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) {
      throw new Error("not base64url");
    }
    var standard = text.replace(/-/g, "+").replace(/_/g, "/");
    while (standard.length % 4 !== 0) {
      standard += "=";
    }
    var binary = atob(standard);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  // The protocol's enc(): NFC, UTF-8, every byte but A-Z a-z 0-9 - . _ ~ percent-encoded in
  // upper-case hex. encodeURIComponent leaves ! ' ( ) * alone, so those are encoded after.
  function enc(text) {
    return encodeURIComponent(text.normalize("NFC")).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }

  // "message=" enc(message) then "&" enc(key) "=" enc(value) per detail, in display order.
  function displayedContent(message, details) {
    var out = "message=" + enc(message);
    for (var i = 0; i < details.length; i++) {
      out += "&" + enc(details[i][0]) + "=" + enc(details[i][1]);
    }
    return out;
  }

  async function sha256Hex(text) {
    var digest = new Uint8Array(await subtle.digest("SHA-256", new TextEncoder().encode(text)));
    var hex = "";
    for (var i = 0; i < digest.length; i++) {
      hex += (digest[i] < 16 ? "0" : "") + digest[i].toString(16);
    }
    return hex;
  }

  // True when `jws` is a compact ES256 JWS signed by `jwk`; its payload (parsed) with it.
  // WebCrypto's ECDSA takes JOSE's raw r || s (64 bytes) as it is, so only its length is
  // checked; a DER signature would be refused.
  async function verifyJws(jws, jwk) {
    var parts = String(jws).split(".");
    if (parts.length !== 3) {
      return { valid: false, payload: null };
    }
    try {
      var header = JSON.parse(new TextDecoder().decode(base64UrlToBytes(parts[0])));
      var signature = base64UrlToBytes(parts[2]);
      if (header.alg !== "ES256" || signature.length !== 64) {
        return { valid: false, payload: null };
      }
      var key = await subtle.importKey(
        "jwk",
        { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"]
      );
      var signed = new TextEncoder().encode(parts[0] + "." + parts[1]);
      var valid = await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, signed);
      var payload = JSON.parse(new TextDecoder().decode(base64UrlToBytes(parts[1])));
      return { valid: valid, payload: valid ? payload : null };
    } catch (e) {
      return { valid: false, payload: null };
    }
  }

  // The whole check: `shown` is what the page displays ({uuid, message, details, number}).
  async function checkEvidence(jws, jwk, shown) {
    var result = await verifyJws(jws, jwk);
    if (!result.valid) {
      return { signature: false, matches: false };
    }
    var p = result.payload;
    var content = await sha256Hex(displayedContent(shown.message, shown.details));
    var matches =
      p.uuid === shown.uuid &&
      p.content_sha256 === content &&
      // As the server checks it: an approval carries the number shown; a denial needs none.
      (shown.number === null || p.decision !== "approve" || p.number === shown.number);
    return { signature: true, matches: matches };
  }

  function shownOnPage(doc, box) {
    var details = [];
    var rows = doc.querySelectorAll("[data-detail-key]");
    for (var i = 0; i < rows.length; i++) {
      var value = rows[i].querySelector("[data-detail-value]");
      details.push([rows[i].getAttribute("data-detail-key"), value ? value.textContent : ""]);
    }
    var message = doc.getElementById("shown-message");
    var number = doc.getElementById("shown-number");
    return {
      uuid: box.getAttribute("data-uuid"),
      message: message ? message.textContent : "",
      details: details,
      number: number ? Number(number.textContent) : null
    };
  }

  async function runInPage(doc) {
    var box = doc.getElementById("evidence");
    if (!box) {
      return;
    }
    var verdict = doc.getElementById("evidence-browser-verdict");
    var content = doc.getElementById("evidence-browser-content");
    var outcome = { signature: false, matches: false };
    try {
      var jwk = JSON.parse(box.getAttribute("data-jwk"));
      outcome = await checkEvidence(box.getAttribute("data-jws"), jwk, shownOnPage(doc, box));
    } catch (e) {
      outcome = { signature: false, matches: false };
    }
    verdict.textContent = outcome.signature ? "verified" : "NOT VALID";
    verdict.className = outcome.signature ? "good" : "bad";
    content.textContent = outcome.matches
      ? "the signed content matches what this page shows"
      : "the signed content does NOT match what this page shows";
    content.className = outcome.matches ? "good" : "bad";
    box.setAttribute("data-browser-checked", outcome.signature && outcome.matches ? "valid" : "invalid");
  }

  var api = {
    enc: enc,
    displayedContent: displayedContent,
    sha256Hex: sha256Hex,
    verifyJws: verifyJws,
    checkEvidence: checkEvidence
  };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  } else if (typeof document !== "undefined") {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () {
        runInPage(document);
      });
    } else {
      runInPage(document);
    }
  }
})();
