// Outreach admin: times in the staff member's own zone (the browser's), with the UTC they mean beside them.
// The server works in UTC; without this script the pages simply show UTC, and the start picker says "(UTC)".
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  var local = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit"
  });
  var utc = new Intl.DateTimeFormat("en-GB", {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    timeZone: "UTC"
  });

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function pickerValue(d) {  // what <input type=datetime-local> takes, on this browser's clock
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function bothZones(d) { return local.format(d) + " your time (" + utc.format(d) + " UTC)"; }

  // <time datetime="...Z" data-local>: the staff member's time first, UTC beside it.
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) { el.textContent = bothZones(d); el.title = zone; }
  });

  // The start picker: shown and typed on the staff member's clock; the zone goes with the form.
  var input = document.getElementById("start");
  var tz = document.getElementById("start-tz");
  if (!input || !tz) { return; }
  if (input.dataset.utc) {  // the server's suggestion, in UTC: move it onto this clock
    var suggested = new Date(input.dataset.utc);
    if (!isNaN(suggested)) { input.value = pickerValue(suggested); }
    tz.value = zone;
  } else if (tz.value !== zone) {
    return;  // a refused form typed in another zone: leave what was typed as it was
  }
  var label = document.getElementById("start-zone");
  if (label) { label.textContent = "(your time, " + zone.replace(/_/g, " ") + ")"; }
  var said = document.getElementById("start-utc");
  function explain() {
    var d = new Date(input.value);  // a datetime-local value without a zone reads as this clock's time
    if (said) { said.textContent = isNaN(d) ? "" : "That is " + utc.format(d) + " UTC."; }
  }
  input.addEventListener("input", explain);
  explain();
})();
