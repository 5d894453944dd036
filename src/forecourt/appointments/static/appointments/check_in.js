// The dealer's check-in scanner: camera frames → canvas → jsQR. The page only checks that a code
// looks like an appointment payload; the server verifies its signature and decides.
(function () {
  "use strict";
  const section = document.getElementById("scanner");
  if (!section) return;
  const video = document.getElementById("scanner-video");
  const canvas = document.getElementById("scanner-canvas");
  const status = document.getElementById("scanner-status");
  const startButton = document.getElementById("scanner-start");
  const form = document.getElementById("check-in-scan-form");
  const payloadInput = document.getElementById("check-in-payload");
  const pattern = new RegExp(section.dataset.pattern);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let stream = null;
  let pausedUntil = 0;
  let lastPayload = "";
  let lastSentAt = 0;

  function say(text) { status.textContent = text; }

  function submit(payload) {
    payloadInput.value = payload;
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

  // A decoded QR code: only the format is checked here; the server verifies the signature and decides.
  function accept(data) {
    const text = String(data).trim();
    if (!pattern.test(text)) {
      say(section.dataset.notOurs);
      pausedUntil = Date.now() + 1500;
      return false;
    }
    // The same code held in front of the camera is sent once, not thirty times a second.
    if (text === lastPayload && Date.now() - lastSentAt < 8000) return false;
    lastPayload = text;
    lastSentAt = Date.now();
    pausedUntil = Date.now() + 3000;
    submit(text);
    return true;
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

  startButton.addEventListener("click", start);
  // The browser test feeds decoded frames through the same path as the camera.
  window.forecourtScanner = { accept: accept };
  window.addEventListener("pagehide", function () {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
  });
})();
