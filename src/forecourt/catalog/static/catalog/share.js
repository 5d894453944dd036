// Copy the share link: the Clipboard API where allowed, selecting the text otherwise.
document.addEventListener("click", function (event) {
  var button = event.target.closest("#copy-share-link");
  if (!button) return;
  var input = document.getElementById("share-link");
  var done = function () {
    button.dataset.label = button.dataset.label || button.textContent;
    button.textContent = button.dataset.copied;
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
