/* The native bridge, no framework: bridge.post(action, payload).
   iOS: window.webkit.messageHandlers.loyalty; Android: window.LoyaltyBridge;
   a plain browser: the loyalty:// deep link (links carry it as href, so pages also work
   without JavaScript). */
(function () {
  "use strict";

  function post(action, payload) {
    var message = { action: action, payload: payload || {} };
    var webkit = window.webkit && window.webkit.messageHandlers;
    if (webkit && webkit.loyalty) {
      webkit.loyalty.postMessage(message);
      return "ios";
    }
    if (window.LoyaltyBridge && typeof window.LoyaltyBridge.postMessage === "function") {
      window.LoyaltyBridge.postMessage(JSON.stringify(message));
      return "android";
    }
    var query = new URLSearchParams({ payload: JSON.stringify(message.payload) });
    window.location.href = "loyalty://" + encodeURIComponent(action) + "?" + query;
    return "link";
  }

  window.bridge = { post: post };

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-bridge]") : null;
    if (!target) {
      return;
    }
    var hasNative = (window.webkit && window.webkit.messageHandlers &&
      window.webkit.messageHandlers.loyalty) || window.LoyaltyBridge;
    if (!hasNative) {
      return; // the link's own loyalty:// href does it
    }
    event.preventDefault();
    var payload = {};
    try {
      payload = JSON.parse(target.getAttribute("data-payload") || "{}");
    } catch (ignored) {
      payload = {};
    }
    post(target.getAttribute("data-bridge"), payload);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var success = document.body.getAttribute("data-success");
    if (success && ((window.webkit && window.webkit.messageHandlers &&
        window.webkit.messageHandlers.loyalty) || window.LoyaltyBridge)) {
      post("haptic", { style: "success", after: success });
    }
  });
})();
