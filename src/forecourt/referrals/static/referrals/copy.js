// Copy a broker link: the Clipboard API where allowed, selecting the text otherwise.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) return;
  var input = document.getElementById(button.dataset.copyTarget);
  if (!input) return;
  var done = function () {
    button.dataset.label = button.dataset.label || button.textContent;
    button.textContent = button.dataset.copied;
    button.setAttribute("data-done", "");
    setTimeout(function () { button.textContent = button.dataset.label; }, 2000);
  };
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});
