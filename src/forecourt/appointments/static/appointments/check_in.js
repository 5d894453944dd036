// The dealer's check-in scanner on the shared camera scanner (web/qr_camera.js). The page only checks
// that a code looks like an appointment payload; the server verifies its signature and decides.
(function () {
  "use strict";
  const section = document.getElementById("scanner");
  if (!section) return;
  const status = document.getElementById("scanner-status");
  const form = document.getElementById("check-in-scan-form");
  const payloadInput = document.getElementById("check-in-payload");

  function say(text) { status.textContent = text; }

  function submit(payload) {
    payloadInput.value = payload;
    if (window.htmx) {
      window.htmx.trigger(form, "submit");
    } else {
      form.submit();
    }
    return true;
  }

  const camera = window.ForecourtQrCamera.attach({
    section: section,
    say: say,
    onText: submit,
    onRejected: function (reason) {
      if (reason === "not-ours") say(section.dataset.notOurs);
      return false;
    },
  });

  // The browser test feeds decoded frames through the same path as the camera.
  window.forecourtScanner = { accept: camera.accept };
})();
