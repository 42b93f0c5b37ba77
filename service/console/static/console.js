// Progressive enhancement only: every form works without this file.
(function () {
  // An HTMX request answered with an error that is not a form's refusal (signed out,
  // not found, server error): show it as a full page would, by reloading.
  document.addEventListener("htmx:responseError", function () { window.location.reload(); });

  // A print button is shown only where it works (the browser's own print works anyway).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
    });
    var form = zone.closest("form");
    var bar = document.getElementById("upload-progress");
    if (!form || !bar || !window.XMLHttpRequest) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var request = new XMLHttpRequest();
      bar.hidden = false;
      request.upload.addEventListener("progress", function (e) { if (e.lengthComputable) { bar.value = 100 * e.loaded / e.total; } });
      request.addEventListener("load", function () {
        if (request.status < 300) { window.location.assign(request.responseURL || form.action); return; }
        // A refusal (wrong type, too large, a field missing): show the page the server rendered.
        document.open(); document.write(request.responseText); document.close();
      });
      request.open("POST", form.action);
      request.send(new FormData(form));
    });
  });
})();
