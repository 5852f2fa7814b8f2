// Visitor counter: POST once per page load, show the count; on any failure stay hidden.
(function () {
  "use strict";
  var box = document.querySelector("[data-count-url]");
  var output = box && box.querySelector("output");
  if (!output || !window.fetch) return;

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
    .then(function (data) {
      var count = data && data.count;
      if (!Number.isSafeInteger(count) || count < 0) throw new Error("bad count");
      output.textContent = count.toLocaleString(document.documentElement.lang || undefined);
      box.hidden = false;
    })
    .catch(function () {
      // The page reads fine without the count: leave it hidden.
    });
})();
