/*
 * A stand-in for Stripe's Connect.js, served by the fake Stripe (tests and
 * offline demos only: it draws the fake's own state, nothing reaches Stripe).
 *
 * The same API as Stripe's script: window.StripeConnect.init({publishableKey,
 * fetchClientSecret, appearance, locale}) returns an instance whose
 * create("payouts") gives a <stripe-connect-payouts> element with the
 * documented setters (setOnExit, setOnLoadError, ...). @stripe/connect-js's
 * loadConnectAndInitialize works with it too: the elements take its
 * setConnector() and *InternalOnly setters. Like Stripe's, each component
 * draws itself in an iframe of the Stripe host (here the fake), and the
 * client secret goes to that iframe, never into a URL. The instance calls
 * fetchClientSecret once when it is created, again when a secret has expired
 * unclaimed, and refuses a secret for another account than the one it shows.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var frameBase = origin + "/connect-js/v1.0/frame/";
  var COMPONENTS = [
    "account-onboarding", "account-management", "notification-banner", "balances",
    "payouts", "payouts-list", "documents", "payments", "payment-details",
    "payment-disputes", "disputes-list", "payout-details", "instant-payouts-promotion",
    "tax-registrations", "tax-settings", "balance-report", "payout-reconciliation-report",
    "financial-account", "financial-account-transactions", "issuing-card",
    "issuing-cards-list", "reporting-chart", "payment-method-settings"
  ];
  var SETTERS = [
    "setOnExit", "setOnLoadError", "setOnLoaderStart", "setOnStepChange",
    "setCollectionOptions", "setOnNotificationsChange", "setFullTermsOfServiceUrl",
    "setRecipientTermsOfServiceUrl", "setPrivacyPolicyUrl", "setSkipTermsOfServiceCollection",
    "setPayout", "setPayment", "setOnClose", "setDefaultFilters"
  ];
  var elements = [];

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function Instance(params) {
    if (!params || typeof params.publishableKey !== "string" || !params.publishableKey) {
      throw new Error("StripeConnect.init: publishableKey is required.");
    }
    if (typeof params.fetchClientSecret !== "function") {
      throw new Error("StripeConnect.init: fetchClientSecret must be a function.");
    }
    this.params = params;
    this.id = randomId();
    this.account = "";
    this.appearance = params.appearance || {};
    this.locale = params.locale || "";
    this.connect = { instance: this };
    var eager = params.metaOptions && params.metaOptions.eagerClientSecretPromise;
    this.secret = eager ? Promise.resolve(eager) : this.fetchSecret();
  }

  Instance.prototype.fetchSecret = function () {
    try {
      return Promise.resolve(this.params.fetchClientSecret());
    } catch (error) {
      return Promise.reject(error);
    }
  };

  Instance.prototype.create = function (tagName) {
    if (COMPONENTS.indexOf(tagName) < 0) {
      throw new Error("Unsupported component: " + tagName);
    }
    var element = document.createElement("stripe-connect-" + tagName);
    element.setConnector(this.connect);
    return element;
  };

  Instance.prototype.update = function (options) {
    if (options && options.appearance) {
      this.appearance = options.appearance;
    }
    if (options && options.locale) {
      this.locale = options.locale;
    }
    var self = this;
    elements.forEach(function (element) {
      if (element.instance === self) {
        element.reload();
      }
    });
  };

  Instance.prototype.logout = function () {
    return Promise.resolve();
  };

  class FakeComponent extends HTMLElement {
    constructor() {
      super();
      this.listeners = {};
      this.instance = null;
      this.frame = null;
      this.refreshed = false;
    }

    get component() {
      return this.tagName.toLowerCase().slice("stripe-connect-".length);
    }

    setConnector(connector) {
      this.instance = connector && connector.instance;
      if (this.isConnected) {
        this.draw();
      }
    }

    connectedCallback() {
      if (this.instance && !this.frame) {
        this.draw();
      }
    }

    emit(setter, payload) {
      var listener = this.listeners[setter];
      if (typeof listener === "function") {
        listener(payload);
      }
    }

    fail(type, message) {
      this.setAttribute("data-fake-state", "error");
      this.emit("setOnLoadError", {
        error: { type: type, message: message },
        elementTagName: "stripe-connect-" + this.component
      });
    }

    draw() {
      if (elements.indexOf(this) < 0) {
        elements.push(this);
      }
      this.emit("setOnLoaderStart", { elementTagName: "stripe-connect-" + this.component });
      var frame = document.createElement("iframe");
      frame.src = frameBase + this.component.replace(/-/g, "_");
      frame.title = "Stripe " + this.component.replace(/-/g, " ") + " (fake Stripe)";
      // CSSOM, not a style attribute: allowed under a strict style-src.
      frame.style.border = "0";
      frame.style.width = "100%";
      frame.style.height = "120px";
      frame.style.display = "block";
      if (this.frame) {
        this.replaceChild(frame, this.frame);
      } else {
        this.appendChild(frame);
      }
      this.frame = frame;
    }

    reload() {
      if (this.frame) {
        this.draw();
      }
    }

    sendSession() {
      var self = this;
      var instance = this.instance;
      instance.secret.then(function (secret) {
        if (typeof secret !== "string" || !secret) {
          throw new Error("fetchClientSecret gave no client secret.");
        }
        self.frame.contentWindow.postMessage({
          source: "fake-connect-host",
          type: "session",
          clientSecret: secret,
          publishableKey: instance.params.publishableKey,
          instance: instance.id,
          account: instance.account,
          appearance: JSON.stringify(instance.appearance || {}),
          locale: instance.locale
        }, origin);
      }).catch(function (error) {
        self.fail("account_session_create_error", (error && error.message) || String(error));
      });
    }

    receive(message) {
      switch (message.type) {
        case "ready":
          this.sendSession();
          break;
        case "loaded":
          if (!this.instance.account) {
            this.instance.account = message.account;
          }
          this.setAttribute("data-fake-state", "loaded");
          break;
        case "resize":
          this.frame.style.height = Math.max(0, message.height) + "px";
          break;
        case "expired":
          // Like Connect.js: a secret that expired unclaimed is fetched again, once.
          if (this.refreshed) {
            this.fail("invalid_request_error", "The client secret has expired.");
          } else {
            this.refreshed = true;
            this.instance.secret = this.instance.fetchSecret();
            this.sendSession();
          }
          break;
        case "loaderror":
          this.fail(message.error.type, message.error.message);
          break;
        case "notifications":
          this.emit("setOnNotificationsChange", {
            total: message.total, actionRequired: message.actionRequired
          });
          break;
        case "step":
          this.emit("setOnStepChange", { step: message.step });
          break;
        case "exit":
          this.setAttribute("data-fake-state", "exited");
          this.emit("setOnExit");
          break;
      }
    }
  }

  SETTERS.forEach(function (setter) {
    var set = function (value) {
      this.listeners[setter] = value;
    };
    FakeComponent.prototype[setter] = set;
    FakeComponent.prototype[setter + "InternalOnly"] = set;
  });

  COMPONENTS.forEach(function (name) {
    var tag = "stripe-connect-" + name;
    if (!window.customElements.get(tag)) {
      window.customElements.define(tag, class extends FakeComponent {});
    }
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || event.data.source !== "fake-connect") {
      return;
    }
    elements.forEach(function (element) {
      if (element.frame && element.frame.contentWindow === event.source) {
        element.receive(event.data);
      }
    });
  });

  window.StripeConnect = window.StripeConnect || {};
  window.StripeConnect.fake = true;
  window.StripeConnect.init = function (params) {
    return new Instance(params);
  };
  if (typeof window.StripeConnect.onLoad === "function") {
    window.StripeConnect.onLoad();
  }
})();
