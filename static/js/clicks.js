// Which of the resume's links visitors follow: the e-mail address, the phone number, each
// profile, the website and the PDF's downloads carry a label (data-click); following one sends
// {"link": "<label>"} to the site's API, which counts it for the day and stores nothing else.
// The script only listens: it never stops, delays or changes the link's own action, and the
// report is fire-and-forget (navigator.sendBeacon, else fetch with keepalive), so a link works
// the same with this script blocked, slow or failing.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.clickUrl;
  if (!url || !window.Blob) return;

  function send(label) {
    var body = JSON.stringify({ link: label });
    try {
      var type = { type: "application/json" };
      if (navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], type))) return;
    } catch (error) {
      // A browser that refuses this beacon: fetch below.
    }
    if (!window.fetch) return;
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: body,
      credentials: "same-origin",
      keepalive: true,
    }).catch(function () {
      // Not counted; the link went on all the same.
    });
  }

  // A click, a tap, Enter on a focused link, or a middle click (a new tab).
  function followed(event) {
    if (event.type === "auxclick" && event.button !== 1) return;
    try {
      var link = event.target instanceof Element && event.target.closest("a[data-click]");
      if (link) send(link.dataset.click);
    } catch (error) {
      // Never in the link's way.
    }
  }

  var listening = { capture: true, passive: true };
  document.addEventListener("click", followed, listening);
  document.addEventListener("auxclick", followed, listening);
})();
