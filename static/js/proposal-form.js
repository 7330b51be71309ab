// The proposal form, enhanced: a live preview of each Markdown field, rendered by the server
// exactly as the proposal's page will show it, and the list of similar proposals refreshed as
// the title and summary change. Without this script the form still works: its "Preview"
// button renders the previews, and the similar list is computed when the page is served.
(function () {
  "use strict";

  var DELAY = 400; // milliseconds of quiet typing before asking the server

  var form = document.querySelector("form[data-preview-url]");
  if (!form || !window.fetch) {
    return;
  }
  var tokenInput = form.querySelector("input[name=csrf_token]");
  var previewError = form.getAttribute("data-preview-error") || "";

  function debounce(action) {
    var timer = null;
    return function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(action, DELAY);
    };
  }

  // Answers may come back out of order: only the latest request of a field may write.
  function latestOnly(send) {
    var current = 0;
    return function () {
      current += 1;
      var mine = current;
      return send().then(function (result) {
        if (mine !== current) {
          throw new Error("stale");
        }
        return result;
      });
    };
  }

  function livePreview(region) {
    var textarea = document.getElementById(region.getAttribute("data-preview-for"));
    var box = region.closest("[data-preview-box]");
    if (!textarea || !box) {
      return;
    }
    box.hidden = false;
    var request = latestOnly(function () {
      var headers = { Accept: "application/json" };
      if (tokenInput) {
        headers["X-CSRFToken"] = tokenInput.value;
      }
      return fetch(form.getAttribute("data-preview-url"), {
        method: "POST",
        headers: headers,
        body: new URLSearchParams({ text: textarea.value }),
        credentials: "same-origin",
      }).then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      });
    });
    var update = function () {
      request()
        .then(function (answer) {
          if (answer.ok) {
            // Sanitised by the server (raw HTML disabled, then nh3 with allow-lists).
            region.innerHTML = answer.data.html;
          } else {
            region.textContent = (answer.data.error && answer.data.error.message) || previewError;
          }
        })
        .catch(function (error) {
          if (error.message !== "stale") {
            region.textContent = previewError;
          }
        });
    };
    textarea.addEventListener("input", debounce(update));
    if (textarea.value && !region.innerHTML.trim()) {
      update();
    }
  }

  function similarList() {
    var list = document.getElementById("similar-list");
    var title = form.querySelector("[name=title]");
    var summary = form.querySelector("[name=summary]");
    if (!list || !title || !summary) {
      return;
    }
    var request = latestOnly(function () {
      var query = new URLSearchParams({ texte: title.value + " " + summary.value });
      var exclude = form.getAttribute("data-exclude");
      if (exclude) {
        query.set("exclude", exclude);
      }
      var url = form.getAttribute("data-similar-url") + "?" + query.toString();
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        // A redirect means the session has ended (the sign-in page): not a list to show.
        if (!response.ok || response.redirected) {
          throw new Error("similar proposals: " + response.status);
        }
        return response.text();
      });
    });
    var update = debounce(function () {
      request()
        .then(function (html) {
          list.innerHTML = html; // our own template's fragment, escaped by Jinja
        })
        .catch(function () {
          // Keep the list shown: it is a help, not part of the form.
        });
    });
    title.addEventListener("input", update);
    summary.addEventListener("input", update);
  }

  form.querySelectorAll("[data-preview-for]").forEach(livePreview);
  similarList();
})();
