(function () {
  "use strict";
  var form = document.getElementById("passkey-form");
  var status = document.getElementById("status");
  var busy = false;
  async function go() {
    if (busy) return;
    busy = true;
    try {
      if (!window.PublicKeyCredential || typeof PublicKeyCredential.parseCreationOptionsFromJSON !== "function") {
        status.textContent = form.dataset.unsupported;
        return;
      }
      var options = JSON.parse(form.dataset.options);
      if (options.publicKey) options = options.publicKey;
      var publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
      var credential = await navigator.credentials.create({ publicKey: publicKey });
      if (!credential) {
        status.textContent = form.dataset.cancelled;
        return;
      }
      document.getElementById("credential").value = JSON.stringify(credential.toJSON());
      status.textContent = form.dataset.checking;
      form.submit();
    } catch (e) {
      status.textContent = form.dataset.failed + " (" + e.name + ")";
    } finally {
      busy = false;
    }
  }
  document.getElementById("go").addEventListener("click", go);
})();
