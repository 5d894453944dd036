// The write-off scanner: camera frames → canvas → jsQR. A voucher QR (FCV1.…) is signed with ECDSA
// P-256: the page checks the signature with WebCrypto and the public key embedded in the page, and flags
// a forged or altered code at once. The server checks it again and is the only judge.
(function () {
  "use strict";
  const section = document.getElementById("scanner");
  if (!section) return;
  const video = document.getElementById("scanner-video");
  const canvas = document.getElementById("scanner-canvas");
  const status = document.getElementById("scanner-status");
  const startButton = document.getElementById("scanner-start");
  const form = document.getElementById("writeoff-lookup-form");
  const codeInput = document.getElementById("writeoff-code");
  const keyElement = document.getElementById("voucher-verification-key");
  const pattern = new RegExp(section.dataset.pattern);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const subtle = window.crypto && window.crypto.subtle ? window.crypto.subtle : null;
  let keyPromise = null;
  let stream = null;
  let pausedUntil = 0;
  let lastPayload = "";
  let lastSentAt = 0;

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

  function tick() {
    if (!stream) return;
    if (video.readyState === video.HAVE_ENOUGH_DATA && Date.now() >= pausedUntil) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR ? window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" }) : null;
      if (found && found.data) accept(found.data);
    }
    window.requestAnimationFrame(tick);
  }

  // A decoded QR code: check its shape and signature here, then ask the server.
  async function accept(data) {
    const text = String(data).trim();
    if (!pattern.test(text)) {
      say(section.dataset.notOurs, "forged");
      pausedUntil = Date.now() + 1500;
      return "not-ours";
    }
    // The same code held in front of the camera is sent once, not thirty times a second.
    if (text === lastPayload && Date.now() - lastSentAt < 8000) return "repeat";
    lastPayload = text;
    lastSentAt = Date.now();
    pausedUntil = Date.now() + 3000;
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

  async function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say(section.dataset.noCamera);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (error) {
      say(section.dataset.denied);
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    startButton.hidden = true;
    await video.play();
    say(section.dataset.scanning);
    window.requestAnimationFrame(tick);
  }

  // A payload pasted or typed into the box (a hand-held scanner types it) is checked the same way.
  form.addEventListener("htmx:confirm", function (event) {
    const text = codeInput.value.trim();
    if (!text.startsWith("FCV1.") || text === lastPayload) return;
    event.preventDefault();
    accept(text);
  });

  startButton.addEventListener("click", start);
  if (!subtle) say(section.dataset.noCrypto);
  // The browser test feeds decoded frames through the same path as the camera.
  window.forecourtScanner = { accept: accept };
  window.addEventListener("pagehide", function () {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
  });
})();
