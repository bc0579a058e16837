/* Help-center locations: "Use my location" asks the browser for its position and submits the
   search form with it (near=lat,lng). Without JavaScript the button stays hidden and the
   form searches by a typed city or postcode. Nothing is loaded from another site. */
(function () {
  "use strict";
  var button = document.getElementById("use-my-location");
  var form = document.getElementById("location-search");
  if (!button || !form || !("geolocation" in navigator)) { return; }
  var near = document.getElementById("id_near");
  var place = document.getElementById("id_place");
  var status = document.getElementById("geo-status");
  var label = button.textContent;
  button.hidden = false;

  // A typed city replaces the device's position.
  if (place) {
    place.addEventListener("input", function () { if (near) { near.value = ""; } });
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (status) { status.textContent = button.getAttribute("data-label-busy") || ""; }
    navigator.geolocation.getCurrentPosition(function (position) {
      near.value = position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
      if (place) { place.value = ""; }
      form.submit();
    }, function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
      if (status) { status.textContent = button.getAttribute("data-label-denied") || ""; }
      if (place) { place.focus(); }
    }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
  });
})();
