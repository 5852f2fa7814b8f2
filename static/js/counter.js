// Visitor counter: POST once per page view, show the count; on any failure stay hidden.
// The API answers {"count": N, "counted": true|false}: N is the page's total views (every day's,
// not unique visitors), shown as "1,234 views" ("1 view"), whether or not this view was counted
// (a reload past the per-minute limit still sees the total).
// Errors are {"error": {"code": ..., "message": ...}} and leave the count hidden.
// The body says where the view came from: the referring site's host name (never its full
// address) and the page address's campaign tag (?ref=acme or utm_source=acme); the server keeps
// only the site's registrable domain and a short tag, and counts anything else as "other".
(function () {
  "use strict";
  var box = document.querySelector("[data-count-url]");
  var output = box && box.querySelector("output");
  var unit = box && box.querySelector("[data-one]");
  if (!output || !window.fetch) return;

  function show(data) {
    var count = data && data.count;
    if (!Number.isSafeInteger(count) || count < 0 || typeof data.counted !== "boolean") {
      throw new Error("unexpected answer");
    }
    output.textContent = count.toLocaleString(document.documentElement.lang || undefined);
    if (unit) unit.textContent = count === 1 ? unit.dataset.one : unit.dataset.other;
    box.hidden = false;
  }

  // Each field is cut well within the API's 1 KiB body limit.
  function origin() {
    var host = "";
    try {
      host = document.referrer ? new URL(document.referrer).hostname : "";
    } catch (error) {
      host = "";
    }
    var query = new URLSearchParams(window.location.search);
    var tag = query.get("ref") || query.get("utm_source") || "";
    return JSON.stringify({ referrer: host.slice(0, 253), campaign: tag.slice(0, 100) });
  }

  function countView() {
    var options = {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: origin(),
      credentials: "same-origin",
    };
    if (window.AbortSignal && AbortSignal.timeout) options.signal = AbortSignal.timeout(5000);
    fetch(box.dataset.countUrl, options)
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(show)
      .catch(function () {
        // The page reads fine without the count: leave it hidden.
      });
  }

  // A prerendered page is a guess by the browser, not a view: count it when it is shown.
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", countView, { once: true });
  } else {
    countView();
  }
})();
