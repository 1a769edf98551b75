/*
 * django-stripe-express: Stripe's embedded components on the platform's pages.
 *
 * Reads its settings from the JSON block the template tag writes
 * (#stripe-express-embedded-config), loads Connect.js from CONNECT_JS_URL,
 * initialises it with the publishable key and a fetchClientSecret that POSTs
 * to the app's account_session view (with the CSRF token), and puts one
 * Connect.js element into each [data-stripe-express-component] placeholder.
 * When anything fails (Connect.js unreachable, a refused key, no session),
 * the placeholder shows its fallback: a message and a link to Stripe's own
 * pages. A static file, so that pages need no inline script.
 */
(function () {
  "use strict";

  var configElement = document.getElementById("stripe-express-embedded-config");
  if (!configElement) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var placeholders = Array.prototype.slice.call(
    document.querySelectorAll("[data-stripe-express-component]")
  );
  if (!placeholders.length) {
    return;
  }

  // The script runs: it decides from now on when the fallback shows (the
  // markup's timed reveal is only for a page where this file never loads).
  placeholders.forEach(function (placeholder) {
    var waiting = placeholder.querySelectorAll("[data-stripe-express-wait]");
    Array.prototype.forEach.call(waiting, function (element) {
      element.removeAttribute("data-stripe-express-wait");
      if (element.hasAttribute("data-stripe-express-fallback")) {
        element.hidden = true;
      }
    });
  });

  function showFallback(placeholder, reason) {
    var loading = placeholder.querySelector("[data-stripe-express-loading]");
    var mount = placeholder.querySelector("[data-stripe-express-mount]");
    var fallback = placeholder.querySelector("[data-stripe-express-fallback]");
    if (loading) {
      loading.hidden = true;
    }
    if (mount) {
      mount.hidden = true;
    }
    if (fallback) {
      fallback.hidden = false;
    }
    placeholder.setAttribute("data-stripe-express-state", "failed");
    if (window.console && reason) {
      // The type only (e.g. "authentication_error"): never a secret.
      window.console.warn("Stripe component could not load:", reason.type || reason.message || reason);
    }
  }

  function failAll(reason) {
    placeholders.forEach(function (placeholder) {
      showFallback(placeholder, reason);
    });
  }

  // The components this page shows: the session enables those only.
  var names = placeholders.map(function (placeholder) {
    return placeholder.getAttribute("data-stripe-express-component");
  });

  function fetchClientSecret() {
    var body = new URLSearchParams();
    body.set("components", names.join(","));
    return fetch(config.accountSessionUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": config.csrfToken },
      body: body
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (data) {
        if (!response.ok || !data.client_secret) {
          throw new Error(data.error || "The account session was refused (" + response.status + ").");
        }
        return data.client_secret;
      });
    });
  }

  function hasInit(candidate) {
    return !!(candidate && typeof candidate === "object" && typeof candidate.init === "function");
  }

  // Like Stripe's own loader (@stripe/connect-js): one script tag, and
  // window.StripeConnect.init once it has run.
  function loadConnect() {
    return new Promise(function (resolve, reject) {
      if (hasInit(window.StripeConnect)) {
        resolve(window.StripeConnect);
        return;
      }
      var script = document.createElement("script");
      script.src = config.connectJsUrl;
      script.async = true;
      script.addEventListener("load", function () {
        if (hasInit(window.StripeConnect)) {
          resolve(window.StripeConnect);
        } else {
          reject(new Error("Connect.js did not define StripeConnect.init."));
        }
      });
      script.addEventListener("error", function () {
        reject(new Error("Connect.js could not be loaded."));
      });
      document.head.appendChild(script);
    });
  }

  function submitForm(id) {
    var form = document.getElementById(id);
    if (!form) {
      return;
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function mount(instance, placeholder) {
    var name = placeholder.getAttribute("data-stripe-express-component");
    var element = instance.create(name.replace(/_/g, "-"));
    element.setOnLoadError(function (event) {
      showFallback(placeholder, event && event.error);
    });
    var exitForm = placeholder.getAttribute("data-stripe-express-exit");
    if (exitForm && typeof element.setOnExit === "function") {
      element.setOnExit(function () {
        placeholder.setAttribute("data-stripe-express-state", "exited");
        submitForm(exitForm);
      });
    }
    var loading = placeholder.querySelector("[data-stripe-express-loading]");
    if (loading) {
      loading.hidden = true;
    }
    placeholder.querySelector("[data-stripe-express-mount]").appendChild(element);
    placeholder.setAttribute("data-stripe-express-state", "mounted");
  }

  if (!config.publishableKey || !window.fetch || !window.Promise) {
    failAll(new Error("Embedded components are not available here."));
    return;
  }
  loadConnect().then(function (StripeConnect) {
    var options = {
      publishableKey: config.publishableKey,
      fetchClientSecret: fetchClientSecret
    };
    if (config.appearance && Object.keys(config.appearance).length) {
      options.appearance = config.appearance;
    }
    if (config.locale) {
      options.locale = config.locale;
    }
    var instance = StripeConnect.init(options);
    placeholders.forEach(function (placeholder) {
      try {
        mount(instance, placeholder);
      } catch (error) {
        showFallback(placeholder, error);
      }
    });
  }).catch(failAll);
})();
