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
  if (!known) {  // e.g. a legacy alias such as Asia/Calcutta: the server accepts every zoneinfo name
    var option = document.createElement("option");
    option.value = guess;
    option.textContent = guess;
    select.appendChild(option);
  }
  select.value = guess;
  var note = document.getElementById("timezone-guessed");
  if (note) { note.hidden = false; }
})();
