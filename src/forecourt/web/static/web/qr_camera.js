// The workspace's camera QR scanner, shared by the scanning pages: camera frames → canvas → jsQR.
// It checks only that a decoded text has the page's shape and sends the same code held in front of
// the camera once, not thirty times a second; the page decides what a code means. A scanner with a
// form of its own (web/includes/qr_scanner.html given `scan_url`) is attached here and sends each code to
// that form; a page that does more with a code (the write-off checks its signature) attaches itself:
//
//   const camera = window.ForecourtQrCamera.attach({
//     section,      // the scanner <section>: holds #scanner-video, #scanner-canvas and #scanner-start;
//                   // its data-pattern is the RegExp a code must match, data-no-camera, data-denied
//                   // and data-scanning the messages for starting the camera
//     say,          // function (text): shows a status line
//     onText,       // function (text): a new code; accept() returns what it returns
//     onRejected,   // function (reason): "not-ours" or "repeat"; accept() returns what it returns
//   });
//   camera.accept(text)   // a decoded text, from the camera or a browser test
//   camera.lastText()     // the last code handed to onText
//   camera.stop()         // stops the camera
(function () {
  "use strict";

  function attach(options) {
    const section = options.section;
    const video = section.querySelector("#scanner-video");
    const canvas = section.querySelector("#scanner-canvas");
    const startButton = section.querySelector("#scanner-start");
    const pattern = new RegExp(section.dataset.pattern);
    const messages = section.dataset;
    const say = options.say;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    let stream = null;
    let pausedUntil = 0;
    let lastText = "";
    let lastSentAt = 0;

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

    function accept(data) {
      const text = String(data).trim();
      if (!pattern.test(text)) {
        pausedUntil = Date.now() + 1500;
        return options.onRejected("not-ours");
      }
      // The same code held in front of the camera is sent once, not thirty times a second.
      if (text === lastText && Date.now() - lastSentAt < 8000) return options.onRejected("repeat");
      lastText = text;
      lastSentAt = Date.now();
      pausedUntil = Date.now() + 3000;
      return options.onText(text);
    }

    async function start() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        say(messages.noCamera);
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch (error) {
        say(messages.denied);
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      startButton.hidden = true;
      await video.play();
      say(messages.scanning);
      window.requestAnimationFrame(tick);
    }

    function stop() {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    }

    startButton.addEventListener("click", start);
    window.addEventListener("pagehide", stop);
    return { accept: accept, lastText: function () { return lastText; }, stop: stop };
  }

  // The scanner of web/includes/qr_scanner.html with a form of its own (#scanner-form) needs no script of
  // the page's: a code of the page's shape goes into #scanner-code and the form is sent (through htmx
  // when the page has it).
  function submitting(section, form) {
    const status = section.querySelector("#scanner-status");
    const codeInput = form.querySelector("#scanner-code");

    function say(text) { status.textContent = text; }

    const camera = attach({
      section: section,
      say: say,
      onText: function (text) {
        codeInput.value = text;
        if (window.htmx) {
          window.htmx.trigger(form, "submit");
        } else {
          form.submit();
        }
        return true;
      },
      onRejected: function (reason) {
        if (reason === "not-ours") say(section.dataset.notOurs);
        return false;
      },
    });
    // A browser test feeds decoded frames through the same path as the camera.
    window.forecourtScanner = { accept: camera.accept };
  }

  window.ForecourtQrCamera = { attach: attach };

  const section = document.getElementById("scanner");
  const form = section ? section.querySelector("#scanner-form") : null;
  if (form) submitting(section, form);
})();
