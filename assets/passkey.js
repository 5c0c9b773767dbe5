// Passkeys (WebAuthn). The one feature that needs JavaScript: the browser's
// navigator.credentials API takes and returns binary data, which this file converts to and
// from base64url for the server's JSON endpoints. Every element marked data-passkey is hidden
// in the page and shown here only when the browser can use passkeys; without JavaScript the
// password (and TOTP) path stays as it is.
//
// <div data-passkey="login|register|second-factor" data-options="URL" data-finish="URL" hidden>
//   [input data-passkey-name]  button[data-passkey-start]   (login: the page's username field)
//   [data-passkey-error role=alert]
// </div>
// The options URL answers {challenge_id, options}; the finish URL takes
// {challenge_id, credential, name?, rd?} and answers {redirect} (or {message} with an error).
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

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.message || response.statusText); }
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
    return { publicKey: o };
  }

  function registration(c) {
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      response: {
        clientDataJSON: toB64url(c.response.clientDataJSON),
        attestationObject: toB64url(c.response.attestationObject),
        transports: c.response.getTransports ? c.response.getTransports() : []
      },
      clientExtensionResults: {}
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

  function run(box, button) {
    var kind = box.getAttribute("data-passkey");
    var error = box.querySelector("[data-passkey-error]");
    var usernameField = document.querySelector('input[name="username"]');
    var nameField = box.querySelector("[data-passkey-name]");
    var request = {};
    if (kind === "login" && usernameField && usernameField.value.trim() !== "") {
      request.username = usernameField.value.trim();
    }
    if (error) { error.textContent = ""; error.hidden = true; }
    button.disabled = true;
    post(box.getAttribute("data-options"), request).then(function (started) {
      var ceremony = kind === "register"
        ? navigator.credentials.create(creationOptions(started.options))
        : navigator.credentials.get(requestOptions(started.options));
      return ceremony.then(function (credential) {
        var body = {
          challenge_id: started.challenge_id,
          credential: kind === "register" ? registration(credential) : assertion(credential)
        };
        if (nameField) { body.name = nameField.value; }
        // Where a sign-in walk ends (an application's URL), when the page carries one.
        var rdField = document.querySelector('input[name="rd"]');
        if (rdField && rdField.value) { body.rd = rdField.value; }
        return post(box.getAttribute("data-finish"), body);
      });
    }).then(function (done) {
      window.location.assign(done.redirect);
    }).catch(function (failure) {
      button.disabled = false;
      if (error) {
        error.textContent = failure && failure.name === "NotAllowedError"
          ? box.getAttribute("data-cancelled") || failure.message
          : (failure && failure.message) || "";
        error.hidden = false;
      }
    });
  }

  function wire(box) {
    if (box.getAttribute("data-passkey-wired")) { return; }
    box.setAttribute("data-passkey-wired", "1");
    box.hidden = false;
    var button = box.querySelector("[data-passkey-start]");
    if (!button) { return; }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      run(box, button);
    });
  }

  function wireAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-passkey]"), wire);
  }

  document.addEventListener("DOMContentLoaded", function () { wireAll(document); });
  // Content swapped in by htmx (the login page's steps) gets its buttons too.
  document.addEventListener("htmx:afterSettle", function (event) { wireAll(event.target); });
}());
