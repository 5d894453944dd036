// The write-off scanner on the shared camera scanner (web/qr_camera.js). A voucher QR (FCV1.…) is
// signed with ECDSA P-256: the page checks the signature with WebCrypto and the public key embedded in
// the page, and flags a forged or altered code at once. The server checks it again and is the only judge.
(function () {
  "use strict";
  const section = document.getElementById("scanner");
  if (!section) return;
  const status = document.getElementById("scanner-status");
  const form = document.getElementById("writeoff-lookup-form");
  const codeInput = document.getElementById("writeoff-code");
  const keyElement = document.getElementById("voucher-verification-key");
  const subtle = window.crypto && window.crypto.subtle ? window.crypto.subtle : null;
  let keyPromise = null;

  function say(text, verdict) {
    status.textContent = text;
    if (verdict) status.dataset.verdict = verdict; else delete status.dataset.verdict;
  }

  function base64UrlBytes(text) {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function verificationKey() {
    if (!keyPromise) {
      const jwk = JSON.parse(keyElement.textContent);
      keyPromise = subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    }
    return keyPromise;
  }

  // true: genuine; false: forged or altered; null: this browser cannot tell (no WebCrypto on plain http).
  async function signatureGenuine(payload) {
    if (!subtle || !keyElement) return null;
    const cut = payload.lastIndexOf(".");
    const message = new TextEncoder().encode(payload.slice(0, cut));
    let signature;
    try {
      signature = base64UrlBytes(payload.slice(cut + 1));
    } catch (error) {
      return false;
    }
    if (signature.length !== 64) return false;
    try {
      const key = await verificationKey();
      return await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, message);
    } catch (error) {
      return null;
    }
  }

  function lookUp(text) {
    codeInput.value = text;
    if (window.htmx) {
      window.htmx.trigger(form, "submit");
    } else {
      form.submit();
    }
  }

  // A new code of the right shape: check its signature here, then ask the server.
  async function check(text) {
    const genuine = await signatureGenuine(text);
    if (genuine === false) {
      say(section.dataset.forged, "forged");
      document.getElementById("writeoff-result").textContent = "";
      return "forged";
    }
    say(genuine ? section.dataset.genuine : section.dataset.noCrypto, genuine ? "genuine" : null);
    lookUp(text);
    return genuine ? "genuine" : "unchecked";
  }

  const camera = window.ForecourtQrCamera.attach({
    section: section,
    say: say,
    onText: check,
    onRejected: function (reason) {
      if (reason === "not-ours") say(section.dataset.notOurs, "forged");
      return reason;
    },
  });

  // A payload pasted or typed into the box (a hand-held scanner types it) is checked the same way.
  form.addEventListener("htmx:confirm", function (event) {
    const text = codeInput.value.trim();
    if (!text.startsWith("FCV1.") || text === camera.lastText()) return;
    event.preventDefault();
    camera.accept(text);
  });

  if (!subtle) say(section.dataset.noCrypto);
  // The browser test feeds decoded frames through the same path as the camera.
  window.forecourtScanner = { accept: camera.accept };
})();
