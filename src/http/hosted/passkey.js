(function () {
  "use strict";
  var form = document.getElementById("passkey-form");
  var status = document.getElementById("status");
  var busy = false;
  async function go() {
    if (busy) return;
    busy = true;
    try {
      if (!window.PublicKeyCredential || typeof PublicKeyCredential.parseRequestOptionsFromJSON !== "function") {
        status.textContent = "This browser cannot use passkeys here.";
        return;
      }
      var options = JSON.parse(form.dataset.options);
      if (options.publicKey) options = options.publicKey;
      var publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
      var credential = await navigator.credentials.get({ publicKey: publicKey });
      if (!credential) {
        status.textContent = "No passkey was used.";
        return;
      }
      document.getElementById("credential").value = JSON.stringify(credential.toJSON());
      status.textContent = "Checking…";
      form.submit();
    } catch (e) {
      status.textContent = "The passkey was not used (" + e.name + "). Try again, or sign in another way.";
    } finally {
      busy = false;
    }
  }
  document.getElementById("go").addEventListener("click", go);
  go();
})();
