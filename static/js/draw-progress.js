// The draws page, enhanced: while a draw runs, its status and progress bar follow the job every
// two seconds, and the page reloads once it has finished. Without this script the "Refresh"
// link beside the bar shows the same.
(function () {
  "use strict";

  var running = document.querySelectorAll("[data-draw-status]");

  function follow(status) {
    var bar = status.parentNode.querySelector("progress");
    if (!bar) {
      return;
    }
    fetch(status.getAttribute("data-draw-status"), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then(function (data) {
        if (data.status !== "running") {
          window.location.reload();
          return;
        }
        bar.max = data.total || 1;
        bar.value = data.done;
        status.textContent = data.label + (data.total ? " (" + data.done + " / " + data.total + ")" : "");
        window.setTimeout(function () { follow(status); }, 2000);
      })
      .catch(function () { /* the Refresh link still works */ });
  }

  Array.prototype.forEach.call(running, follow);
})();
