// Visitor counter: POST once per page view, show the count; on any failure stay hidden.
// The API answers {"count": N, "counted": true|false}: the count is shown either way (a view
// that was not counted, such as a reload past the per-minute limit, still sees the total).
// Errors are {"error": {"code": ..., "message": ...}} and leave the count hidden.
(function () {
  "use strict";
  var box = document.querySelector("[data-count-url]");
  var output = box && box.querySelector("output");
  if (!output || !window.fetch) return;

  function show(data) {
    var count = data && data.count;
    if (!Number.isSafeInteger(count) || count < 0 || typeof data.counted !== "boolean") {
      throw new Error("unexpected answer");
    }
    output.textContent = count.toLocaleString(document.documentElement.lang || undefined);
    box.hidden = false;
  }

  function countView() {
    var options = {
      method: "POST",
      headers: { Accept: "application/json" },
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
