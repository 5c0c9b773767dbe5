// Passkeys (WebAuthn). The one feature that needs JavaScript: the browser's
// navigator.credentials API takes and returns binary data, which this file converts to and
// from base64url for the server's JSON endpoints. Every element marked data-passkey is hidden
// in the page and shown here only when the browser can use passkeys; without JavaScript the
// password (and TOTP) path stays as it is.
//
// <div data-passkey="login|register|second-factor" data-options="URL" data-finish="URL"
//      data-cancelled="TEXT" [data-exists="TEXT"] [data-replaces="ID"] [data-autofill] hidden>
//   [input data-passkey-name] [input data-passkey-password]  button[data-passkey-start]
//   [data-passkey-error role=alert]
// </div>
// The options URL answers {challenge_id, options}; the finish URL takes
// {challenge_id, credential, name?, rd?} and answers {redirect} (or {message} with an error).
//
// Sign-in: the button asks for the name typed in the page's username field, or with nothing
// typed for any passkey of this site the device holds (the server finds the user from the
// passkey). With data-autofill, where the browser has conditional mediation, the same
// passkeys are offered in the username field's autofill while the page is open; pressing the
// button ends that offer first (one WebAuthn request at a time).
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  function fromB64url(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var binary = atob(s);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    var field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  // A failure the server explained: its message is shown as it is.
  function Refused(message) { this.name = "Refused"; this.message = message; }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Refused(data.message || response.statusText); }
        return data;
      });
    });
  }

  function creationOptions(o) {
    o.challenge = fromB64url(o.challenge);
    o.user.id = fromB64url(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = fromB64url(c.id); });
    return { publicKey: o };
  }

  function requestOptions(o) {
    o.challenge = fromB64url(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = fromB64url(c.id); });
    return o;
  }

  function registration(c) {
    var results = c.getClientExtensionResults ? c.getClientExtensionResults() : {};
    var extensions = {};
    // Whether the device kept a discoverable passkey (the security page says so if not).
    if (results.credProps) { extensions.credProps = { rk: !!results.credProps.rk }; }
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      response: {
        clientDataJSON: toB64url(c.response.clientDataJSON),
        attestationObject: toB64url(c.response.attestationObject),
        transports: c.response.getTransports ? c.response.getTransports() : []
      },
      clientExtensionResults: extensions
    };
  }

  function assertion(c) {
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      response: {
        clientDataJSON: toB64url(c.response.clientDataJSON),
        authenticatorData: toB64url(c.response.authenticatorData),
        signature: toB64url(c.response.signature),
        userHandle: c.response.userHandle ? toB64url(c.response.userHandle) : null
      },
      clientExtensionResults: {}
    };
  }

  function showError(box, failure) {
    var error = box.querySelector("[data-passkey-error]");
    if (!error) { return; }
    var name = failure && failure.name;
    // The browser says only NotAllowedError whether the prompt was cancelled or the device
    // has no passkey for the request: the message names both.
    error.textContent = name === "NotAllowedError"
      ? box.getAttribute("data-cancelled") || failure.message
      : name === "InvalidStateError"
        ? box.getAttribute("data-exists") || failure.message
        : (failure && failure.message) || "";
    error.hidden = false;
  }

  function clearError(box) {
    var error = box.querySelector("[data-passkey-error]");
    if (error) { error.textContent = ""; error.hidden = true; }
  }

  function finishSignIn(box, started, credential) {
    return post(box.getAttribute("data-finish"), {
      challenge_id: started.challenge_id,
      credential: assertion(credential)
    }).then(function (done) { window.location.assign(done.redirect); });
  }

  // The username field's autofill: one conditional request while the sign-in box is shown.
  var autofill = null;

  function stopAutofill() {
    if (autofill) { autofill.abort(); autofill = null; }
  }

  function startAutofill(box) {
    if (!PublicKeyCredential.isConditionalMediationAvailable) { return; }
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available || !document.body.contains(box)) { return; }
      stopAutofill();
      var controller = new AbortController();
      autofill = controller;
      var picked = false;
      post(box.getAttribute("data-options"), {}).then(function (started) {
        if (controller.signal.aborted) { return null; }
        return navigator.credentials.get({
          publicKey: requestOptions(started.options),
          mediation: "conditional",
          signal: controller.signal
        }).then(function (credential) {
          picked = true;
          clearError(box);
          return finishSignIn(box, started, credential);
        });
      }).catch(function (failure) {
        if (controller.signal.aborted || (failure && failure.name === "AbortError")) { return; }
        if (autofill === controller) { autofill = null; }
        if (picked) {
          // The passkey picked was refused: say why, and offer the passkeys again.
          showError(box, failure);
          startAutofill(box);
        }
      });
    }).catch(function () {});
  }

  function run(box, button) {
    var kind = box.getAttribute("data-passkey");
    var usernameField = document.querySelector('input[name="username"]');
    var nameField = box.querySelector("[data-passkey-name]");
    var passwordField = box.querySelector("[data-passkey-password]");
    var request = {};
    if (kind === "login") {
      stopAutofill();
      if (usernameField && usernameField.value.trim() !== "") {
        request.username = usernameField.value.trim();
      }
    }
    if (box.getAttribute("data-replaces")) {
      request.replaces = Number(box.getAttribute("data-replaces"));
      request.current_password = passwordField ? passwordField.value : "";
    }
    clearError(box);
    button.disabled = true;
    post(box.getAttribute("data-options"), request).then(function (started) {
      if (kind !== "register") {
        return navigator.credentials.get({ publicKey: requestOptions(started.options) })
          .then(function (credential) { return finishSignIn(box, started, credential); });
      }
      return navigator.credentials.create(creationOptions(started.options)).then(function (credential) {
        var body = { challenge_id: started.challenge_id, credential: registration(credential) };
        if (nameField) { body.name = nameField.value; }
        // Where a sign-in walk ends (an application's URL), when the page carries one.
        var rdField = document.querySelector('input[name="rd"]');
        if (rdField && rdField.value) { body.rd = rdField.value; }
        return post(box.getAttribute("data-finish"), body);
      }).then(function (done) { window.location.assign(done.redirect); });
    }).catch(function (failure) {
      button.disabled = false;
      showError(box, failure);
      if (kind === "login" && box.hasAttribute("data-autofill")) { startAutofill(box); }
    });
  }

  function wire(box) {
    if (box.getAttribute("data-passkey-wired")) { return; }
    box.setAttribute("data-passkey-wired", "1");
    box.hidden = false;
    var button = box.querySelector("[data-passkey-start]");
    if (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        run(box, button);
      });
    }
    if (box.hasAttribute("data-autofill")) { startAutofill(box); }
  }

  function wireAll(root) {
    // A box swapped out (the sign-in form replaced by the next step) takes its autofill along.
    if (autofill && !document.querySelector("[data-passkey][data-autofill]")) { stopAutofill(); }
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-passkey]"), wire);
  }

  document.addEventListener("DOMContentLoaded", function () { wireAll(document); });
  // Content swapped in by htmx (the login page's steps) gets its buttons too.
  document.addEventListener("htmx:afterSettle", function (event) { wireAll(event.target); });
}());
