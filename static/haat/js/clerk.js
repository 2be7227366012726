/* Haat's Clerk pages: once ClerkJS has loaded, mount Clerk's sign-in or sign-up component in
   #clerk-auth, or sign out. A file rather than inline code, so the Content-Security-Policy needs
   no 'unsafe-inline' for scripts. */
(function () {
  "use strict";
  var loader = document.querySelector("script[data-clerk-publishable-key]");
  if (!loader) return;

  function withNext(url, next) {
    return url + "?next=" + encodeURIComponent(next);
  }

  function start() {
    var clerk = window.Clerk;
    if (!clerk) return;
    clerk.load().then(function () {
      if (loader.hasAttribute("data-clerk-sign-out")) {
        return clerk.signOut({ redirectUrl: "/" });
      }
      var box = document.getElementById("clerk-auth");
      if (!box) return;
      box.innerHTML = "";
      var next = box.dataset.next;
      var options = {
        forceRedirectUrl: next,
        signInUrl: withNext(box.dataset.signInUrl, next),
        signUpUrl: withNext(box.dataset.signUpUrl, next)
      };
      if (box.dataset.clerkMode === "sign-up") clerk.mountSignUp(box, options);
      else clerk.mountSignIn(box, options);
    });
  }

  // ClerkJS loads asynchronously: it may be ready before or after this deferred file runs.
  if (window.Clerk) start();
  else loader.addEventListener("load", start);
})();
