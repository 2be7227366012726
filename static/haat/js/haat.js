// Haat's hand-written behaviour. No build step.
//
// The page keeps a small local store (cart quantities, wishlist ids, counts, versions), loaded
// from the JSON the server renders into the page and refreshed from GET /api/state. Every action
// changes the store and the DOM at once, sends the change to the server and then takes the
// server's answer as the truth (rolling back on refusal). Tabs of the same shopper keep in step
// through a BroadcastChannel and by refreshing when a tab regains focus. Without JavaScript every
// control is a plain form, so nothing here is needed for the shop to work.
(function () {
  "use strict";

  var body = document.body;
  var signedIn = body.dataset.signedIn === "true";
  var channel = "BroadcastChannel" in window ? new BroadcastChannel("haat-state-" + (body.dataset.user || "anon")) : null;

  // ---------------------------------------------------------------- helpers
  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function clamp(value, min, max) { return Math.min(max, Math.max(min, value)); }
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = $("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  // The page's words in its language, handed over by the server (base.html, #haat-strings):
  // t("key", {n: 2}) fills in {n}; a [one, other] pair is chosen by n.
  var strings = {};
  try { strings = JSON.parse(document.getElementById("haat-strings").textContent); } catch (e) { /* keys show */ }
  // Intl is made on first need only: its first use costs tens of milliseconds, and counts
  // under 1,000 need just the language's digits (from the server, which writes them the same).
  var formats = {};
  function numberFormat(fraction) {
    return formats[fraction] || (formats[fraction] = new Intl.NumberFormat(document.documentElement.lang || "en", { minimumFractionDigits: fraction, maximumFractionDigits: fraction }));
  }
  function num(value) {
    var text = String(value), digits = strings.digits;
    if (digits && /^\d{1,3}$/.test(text)) return text.replace(/\d/g, function (d) { return digits[d]; });
    return window.Intl ? numberFormat(0).format(value) : text;
  }
  function t(key, values) {
    var text = strings[key] || key;
    values = values || {};
    if (Array.isArray(text)) text = text[values.n === 1 ? 0 : 1];
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      var value = values[name];
      return value === undefined ? all : typeof value === "number" ? num(value) : value;
    });
  }
  // The page's language writes the number (Intl uses the same CLDR data as the server's
  // Babel: ৳ ১,২৫০ in Bangla); whole amounts drop the decimals, as on the server.
  function money(minor) {
    var exponent = parseInt(body.dataset.currencyExponent || "2", 10);
    var symbol = body.dataset.currencySymbol || "";
    var scale = Math.pow(10, exponent);
    var negative = minor < 0;
    minor = Math.abs(minor);
    var rest = minor % scale;
    var text = numberFormat(rest ? exponent : 0).format(minor / scale);
    return (negative ? "-" : "") + symbol + " " + text;
  }

  // Quick corrections must not pile up over the page: the same words again replace their
  // earlier toast, and only the newest few stay.
  var TOASTS_SHOWN = 2;
  function toast(message, kind) {
    var box = $("[data-toasts]");
    if (!box || !message) return;
    Array.prototype.slice.call(box.children).forEach(function (shown) {
      if (shown.textContent === message) shown.remove();
    });
    var item = document.createElement("div");
    item.className = "toast" + (kind ? " toast-" + kind : "");
    item.textContent = message;
    box.appendChild(item);
    while (box.children.length > TOASTS_SHOWN) box.firstElementChild.remove();
    setTimeout(function () { item.remove(); }, 3500);
  }

  // What the shopper typed as a quantity: a whole number, or NaN (1.5 is not a quantity). The
  // words of the refusal are the server's (haat.validation), handed to the page.
  function typedQuantity(text) {
    return /^\s*[0-9]+\s*$/.test(text) ? parseInt(text, 10) : NaN;
  }
  function quantityMessage() {
    return body.dataset.quantityMessage || "";
  }

  // Changes in flight when the shopper follows a link: the next page is read only after they
  // reach the server (at most 3 s), or it would show the cart as it was before the last click.
  var pendingWrites = 0, whenWritesDone = [];
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link) flushQuantities(); // a stepper change still waiting out its debounce goes now
    if (!pendingWrites || !link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (link.target && link.target !== "_self") return;
    if (link.hasAttribute("download") || link.origin !== location.origin) return;
    if (link.pathname === location.pathname && link.hash) return;
    event.preventDefault();
    var go = function () { go = function () {}; location.href = link.href; };
    whenWritesDone.push(function () { go(); });
    setTimeout(function () { go(); }, 3000);
  });

  function api(method, path, payload) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    var writes = method !== "GET";
    if (writes) { options.keepalive = true; pendingWrites += 1; }
    return fetch(path, options).finally(function () {
      if (writes && (pendingWrites -= 1) === 0) whenWritesDone.splice(0).forEach(function (fn) { fn(); });
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: { code: "network", message: t("offline") } };
    });
  }

  function failure(result) {
    if (result.status === 401) {
      toast(t("signed_out"), "error");
      setTimeout(function () { window.location.href = "/account/sign-in/?next=" + encodeURIComponent(location.pathname); }, 1200);
      return;
    }
    toast((result.data && result.data.message) || t("failed"), "error");
  }

  // An insufficient_stock refusal's line for this product: {product_id, name, requested, available}.
  function shortItem(result, productId) {
    var details = result.data && result.data.code === "insufficient_stock" && result.data.details;
    var items = (details && details.items) || [];
    return items.filter(function (item) { return item.product_id === productId; })[0] || null;
  }

  // ---------------------------------------------------------------- the local store
  var store = {
    state: { cart: {}, wishlist: [], cart_count: 0, cart_lines: 0, wishlist_count: 0, cart_version: 0, wishlist_version: 0, version: 0 },
    listeners: [],
    subscribe: function (fn) { this.listeners.push(fn); },
    emit: function (source) {
      var state = this.state;
      this.listeners.forEach(function (fn) { fn(state, source); });
    },
    // Take a full state from the server (or another tab), each half only if it is not older
    // than ours: answers can arrive out of order, and a late one must not bring back an older cart.
    replace: function (next, source) {
      if (!next || typeof next.cart !== "object") return;
      var current = this.state;
      var cart = next.cart_version >= current.cart_version;
      var wish = next.wishlist_version >= current.wishlist_version;
      if (!cart && !wish) return;
      if (cart) {
        current.cart = Object.assign({}, next.cart);
        current.cart_count = next.cart_count;
        current.cart_lines = next.cart_lines;
        current.cart_version = next.cart_version;
      }
      if (wish) {
        current.wishlist = next.wishlist.slice();
        current.wishlist_count = next.wishlist_count;
        current.wishlist_version = next.wishlist_version;
      }
      current.version = current.cart_version + current.wishlist_version;
      this.emit(source);
    },
    // Optimistic local edits: applied at once, corrected by the server's answer.
    setCartQuantity: function (productId, quantity) {
      var cart = this.state.cart;
      if (quantity > 0) cart[productId] = quantity; else delete cart[productId];
      this.recount();
      this.emit("local");
    },
    setWishlisted: function (productId, on) {
      var list = this.state.wishlist.filter(function (id) { return id !== productId; });
      if (on) list.unshift(productId);
      this.state.wishlist = list;
      this.state.wishlist_count = list.length;
      this.emit("local");
    },
    recount: function () {
      var cart = this.state.cart;
      var keys = Object.keys(cart);
      this.state.cart_lines = keys.length;
      this.state.cart_count = keys.reduce(function (sum, key) { return sum + cart[key]; }, 0);
    },
    // The server's answer to a cart call is the whole cart: adopt it, unless a newer one
    // (the answer to a later call) has already been adopted.
    adoptCart: function (payload) {
      if (!payload || !payload.lines || payload.version < this.state.cart_version) return;
      var cart = {};
      payload.lines.forEach(function (line) { cart[line.product_id] = line.quantity; });
      this.state.cart = cart;
      this.state.cart_version = payload.version;
      this.recount();
      this.state.version = this.state.cart_version + this.state.wishlist_version;
      this.emit("server");
      broadcast();
    },
    adoptWishlist: function (productId, inWishlist, count, version) {
      if (version < this.state.wishlist_version) return; // overtaken by a newer answer
      var list = this.state.wishlist.filter(function (id) { return id !== productId; });
      if (inWishlist) list.unshift(productId);
      this.state.wishlist = list;
      this.state.wishlist_count = count;
      this.state.wishlist_version = version;
      this.state.version = this.state.cart_version + this.state.wishlist_version;
      this.emit("server");
      broadcast();
    },
    // A move's answer carries the whole wishlist (ids, newest first).
    adoptWishlistIds: function (payload) {
      if (!payload || payload.version < this.state.wishlist_version) return;
      this.state.wishlist = payload.product_ids.slice();
      this.state.wishlist_count = payload.count;
      this.state.wishlist_version = payload.version;
      this.state.version = this.state.cart_version + this.state.wishlist_version;
      this.emit("server");
      broadcast();
    },
    adoptMove: function (payload) {
      this.adoptWishlistIds(payload.wishlist);
      this.adoptCart(payload.cart);
    },
    inCart: function (productId) { return this.state.cart[productId] || 0; },
    wishlisted: function (productId) { return this.state.wishlist.indexOf(productId) !== -1; },
  };

  function broadcast() {
    if (channel) channel.postMessage({ type: "state", state: store.state });
  }

  function refreshState() {
    if (!signedIn) return Promise.resolve();
    return api("GET", "/api/state").then(function (result) {
      if (result.ok) store.replace(result.data, "server");
    });
  }

  // ---------------------------------------------------------------- header badges
  function renderBadge(name, count, previous) {
    var badge = $('[data-badge="' + name + '"]');
    if (!badge) return;
    badge.hidden = !count;
    badge.innerHTML = '<span class="visually-hidden"></span>' + num(count);
    badge.firstChild.textContent = t("items") + " ";
    if (previous !== undefined && previous !== count) {
      badge.classList.remove("bump");
      void badge.offsetWidth; // restart the animation
      badge.classList.add("bump");
    }
  }
  var shown = {};
  store.subscribe(function (state) {
    renderBadge("cart", state.cart_count, shown.cart);
    renderBadge("wishlist", state.wishlist_count, shown.wishlist);
    shown.cart = state.cart_count;
    shown.wishlist = state.wishlist_count;
  });

  // ---------------------------------------------------------------- wishlist hearts
  // Each heart converges on what the shopper last asked for: clicks only flip the wanted state,
  // and one request at a time moves the server towards it.
  var hearts = {};
  function heartFor(productId) {
    if (!hearts[productId]) hearts[productId] = { wanted: null, confirmed: false, busy: false };
    return hearts[productId];
  }
  function renderHearts() {
    $all("[data-wishlist-toggle]").forEach(function (button) {
      var id = parseInt(button.dataset.productId, 10);
      var heart = heartFor(id);
      var on = heart.wanted !== null ? heart.wanted : store.wishlisted(id);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      var name = button.closest("[data-product-panel]");
      name = name ? name.dataset.productName : t("this_product");
      button.setAttribute("aria-label", t(on ? "wishlist_remove_label" : "wishlist_save_label", { name: name }));
    });
  }
  function syncHeart(productId) {
    var heart = heartFor(productId);
    if (heart.busy || heart.wanted === null) return;
    if (heart.wanted === heart.confirmed) { heart.wanted = null; return; }
    heart.busy = true;
    api("POST", "/api/wishlist/toggle", { product_id: productId }).then(function (result) {
      heart.busy = false;
      if (result.ok) {
        heart.confirmed = result.data.in_wishlist;
        store.adoptWishlist(productId, heart.confirmed, result.data.count, result.data.version);
        if (heart.wanted === heart.confirmed) {
          toast(t(heart.confirmed ? "wishlist_saved" : "wishlist_removed"));
        } else if (heart.wanted !== null) {
          store.setWishlisted(productId, heart.wanted); // the shopper clicked again meanwhile
        }
        syncHeart(productId);
      } else {
        heart.wanted = null;
        store.setWishlisted(productId, heart.confirmed);
        failure(result);
        refreshState();
      }
      renderHearts();
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-wishlist-toggle]");
    if (!button || !signedIn) return; // anonymous: the form posts and sign-in follows
    event.preventDefault();
    var id = parseInt(button.dataset.productId, 10);
    var heart = heartFor(id);
    if (heart.wanted === null && !heart.busy) {
      heart.confirmed = store.wishlisted(id);
      heart.wanted = heart.confirmed;
    }
    heart.wanted = !heart.wanted;
    store.setWishlisted(id, heart.wanted);
    button.classList.remove("pop");
    void button.offsetWidth;
    button.classList.add("pop");
    renderHearts();
    syncHeart(id);
  });
  store.subscribe(renderHearts);

  // ---------------------------------------------------------------- product page
  // The product's availability as the server decided it (catalog/availability.py): a code, a
  // message and its limits, shown as given and never worked out again here.
  function readAvailability(panel) {
    return {
      code: panel.dataset.availabilityCode,
      message: panel.dataset.availabilityMessage,
      max_quantity: parseInt(panel.dataset.maxQuantity, 10) || 0,
      can_buy: panel.dataset.canBuy === "true",
    };
  }
  function writeAvailability(panel, availability) {
    if (!availability) return;
    panel.dataset.availabilityCode = availability.code;
    panel.dataset.availabilityMessage = availability.message;
    panel.dataset.maxQuantity = availability.max_quantity;
    panel.dataset.canBuy = availability.can_buy ? "true" : "false";
  }

  function initProductPanel(panel) {
    var productId = parseInt(panel.dataset.productId, 10);
    var form = $("[data-buy-form]", panel);
    if (!form) return;
    var input = $("input[name=quantity]", form);
    var minus = $('[data-step="-1"]', form);
    var plus = $('[data-step="1"]', form);
    var hint = $("[data-stepper-hint]", form);
    var addButton = $("[data-add-to-cart]", form);
    var buyButton = $("[data-buy-now]", form);
    var stockStatus = $("[data-stock-status]", panel);
    var busy = false;

    function limit() { return Math.max(0, readAvailability(panel).max_quantity - store.inCart(productId)); }
    function refreshAvailability() {
      api("GET", "/api/products/" + productId + "/availability").then(function (result) {
        if (result.ok) { writeAvailability(panel, result.data); render(); }
      });
    }

    var shownQuantity = 1;  // the last valid quantity: a refused entry goes back to it
    function render() {
      var availability = readAvailability(panel);
      var canBuy = availability.can_buy;
      var low = availability.code === "low_stock";
      var max = limit();
      var typed = typedQuantity(input.value);
      var value = clamp(isNaN(typed) || typed < 1 ? shownQuantity : typed, 1, Math.max(1, max));
      input.value = value;
      shownQuantity = value;
      input.max = Math.max(1, max);
      input.disabled = !canBuy;
      minus.disabled = value <= 1 || !canBuy;
      plus.disabled = value >= max || !canBuy;
      addButton.disabled = busy || max < 1;
      buyButton.disabled = !canBuy;
      var inCart = store.inCart(productId);
      var text = "";
      if (!canBuy) text = "";
      else if (max === 0) text = t("have_all", { n: availability.max_quantity });
      else if (inCart) text = t(low ? "have_some_more" : "have_some", { n: inCart, more: max });
      else if (low) text = availability.message;
      hint.textContent = text;
      if (stockStatus) {
        stockStatus.textContent = availability.message;
        stockStatus.className = "stock-status stock-" + availability.code;
      }
    }

    form.addEventListener("click", function (event) {
      var step = event.target.closest("[data-step]");
      if (!step || step.disabled) return;
      input.value = (parseInt(input.value, 10) || 1) + parseInt(step.dataset.step, 10);
      render();
    });
    input.addEventListener("change", function () {
      var typed = typedQuantity(input.value);
      var max = limit();
      if (isNaN(typed) || typed < 1) toast(quantityMessage(), "error");
      else if (max > 0 && typed > max) toast(t("only_addable", { n: max }), "error");
      render();
    });

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!signedIn || (submitter && submitter.hasAttribute("data-buy-now"))) return; // plain form
      event.preventDefault();
      if (busy || limit() < 1) return; // a double click adds once
      var quantity = clamp(parseInt(input.value, 10) || 1, 1, limit());
      var before = store.inCart(productId);
      busy = true;
      store.setCartQuantity(productId, before + quantity);
      render();
      toast(t("added_n", { n: quantity }));
      api("POST", "/api/cart/lines", { product_id: productId, quantity: quantity }).then(function (result) {
        if (result.ok) {
          store.adoptCart(result.data);
          var line = result.data.lines.filter(function (l) { return l.product_id === productId; })[0];
          if (line) writeAvailability(panel, line.availability);
        } else {
          store.setCartQuantity(productId, before); // roll back, then hear the truth
          failure(result);
          refreshState();
          if (result.status !== 401) refreshAvailability();
        }
        input.value = 1;
        setTimeout(function () { busy = false; render(); }, 250);
        render();
      });
    });

    store.subscribe(render);
    render();
  }

  // ---------------------------------------------------------------- cart page
  var lineSync = {}; // productId -> {wanted, confirmed, busy, timer}

  function selectionKey() { return "haat:cart-selection:" + (body.dataset.user || ""); }
  function loadSelection() {
    try { return JSON.parse(localStorage.getItem(selectionKey())) || null; } catch (e) { return null; }
  }
  function saveSelection(root) {
    var known = [], selected = [];
    $all("[data-line]", root).forEach(function (line) {
      known.push(line.dataset.productId);
      if ($("[data-line-select]", line).checked) selected.push(line.dataset.productId);
    });
    try { localStorage.setItem(selectionKey(), JSON.stringify({ known: known, selected: selected })); } catch (e) { /* private mode */ }
  }
  function restoreSelection(root) {
    var saved = loadSelection();
    if (!saved) return;
    $all("[data-line]", root).forEach(function (line) {
      var id = line.dataset.productId;
      var box = $("[data-line-select]", line);
      if (saved.known.indexOf(id) !== -1) box.checked = saved.selected.indexOf(id) !== -1;
      if (line.dataset.available !== "true") box.checked = false;
    });
  }

  function renderLine(line) {
    var id = parseInt(line.dataset.productId, 10);
    var sync = lineSync[id];
    var quantity = sync ? sync.wanted : parseInt(line.dataset.quantity, 10);
    var max = parseInt(line.dataset.max, 10) || 0;
    var available = line.dataset.available === "true";
    var input = $("[data-line-quantity]", line);
    input.value = quantity;
    $('[data-step="-1"]', line).disabled = !available || quantity <= 1;
    $('[data-step="1"]', line).disabled = !available || quantity >= max;
    // The server drew the total for the page's quantity: only a changed one is redrawn.
    if (String(quantity) !== (line.dataset.totalFor || line.dataset.quantity)) {
      $("[data-line-total]", line).textContent = money(quantity * parseInt(line.dataset.unitPrice, 10));
    }
    line.dataset.totalFor = quantity;
  }

  // The cart's delivery estimate for the selected lines, from the zone's fee and free-from
  // amount as the server sent them (checkout works out the fee that is charged).
  function deliveryEstimate(root, subtotal) {
    var zone = $("[data-delivery-fee]", root);
    if (!zone || !subtotal) return 0;
    var freeFrom = zone.dataset.deliveryFreeFrom;
    if (freeFrom !== undefined && subtotal >= parseInt(freeFrom, 10)) return 0;
    return parseInt(zone.dataset.deliveryFee, 10);
  }

  function renderSummary(root) {
    var lines = $all("[data-line]", root);
    if (!lines.length) return;
    var count = 0, total = 0, chosen = 0;
    lines.forEach(function (line) {
      var box = $("[data-line-select]", line);
      if (!box.checked) return;
      var id = parseInt(line.dataset.productId, 10);
      var quantity = lineSync[id] ? lineSync[id].wanted : parseInt(line.dataset.quantity, 10);
      chosen += 1;
      count += quantity;
      total += quantity * parseInt(line.dataset.unitPrice, 10);
    });
    // The server drew the summary for data-summary's selection: only another one is redrawn.
    var key = count + " " + total + " " + chosen;
    if (key !== root.dataset.summary) {
      root.dataset.summary = key;
      $("[data-selected-count]", root).textContent = num(count);
      $("[data-selected-subtotal]", root).textContent = money(total);
      var fee = deliveryEstimate(root, total);
      var delivery = $("[data-selected-delivery]", root);
      if (delivery) delivery.textContent = fee ? money(fee) : t("free");
      $("[data-selected-total]", root).textContent = money(total + fee);
      $("[data-selected-lines]", root).textContent = num(chosen);
    }
    $("[data-proceed]", root).disabled = chosen === 0;
    var deleteSelected = $("[data-delete-selected]", root);
    if (deleteSelected) deleteSelected.disabled = chosen === 0;
    var all = $("[data-select-all]", root);
    var selectable = lines.length;
    all.checked = chosen === selectable;
    all.indeterminate = chosen > 0 && chosen < selectable;
    $("[data-line-total-count]", root).textContent = num(lines.length);
  }

  // Quantities converge on the last value the shopper chose: PATCH sends absolute numbers, one
  // request at a time per line, so fast clicks can never add up to a wrong quantity.
  function wantQuantity(line, quantity) {
    var id = parseInt(line.dataset.productId, 10);
    var sync = lineSync[id] || (lineSync[id] = { wanted: 0, confirmed: parseInt(line.dataset.quantity, 10), busy: false, timer: null });
    var max = parseInt(line.dataset.max, 10) || 1;
    sync.wanted = clamp(quantity, 1, max);
    store.setCartQuantity(id, sync.wanted);
    renderLine(line);
    renderSummary(line.closest("[data-cart-page]"));
    clearTimeout(sync.timer);
    sync.timer = setTimeout(function () { sync.timer = null; pushQuantity(id); }, 300);
  }
  function flushQuantities() {
    Object.keys(lineSync).forEach(function (id) {
      if (lineSync[id].timer) { clearTimeout(lineSync[id].timer); lineSync[id].timer = null; pushQuantity(parseInt(id, 10)); }
    });
  }
  function pushQuantity(id) {
    var sync = lineSync[id];
    if (!sync || sync.busy) return;
    if (sync.wanted === sync.confirmed) { delete lineSync[id]; return; }
    sync.busy = true;
    var sent = sync.wanted;
    api("PATCH", "/api/cart/lines/" + id, { quantity: sent }).then(function (result) {
      sync.busy = false;
      var line = $('[data-line][data-product-id="' + id + '"]');
      if (result.ok) {
        sync.confirmed = sent;
        if (line) line.dataset.quantity = sent;
        var confirmedLine = result.data.lines.filter(function (l) { return l.product_id === id; })[0];
        if (confirmedLine && line) line.dataset.max = confirmedLine.max_quantity;
        if (sync.wanted !== sent) { pushQuantity(id); return; }
        delete lineSync[id];
        store.adoptCart(result.data);
      } else {
        delete lineSync[id];
        var short = shortItem(result, id);
        if (short && line) line.dataset.max = short.available;
        failure(result);
        refreshCartBody();
        refreshState();
      }
      if (line) { renderLine(line); renderSummary(line.closest("[data-cart-page]")); }
    });
  }

  // The cart as the server has it now: the page's own HTML for #cart-body (cart/views.py
  // answers X-Haat-Fragment with that part alone) replaces the one shown.
  function refreshCartBody() {
    var root = $("[data-cart-page]");
    if (!root) return;
    fetch(location.pathname, { credentials: "same-origin", headers: { "X-Haat-Fragment": "cart-body" } })
      .then(function (response) { if (!response.ok) throw response; return response.text(); })
      .then(function (html) {
        var box = document.createElement("div");
        box.innerHTML = html;
        var fresh = $("[data-cart-page]", box);
        var current = $("[data-cart-page]");
        if (!fresh || !current) throw box;
        current.replaceWith(fresh);
        initCartPage(fresh);
      })
      .catch(function () { location.reload(); });
  }

  function confirmDialog(title, lines, confirmLabel) {
    var dialog = $("#confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      return Promise.resolve(window.confirm(title));
    }
    var opener = document.activeElement;
    $("#confirm-title", dialog).textContent = title;
    var list = document.createElement("ul");
    lines.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; list.appendChild(li); });
    var bodyBox = $("#confirm-body", dialog);
    bodyBox.innerHTML = "";
    bodyBox.appendChild(list);
    $("[data-dialog-confirm]", dialog).textContent = confirmLabel || t("delete");
    dialog.returnValue = "";
    dialog.showModal();
    $("[data-dialog-cancel]", dialog).focus();
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (opener && document.contains(opener)) opener.focus();
        resolve(dialog.returnValue === "confirm");
      });
    });
  }

  function removeLines(root, ids) {
    var lines = ids.map(function (id) { return $('[data-line][data-product-id="' + id + '"]', root); }).filter(Boolean);
    var names = lines.map(function (line) { return $("[data-line-quantity]", line).value + " × " + line.dataset.name; });
    var title = ids.length === 1
      ? t("remove_one_question", { name: lines[0] ? lines[0].dataset.name : t("this_product") })
      : t("delete_n_question", { n: ids.length });
    return confirmDialog(title, names, t("delete")).then(function (confirmed) {
      if (!confirmed) return;
      lines.forEach(function (line) { line.hidden = true; });
      ids.forEach(function (id) { delete lineSync[id]; store.setCartQuantity(id, 0); });
      renderSummary(root);
      var request = ids.length === 1
        ? api("DELETE", "/api/cart/lines/" + ids[0])
        : api("POST", "/api/cart/lines/remove", { product_ids: ids });
      return request.then(function (result) {
        if (result.ok) {
          lines.forEach(function (line) { line.remove(); });
          store.adoptCart(result.data);
          toast(ids.length === 1 ? t("cart_removed") : t("deleted_n", { n: ids.length }));
          if (!$all("[data-line]", root).length) refreshCartBody();
          else { saveSelection(root); renderSummary(root); }
        } else {
          lines.forEach(function (line) { line.hidden = false; });
          failure(result);
          refreshState();
          refreshCartBody();
        }
      });
    });
  }

  // Save for later: the line leaves at once and its product shows as wishlisted; the server
  // moves it (wishlist first, so a refusal leaves the line in the cart) and its answer rules.
  function saveForLater(root, line) {
    var id = parseInt(line.dataset.productId, 10);
    var had = store.inCart(id);
    line.hidden = true;
    delete lineSync[id];
    store.setCartQuantity(id, 0);
    store.setWishlisted(id, true);
    renderSummary(root);
    api("POST", "/api/wishlist/from-cart", { product_id: id }).then(function (result) {
      if (result.ok) {
        line.remove();
        store.adoptMove(result.data);
        toast(t("moved_to_wishlist", { name: line.dataset.name }));
        if (!$all("[data-line]", root).length) refreshCartBody();
        else { saveSelection(root); renderSummary(root); }
      } else {
        line.hidden = false;
        store.setCartQuantity(id, had);
        failure(result);
        refreshState();
        refreshCartBody();
      }
    });
  }

  function initCartPage(root) {
    restoreSelection(root);
    $all("[data-line]", root).forEach(renderLine);
    renderSummary(root);
  }

  document.addEventListener("click", function (event) {
    var root = event.target.closest("[data-cart-page]");
    if (!root) return;
    var line = event.target.closest("[data-line]");
    var step = event.target.closest("[data-step]");
    if (step && line) {
      event.preventDefault();
      if (step.disabled) return;
      var id = parseInt(line.dataset.productId, 10);
      var current = lineSync[id] ? lineSync[id].wanted : parseInt(line.dataset.quantity, 10);
      wantQuantity(line, current + parseInt(step.dataset.step, 10));
      return;
    }
    if (event.target.closest("[data-save-later]") && line) {
      event.preventDefault();
      saveForLater(root, line);
      return;
    }
    var remove = event.target.closest("[data-delete-line], [data-fix-remove]");
    if (remove && line) {
      event.preventDefault();
      removeLines(root, [parseInt(line.dataset.productId, 10)]);
      return;
    }
    var reduce = event.target.closest("[data-fix-reduce]");
    if (reduce && line) {
      event.preventDefault();
      var target = parseInt(reduce.dataset.fixReduce, 10);
      api("PATCH", "/api/cart/lines/" + line.dataset.productId, { quantity: target }).then(function (result) {
        if (result.ok) { store.adoptCart(result.data); toast(t("reduced_to", { n: target })); }
        else failure(result);
        refreshCartBody();
      });
      return;
    }
    if (event.target.closest("[data-delete-selected]")) {
      event.preventDefault();
      var ids = $all("[data-line]", root).filter(function (l) { return $("[data-line-select]", l).checked; })
        .map(function (l) { return parseInt(l.dataset.productId, 10); });
      if (ids.length) removeLines(root, ids);
    }
  });

  document.addEventListener("change", function (event) {
    var root = event.target.closest("[data-cart-page]");
    if (!root) return;
    if (event.target.matches("[data-select-all]")) {
      var on = event.target.checked;
      $all("[data-line]", root).forEach(function (line) { $("[data-line-select]", line).checked = on; });
    }
    if (event.target.matches("[data-line-quantity]")) {
      var line = event.target.closest("[data-line]");
      var typed = typedQuantity(event.target.value);
      var max = parseInt(line.dataset.max, 10) || 1;
      if (isNaN(typed) || typed < 1) {
        // Refused: nothing is sent, and the line shows its quantity again.
        toast(quantityMessage(), "error");
        event.target.value = line.dataset.quantity;
      } else {
        if (typed > max) toast(t("only_available", { n: max }), "error");
        wantQuantity(line, typed);
      }
    }
    saveSelection(root);
    renderSummary(root);
  });

  document.addEventListener("keydown", function (event) {
    // Enter in a quantity box applies it here instead of submitting the plain form.
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-line-quantity]")) {
      event.preventDefault();
      event.target.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  // Another tab changed the cart: show the server's cart here too.
  store.subscribe(function (state, source) {
    if (source !== "tab" && source !== "server") return;
    var root = $("[data-cart-page]");
    if (!root || Object.keys(lineSync).length) return;
    var onPage = {};
    $all("[data-line]", root).forEach(function (line) { if (!line.hidden) onPage[line.dataset.productId] = parseInt(line.dataset.quantity, 10); });
    var same = Object.keys(onPage).length === Object.keys(state.cart).length && Object.keys(state.cart).every(function (id) { return onPage[id] === state.cart[id]; });
    if (!same) refreshCartBody();
  });

  // ---------------------------------------------------------------- wishlist page
  function wishlistCounted(count) {
    var counter = $("[data-wishlist-page-count]");
    if (counter) counter.textContent = num(count);
    if (!count) window.location.reload(); // the empty page has its own words
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!signedIn) return;
    var item = form.closest("[data-wishlist-item]");
    if (!item) return;
    var id = parseInt(item.dataset.productId, 10);
    if (form.matches("[data-wishlist-add-form]")) {
      event.preventDefault();
      var button = $("button", form);
      if (button.disabled) return;
      button.disabled = true;
      store.setCartQuantity(id, store.inCart(id) + 1);
      api("POST", "/api/cart/lines", { product_id: id, quantity: 1 }).then(function (result) {
        if (result.ok) {
          store.adoptCart(result.data);
          toast(t("added_name", { name: item.dataset.name }));
          var line = result.data.lines.filter(function (l) { return l.product_id === id; })[0];
          button.disabled = !line || line.quantity >= line.availability.max_quantity;
          var note = $("[data-in-cart-note]", item);
          if (!note) {
            note = document.createElement("p");
            note.className = "hint";
            note.setAttribute("data-in-cart-note", "");
            $(".line-info", item).appendChild(note);
          }
          note.textContent = t("in_cart_n", { n: line ? line.quantity : 1 });
        } else {
          store.setCartQuantity(id, Math.max(0, store.inCart(id) - 1));
          failure(result);
          refreshState();
          button.disabled = result.status === 409;
        }
      });
    } else if (form.matches("[data-wishlist-move-form]")) {
      event.preventDefault();
      if ($("button", form).disabled) return;
      item.hidden = true;
      store.setCartQuantity(id, store.inCart(id) + 1);
      store.setWishlisted(id, false);
      api("POST", "/api/wishlist/items/" + id + "/move-to-cart").then(function (result) {
        if (result.ok) {
          item.remove();
          store.adoptMove(result.data);
          toast(t("moved_to_cart", { name: item.dataset.name }));
          wishlistCounted(result.data.wishlist.count);
        } else {
          item.hidden = false;
          failure(result);
          refreshState();
        }
      });
    } else if (form.matches("[data-wishlist-alert-form]")) {
      event.preventDefault();
      var toggle = $("[data-alert-toggle]", form);
      var wanted = toggle.getAttribute("aria-pressed") !== "true";
      toggle.setAttribute("aria-pressed", String(wanted));
      api("PUT", "/api/wishlist/items/" + id + "/alert", { wanted: wanted }).then(function (result) {
        if (result.ok) {
          form.elements.wanted.value = wanted ? "off" : "on";
          toast(t(wanted ? "alert_on" : "alert_off"));
        } else {
          toggle.setAttribute("aria-pressed", String(!wanted));
          failure(result);
        }
      });
    } else if (form.matches("[data-wishlist-remove-form]")) {
      event.preventDefault();
      item.hidden = true;
      store.setWishlisted(id, false);
      api("DELETE", "/api/wishlist/items/" + id).then(function (result) {
        if (result.ok) {
          item.remove();
          store.adoptWishlist(id, false, result.data.count, result.data.version);
          toast(t("wishlist_removed"));
          wishlistCounted(result.data.count);
        } else {
          item.hidden = false;
          failure(result);
          refreshState();
        }
      });
    }
  });

  // ---------------------------------------------------------------- gallery
  document.addEventListener("click", function (event) {
    var thumb = event.target.closest("[data-gallery-thumb]");
    if (!thumb) return;
    var gallery = thumb.closest("[data-gallery]");
    var main = $("[data-gallery-main]", gallery);
    if (!main) return;
    // The main <picture>'s WebP source and JPEG fallback both switch, at the main slot's sizes.
    var source = $("[data-gallery-source]", gallery), d = thumb.dataset;
    if (source) source.srcset = d.webpSrcset;
    main.srcset = d.srcset;
    main.src = d.src;
    main.width = d.width;
    main.height = d.height;
    main.alt = d.alt;
    $all("[data-gallery-thumb]", gallery).forEach(function (t) {
      t.setAttribute("aria-pressed", t === thumb ? "true" : "false");
    });
  });

  // ---------------------------------------------------------------- checkout page
  // The place-order button names the next step of the chosen payment method (the server
  // renders the right one; this follows the radios without a round trip).
  function initCheckoutForm(form) {
    var button = $("[data-place-order]", form);
    if (!button) return;
    form.addEventListener("change", function (event) {
      if (event.target.name !== "payment_method" || !event.target.checked) return;
      button.textContent = event.target.value === "cod" ? button.dataset.labelCod : button.dataset.labelCard;
    });
  }

  // ---------------------------------------------------------------- start
  document.addEventListener("DOMContentLoaded", function () {
    var initial = document.getElementById("haat-state");
    if (initial) {
      try { store.replace(JSON.parse(initial.textContent), "server"); } catch (e) { /* keep defaults */ }
    }
    $all("[data-product-panel]").forEach(initProductPanel);
    $all("[data-cart-page]").forEach(initCartPage);
    $all("[data-checkout-form]").forEach(initCheckoutForm);
    renderHearts();
    $all("[data-toasts] .toast").forEach(function (item) { setTimeout(function () { item.remove(); }, 4000); });
    if (signedIn) refreshState();
  });

  if (channel) {
    channel.onmessage = function (event) {
      if (event.data && event.data.type === "state") store.replace(event.data.state, "tab");
    };
  }
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") refreshState(); });
  window.addEventListener("focus", refreshState);

  window.Haat = { store: store, toast: toast, refreshState: refreshState, money: money };
})();
