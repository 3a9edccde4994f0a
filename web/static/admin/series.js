// Outreach series editor: live counters for subjects and preheaders, the live preview (the form posted, unsaved, to
// the preview frames as staff type), and the source choice on the new-campaign page. No inline script (CSP).
(function () {
  "use strict";

  // Counters: "48 / 60"; past the warning limit the inbox cuts it (a warning), past the maximum it is refused.
  document.querySelectorAll(".counter[data-for]").forEach(function (counter) {
    var input = document.getElementById(counter.dataset.for);
    if (!input) { return; }
    var warn = +counter.dataset.warn, most = +counter.dataset.max;
    function update() {
      var n = input.value.length;
      counter.textContent = n + " / " + warn + (n > warn ? (n > most ? " (too long)" : " (inboxes cut it)") : "");
      counter.classList.toggle("warn", n > warn && n <= most);
      counter.classList.toggle("over", n > most);
    }
    input.addEventListener("input", update);
    update();
  });

  // Live preview: post the form as it stands to the three frames, a moment after the typing stops.
  var form = document.getElementById("series-form");
  var buttons = ["preview", "preview-375", "preview-text"].map(function (id) { return document.getElementById(id); });
  if (form && buttons[0] && form.requestSubmit) {
    var timer = null;
    var state = document.getElementById("preview-state");
    // One submission at a time: a form's second submission in the same task cancels the first one's navigation.
    var refresh = function () {
      buttons.forEach(function (b, i) { if (b) { setTimeout(function () { form.requestSubmit(b); }, i * 60); } });
      if (state) { state.textContent = "Preview of what you typed (not saved yet)."; }
    };
    buttons[0].addEventListener("click", function (event) {
      event.preventDefault();
      refresh();
    });
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 700);
    });
    var pick = document.getElementById("preview-email");
    if (pick) { pick.addEventListener("change", refresh); }
    refresh();
  }

  // New campaign: show only the fields of the chosen source.
  var radios = document.querySelectorAll("input[name=source]");
  if (radios.length) {
    var show = function () {
      var chosen = document.querySelector("input[name=source]:checked");
      document.querySelectorAll(".source-panel").forEach(function (panel) {
        panel.hidden = !chosen || panel.dataset.source !== chosen.value;
      });
    };
    radios.forEach(function (r) { r.addEventListener("change", show); });
    show();
  }
})();
