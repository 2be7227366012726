// Haat's small hand-written behaviours: gallery, quantity stepper, toasts.
(function () {
  "use strict";

  function clamp(value, min, max) { return Math.min(max, Math.max(min, value)); }

  // Quantity stepper: keeps the number within [1, data-max] and greys out the limits.
  function initStepper(stepper) {
    var form = stepper.closest("[data-buy-form]");
    var input = stepper.querySelector("input");
    var minus = stepper.querySelector('[data-step="-1"]');
    var plus = stepper.querySelector('[data-step="1"]');
    function max() { return parseInt((form && form.dataset.max) || input.max || "1", 10) || 0; }
    function render() {
      var limit = max();
      var value = clamp(parseInt(input.value, 10) || 1, 1, Math.max(1, limit));
      input.value = value;
      input.max = Math.max(1, limit);
      minus.disabled = value <= 1 || limit < 1;
      plus.disabled = value >= limit;
    }
    stepper.addEventListener("click", function (event) {
      var button = event.target.closest("[data-step]");
      if (!button || button.disabled) return;
      input.value = (parseInt(input.value, 10) || 1) + parseInt(button.dataset.step, 10);
      render();
    });
    input.addEventListener("change", render);
    stepper.haatRender = render;
    render();
  }

  // Gallery thumbnails swap the main image.
  function initGallery(gallery) {
    var main = gallery.querySelector("[data-gallery-main]");
    gallery.addEventListener("click", function (event) {
      var thumb = event.target.closest("[data-gallery-thumb]");
      if (!thumb || !main) return;
      main.src = thumb.dataset.src;
      main.alt = thumb.dataset.alt;
      gallery.querySelectorAll("[data-gallery-thumb]").forEach(function (t) {
        t.setAttribute("aria-pressed", t === thumb ? "true" : "false");
      });
    });
  }

  function toast(message, kind) {
    var box = document.querySelector("[data-toasts]");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "toast" + (kind ? " toast-" + kind : "");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 3500);
  }

  window.Haat = window.Haat || {};
  window.Haat.toast = toast;

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-stepper]").forEach(initStepper);
    document.querySelectorAll("[data-gallery]").forEach(initGallery);
    // Server messages fade away after a while.
    document.querySelectorAll("[data-toasts] .toast").forEach(function (item) {
      setTimeout(function () { item.remove(); }, 4000);
    });
  });
})();
