// Copy buttons for shown-once secrets: copies the text of the element named by data-copy.
"use strict";
document.querySelectorAll("button.copy-button").forEach(function (button) {
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.copy).textContent;
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
      return;
    }
    // Plain http (a laptop, a test): select the text and use the older command.
    var range = document.createRange();
    range.selectNodeContents(document.getElementById(button.dataset.copy));
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
    done();
  });
});
