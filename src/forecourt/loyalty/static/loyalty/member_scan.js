// The dealer's member-card scanner on the shared camera scanner (web/qr_camera.js). The page only checks
// that a code looks like a member card; the server verifies its signature and age and decides.
(function () {
  "use strict";
  const section = document.getElementById("scanner");
  if (!section) return;
  const status = document.getElementById("scanner-status");
  const form = document.getElementById("member-scan-form");
  const codeInput = document.getElementById("member-scan-code");

  function say(text) { status.textContent = text; }

  function submit(code) {
    codeInput.value = code;
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

  // A browser test feeds decoded frames through the same path as the camera.
  window.forecourtScanner = { accept: camera.accept };
})();
