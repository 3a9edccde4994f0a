/* Sign-up form: pre-select the visitor's time zone as the browser reports it. The field stays editable, and
   without JavaScript the server's default is simply kept. */
(function () {
  "use strict";
  var select = document.getElementById("timezone");
  if (!select || select.getAttribute("data-guess") !== "true") { return; }
  var guess;
  try { guess = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!guess) { return; }
  var known = false;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === guess) { known = true; break; }
  }
  if (!known) {  // an older name the list spells differently (Chromium says Asia/Calcutta): the server takes any
    var option = document.createElement("option");
    option.value = guess;
    option.textContent = offsetOf(guess) + guess.split("/").pop().replace(/_/g, " ") + " (from your device)";
    select.insertBefore(option, select.firstChild);
  }
  select.value = guess;
  var note = document.getElementById("timezone-guessed");
  if (note) { note.hidden = false; }

  function offsetOf(zone) {
    // "(UTC−05:00) ", as the server labels the listed zones; nothing if the browser cannot say.
    try {
      var parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" }).formatToParts(new Date());
      for (var j = 0; j < parts.length; j++) {
        if (parts[j].type === "timeZoneName") {
          return "(" + parts[j].value.replace("GMT", "UTC").replace("-", "\u2212") + ") ";
        }
      }
    } catch (e) { /* an old browser: the name alone */ }
    return "";
  }
})();
