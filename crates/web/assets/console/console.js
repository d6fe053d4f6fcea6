// factus-api console: conveniences only. Every flow works without this file.
"use strict";
document.addEventListener("submit", function (event) {
  // A dangerous form asks once more; its required checkbox already guards it without JavaScript.
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
document.addEventListener("DOMContentLoaded", function () {
  // "Copy" next to a new API key (hidden without JavaScript, where the field can be selected).
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      field.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value); } else { document.execCommand("copy"); }
    });
  });
});
