// The synthesis workspace, enhanced: a "Select the whole group" button on each suggested group
// of similar proposals ticks its proposals in one click, and ticking a proposal in a group or
// in the list ticks it in the other, so that what is shown ticked is what is sent. Without this
// script every checkbox still works on its own (the server ignores a proposal sent twice).
(function () {
  "use strict";

  var form = document.getElementById("selection");
  if (!form) {
    return;
  }

  function boxesFor(value) {
    return document.querySelectorAll(
      "input[type=checkbox][form=selection][name=proposal_ids][value='" + value + "']"
    );
  }

  function setTicked(box, ticked) {
    Array.prototype.forEach.call(boxesFor(box.value), function (other) {
      other.checked = ticked;
    });
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("input[type=checkbox][form=selection][name=proposal_ids]")) {
      setTicked(box, box.checked);
    }
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-select-group]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var group = button.closest("fieldset");
      Array.prototype.forEach.call(
        group.querySelectorAll("input[type=checkbox][name=proposal_ids]"),
        function (box) {
          setTicked(box, true);
        }
      );
    });
  });
})();
