(function () {
  "use strict";
  var form = document.getElementById("linked-form");
  var status = document.getElementById("status");
  var params = new URLSearchParams(window.location.hash.slice(1));
  history.replaceState(null, "", window.location.pathname);
  if (params.get("code")) {
    document.getElementById("code").value = params.get("code");
    status.textContent = form.dataset.checking;
    form.submit();
  } else if (params.get("error")) {
    status.textContent = form.dataset.refused + " (" + params.get("error") + ")";
  } else {
    status.textContent = form.dataset.nothing;
  }
})();
