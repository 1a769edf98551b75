/*
 * django-stripe-express: the button shows that Stripe is being asked.
 *
 * Starting onboarding waits for Stripe (account creation, then a link): a few
 * seconds at worst, up to TIMEOUT per try when Stripe is slow. Once the form
 * is submitted its button is disabled, says so (its data-stripe-express-busy
 * label) and is marked aria-busy, so a second click cannot send a second
 * request and the user sees that something is happening. Without this file
 * the form works the same, without the busy state (progressive enhancement).
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.classList || !form.classList.contains("stripe-express__form")) {
      return;
    }
    var button = form.querySelector("button[data-stripe-express-busy]");
    if (!button || button.disabled) {
      return;
    }
    // After this event: disabling the button now would cancel nothing, but
    // the browser must first take the submission as it is.
    window.setTimeout(function () {
      button.setAttribute("data-stripe-express-label", button.innerHTML);
      button.textContent = button.getAttribute("data-stripe-express-busy");
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
    }, 0);
  });

  // Back from Stripe through the browser's cache: the button is usable again.
  window.addEventListener("pageshow", function () {
    var buttons = document.querySelectorAll("button[data-stripe-express-label]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.innerHTML = button.getAttribute("data-stripe-express-label");
      button.removeAttribute("data-stripe-express-label");
      button.removeAttribute("aria-busy");
      button.disabled = false;
    });
  });
})();
