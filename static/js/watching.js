// Staff watching a prospect's sandbox (templates/sandbox/_watching.html): the page the prospect is on, asked
// for every few seconds (GET watching/prospect), with a link there; with "Follow them" ticked the watcher's
// page goes there by itself whenever the prospect moves (kept ticked across pages for this tab).
(function () {
  "use strict";
  var holder = document.querySelector("[data-watch-url]");
  if (!holder) return;
  var where = holder.querySelector("[data-watch-where]");
  var follow = holder.querySelector("[data-watch-follow]");
  var FOLLOW_KEY = "demo.watch.follow";
  var EVERY_MS = 4000;
  var shown = "";
  var latest = null;

  try { follow.checked = sessionStorage.getItem(FOLLOW_KEY) === "1"; } catch (e) { /* storage off: unticked */ }

  function utcTime(iso) {
    return window.demoMoment ? window.demoMoment(iso) : new Date(iso).toISOString();  // as the server writes it
  }

  function show(page) {
    var key = JSON.stringify(page);
    if (key === shown) return;  // only a change is announced (aria-live)
    shown = key;
    where.textContent = "";
    if (!page.title) { where.textContent = "They have not opened a page yet."; return; }
    var name = document.createElement("strong");
    name.textContent = page.title;
    where.append("The prospect is on ", name, " (since " + utcTime(page.seen_at) + ")");
    if (!page.path) return;
    if (page.path === location.pathname) { where.append(" — you are there too."); return; }
    var link = document.createElement("a");
    link.href = page.path;
    link.textContent = "go there";
    link.dataset.watchGo = "";
    where.append(" — ", link);
  }

  function followThem() {
    if (follow.checked && latest && latest.path && latest.path !== location.pathname) location.assign(latest.path);
  }

  follow.addEventListener("change", function () {
    try { sessionStorage.setItem(FOLLOW_KEY, follow.checked ? "1" : "0"); } catch (e) { /* kept for this page only */ }
    followThem();
  });

  function ask() {
    fetch(holder.dataset.watchUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 403 || response.status === 404) return null;  // no longer watching: stop asking
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (page) {
        if (page === null) { where.textContent = "You are no longer watching this sandbox."; return; }
        latest = page;
        show(page);
        followThem();
        setTimeout(ask, EVERY_MS);
      })
      .catch(function () { setTimeout(ask, EVERY_MS * 2); });  // the server away for a moment: ask again later
  }
  ask();
})();
