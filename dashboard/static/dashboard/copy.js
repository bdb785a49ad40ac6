// Copy buttons for shown-once secrets: copies the text of the element named by data-copy.
"use strict";
(function () {
  function selectAndCopy(element) {
    // Without the clipboard API (plain http, a refused permission): the older command.
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return document.execCommand("copy");
  }
  document.querySelectorAll("button.copy-button").forEach(function (button) {
    button.addEventListener("click", function () {
      var element = document.getElementById(button.dataset.copy);
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      };
      var fallback = function () {
        if (selectAndCopy(element)) { done(); } else { button.textContent = "Select and copy by hand"; }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(element.textContent).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
})();
