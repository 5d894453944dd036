// The dealer finder: a city and a position are alternatives, so choosing one clears the other.
(function () {
  "use strict";
  var form = document.getElementById("dealer-finder");
  if (!form) return;
  var city = document.getElementById("city");
  var lat = document.getElementById("lat");
  var lng = document.getElementById("lng");
  var locate = document.getElementById("use-location");
  var status = document.getElementById("location-status");

  function say(message) {
    status.textContent = message || "";
    status.hidden = !message;
  }

  // Runs before the form's own change handler (HTMX), so the request already carries the city only.
  city.addEventListener("change", function () {
    lat.value = "";
    lng.value = "";
    say("");
  });

  if (!("geolocation" in navigator)) {
    locate.hidden = false;
    locate.addEventListener("click", function () { say(locate.dataset.unsupported); });
    return;
  }
  locate.hidden = false;
  locate.addEventListener("click", function () {
    say(locate.dataset.locating);
    locate.setAttribute("aria-busy", "true");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        locate.removeAttribute("aria-busy");
        say("");
        lat.value = position.coords.latitude.toFixed(6);
        lng.value = position.coords.longitude.toFixed(6);
        city.value = "";
        form.requestSubmit();
      },
      function () {
        locate.removeAttribute("aria-busy");
        say(locate.dataset.denied);
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
    );
  });
})();
