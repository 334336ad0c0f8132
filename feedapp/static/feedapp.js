/* The merchant's pages: connect popup and hand-back, copy, category picker, live build status,
   and the rules editor's choices (operators that fit the field, value boxes only where needed). */
(function () {
  "use strict";

  var body = document.body;
  var pageToken = body.getAttribute("data-page-token") || "";
  var csrf = body.getAttribute("data-csrf") || "";
  var feed = body.getAttribute("data-feed") || "";
  var ACTIVE = { queued: true, running: true };

  function headers(extra) {
    var h = { Accept: "application/json" };
    if (pageToken) { h["X-Page-Token"] = pageToken; }
    if (extra) { Object.keys(extra).forEach(function (k) { h[k] = extra[k]; }); }
    return h;
  }

  function getJSON(url) {
    return fetch(url, { headers: headers(), credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }

  /* -- connecting: the authorize page runs in a popup, the result comes back by message -- */
  function openConnect(event) {
    var link = event.currentTarget;
    event.preventDefault();
    var popup = null;
    try {
      popup = window.open(link.getAttribute("data-popup"), "feedapp-connect",
        "popup=yes,width=560,height=720");
    } catch (err) { popup = null; }
    /* Blocked popups: offer the same flow in the top window. */
    reveal("[data-connect-blocked]", !popup);
    reveal("[data-connect-waiting]", !!popup);
    reveal("[data-connect-hint]", false);
  }
  function reveal(selector, visible) {
    document.querySelectorAll(selector).forEach(function (el) { el.hidden = !visible; });
  }
  document.querySelectorAll("a[data-popup]").forEach(function (link) {
    link.addEventListener("click", openConnect);
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) { return; }
    var data = event.data;
    if (!data || data.type !== "feedapp-connected" || typeof data.token !== "string") { return; }
    window.location.replace("/?t=" + encodeURIComponent(data.token));
  });

  /* The callback page inside the popup: hand the page token to the iframe, then close. */
  var handoff = document.getElementById("handoff");
  if (handoff && window.opener && !window.opener.closed) {
    try {
      window.opener.postMessage(
        { type: "feedapp-connected", token: handoff.getAttribute("data-token") },
        handoff.getAttribute("data-origin"));
      window.close();
    } catch (err) { /* the link on the page still opens the settings here */ }
  }
  if (window.opener) {
    document.querySelectorAll("a[data-retry]").forEach(function (link) {
      link.href += (link.href.indexOf("?") < 0 ? "?" : "&") + "popup=1";
    });
  }

  /* -- copy the feed URL -- */
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var done = function () {
        var label = button.textContent;
        button.textContent = button.getAttribute("data-copied");
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      var fallback = function () { input.select(); document.execCommand("copy"); done(); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, fallback);
      } else { fallback(); }
    });
  });

  /* -- Google category picker: the typed words search the taxonomy on the server -- */
  var list = document.getElementById("taxonomy-options");
  var timer = null;
  var lastQuery = "";
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!list || !input.matches || !input.matches("input[data-taxonomy]")) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = input.value.trim();
      if (query.length < 2 || query === lastQuery || /^\d+ - /.test(query)) { return; }
      lastQuery = query;
      getJSON("/settings/taxonomy?q=" + encodeURIComponent(query)).then(function (reply) {
        if (!reply.ok) { return; }
        list.replaceChildren.apply(list, reply.data.results.map(function (result) {
          var option = document.createElement("option");
          option.value = result.label;
          return option;
        }));
      });
    }, 200);
  });

  /* -- rules editor: without this script every choice is shown and the server says what fits -- */
  function showValue(row, selectedOption, clear) {
    var cell = row.querySelector("[data-value-cell]");
    var input = cell && cell.querySelector("input");
    if (!cell) { return; }
    var noValue = !!selectedOption && selectedOption.hasAttribute("data-no-value");
    if (noValue && clear) { input.value = ""; }
    cell.hidden = noValue && !input.value;
  }

  function fitOperators(row, clear) {
    var field = row.querySelector("[data-rule-field]");
    var operator = row.querySelector("[data-rule-operator]");
    var optionName = row.querySelector("[data-option-name]");
    var chosen = field.options[field.selectedIndex];
    var kind = chosen ? chosen.getAttribute("data-kind") : "";
    var firstFit = null;
    Array.prototype.forEach.call(operator.options, function (option) {
      var fits = (" " + option.getAttribute("data-kinds") + " ").indexOf(" " + kind + " ") >= 0;
      option.disabled = !fits;
      option.hidden = !fits;
      if (fits && !firstFit) { firstFit = option; }
    });
    var current = operator.options[operator.selectedIndex];
    if ((!current || current.disabled) && firstFit) { firstFit.selected = true; }
    optionName.hidden = field.value !== "option:";
    showValue(row, operator.options[operator.selectedIndex], clear);
  }

  document.querySelectorAll("[data-condition]").forEach(function (row) {
    fitOperators(row, false);
    row.querySelector("[data-rule-field]").addEventListener("change", function () {
      fitOperators(row, true);
    });
    row.querySelector("[data-rule-operator]").addEventListener("change", function (event) {
      showValue(row, event.target.options[event.target.selectedIndex], true);
    });
  });
  document.querySelectorAll("[data-action]").forEach(function (row) {
    var kind = row.querySelector("[data-rule-action]");
    showValue(row, kind.options[kind.selectedIndex], false);
    kind.addEventListener("change", function () {
      showValue(row, kind.options[kind.selectedIndex], true);
    });
  });

  /* -- build status and problem list: poll often while a build waits or runs, every few seconds
     otherwise (an update a webhook started shows up too), never while the page is hidden; the
     problem list is replaced when the feed's problems changed; "Rebuild now" without a reload -- */
  var panel = document.getElementById("status-panel");
  var message = document.getElementById("status-message");
  var finished = document.getElementById("status-finished");
  var problemList = document.getElementById("problem-list");
  var ACTIVE_MS = 500;
  var IDLE_MS = 1000;
  var RETRY_MS = 3000;
  var sawActive = false;
  var pollTimer = null;
  var inFlight = false;
  var stopped = false;
  var epoch = 0;  /* bumped by "Rebuild now": replies to polls sent before it are stale */

  function show(reply) {
    panel.innerHTML = reply.html;
    panel.setAttribute("data-state", reply.state);
    if (problemList && typeof reply.problems_html === "string") {
      problemList.innerHTML = reply.problems_html;
      problemList.setAttribute("data-version", reply.problems);
    }
    if (ACTIVE[reply.state]) { sawActive = true; return true; }
    if (sawActive && finished) { finished.hidden = false; }
    return false;
  }

  function schedule(ms) {
    if (stopped || inFlight) { return; }  /* the poll in flight schedules the next one */
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, ms);
  }

  function statusUrl() {
    var url = "/settings/status?feed=" + encodeURIComponent(feed);
    if (problemList) {
      url += "&problems=" + encodeURIComponent(problemList.getAttribute("data-version") || "");
    }
    return url;
  }

  function poll() {
    pollTimer = null;
    if (document.hidden) { return; }  /* visibilitychange starts again */
    var sent = epoch;
    inFlight = true;
    getJSON(statusUrl()).then(function (reply) {
      inFlight = false;
      if (sent !== epoch) { schedule(ACTIVE_MS); return; }
      if (!reply.ok) {
        stopped = true;
        message.textContent = reply.data.message || "";
        message.hidden = false;
        return;
      }
      schedule(show(reply.data) ? ACTIVE_MS : IDLE_MS);
    }, function () { inFlight = false; schedule(RETRY_MS); });
  }

  if (panel) {
    sawActive = !!ACTIVE[panel.getAttribute("data-state")];
    schedule(sawActive ? ACTIVE_MS : IDLE_MS);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { schedule(0); }
    });
    var form = document.getElementById("rebuild-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      epoch += 1;
      fetch(form.action, {
        method: "POST",
        headers: headers({ "X-CSRF-Token": csrf }),
        body: new FormData(form),
        credentials: "same-origin"
      }).then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
        .then(function (reply) {
          button.disabled = false;
          message.textContent = reply.data.message || "";
          message.hidden = !message.textContent;
          if (!reply.ok) { return; }
          epoch += 1;
          if (finished) { finished.hidden = true; }
          sawActive = true;
          show(reply.data);
          schedule(ACTIVE_MS);
        }, function () { button.disabled = false; });
    });
  }
})();
