// Passkey ceremonies for the pages that offer one (WebAuthn Level 3). The page works without this
// script by saying so; with it, the button asks the browser, and the form posts the browser's answer.
const toBytes = (value) => {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
};
const toText = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return { ...json, challenge: toBytes(json.challenge), user: { ...json.user, id: toBytes(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })) };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return { ...json, challenge: toBytes(json.challenge),
    allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })) };
}

function asJSON(credential) {
  if (credential.toJSON) return credential.toJSON();
  const response = credential.response;
  const out = { id: credential.id, rawId: toText(credential.rawId), type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(), response: {
      clientDataJSON: toText(response.clientDataJSON) } };
  if (response.attestationObject) {
    out.response.attestationObject = toText(response.attestationObject);
    out.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    out.response.authenticatorData = toText(response.authenticatorData);
    out.response.signature = toText(response.signature);
    if (response.userHandle) out.response.userHandle = toText(response.userHandle);
  }
  return out;
}

for (const form of document.querySelectorAll("form[data-passkey]")) {
  const ceremony = form.dataset.passkey;
  const options = JSON.parse(form.dataset.options);
  const button = form.querySelector("button");
  const failure = form.querySelector("[data-passkey-failure]");
  if (!window.PublicKeyCredential) continue;
  form.querySelector("[data-passkey-unsupported]")?.setAttribute("hidden", "");
  button.removeAttribute("hidden");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const credential = ceremony === "create"
        ? await navigator.credentials.create({ publicKey: creationOptions(options) })
        : await navigator.credentials.get({ publicKey: requestOptions(options) });
      form.querySelector("input[name=credential]").value = JSON.stringify(asJSON(credential));
      form.submit();
    } catch (error) {
      failure?.removeAttribute("hidden");
    }
  });
}
