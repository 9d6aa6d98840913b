// Completion for the search box of every page (templates/base.html): an ARIA 1.2 combobox.
// Without this script the box is a plain form that submits to the /search results page.
// Suggestions come from /search?q=..&limit=8 (JSON), fetched after a short pause in typing;
// each is a link to the resource's page. Keys: Down/Up move, Enter follows, Escape closes.
(function () {
  "use strict";
  var DEBOUNCE_MS = 150;
  var LIMIT = 8;

  function start() {
    var box = document.getElementById("search-box");
    var list = document.getElementById("search-suggestions");
    var status = document.getElementById("search-status");
    if (!box || !list || !window.fetch) return;
    var timer = null;
    var pending = null; // the AbortController of the request in flight
    var active = -1;
    var shownFor = null;

    function options() {
      return list.querySelectorAll('[role="option"]');
    }

    function close() {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      for (var i = 0; i < all.length; i++) {
        all[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      box.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function text(tag, className, value, lang) {
      var element = document.createElement(tag);
      if (className) element.className = className;
      if (lang) element.lang = lang;
      element.textContent = value;
      return element;
    }

    function show(query, hits) {
      list.textContent = "";
      active = -1;
      box.removeAttribute("aria-activedescendant");
      hits.forEach(function (hit, i) {
        // The link itself is the option (an interactive element may not sit inside one:
        // axe's nested-interactive); its list item is presentation only.
        var item = document.createElement("li");
        item.setAttribute("role", "none");
        var link = document.createElement("a");
        link.id = "search-option-" + i;
        link.setAttribute("role", "option");
        link.setAttribute("aria-selected", "false");
        link.href = hit.href || hit.iri;
        link.tabIndex = -1;
        link.appendChild(text("span", "search-label", hit.label, hit.kind === "label" ? hit.lang : ""));
        if (hit.match !== hit.label) {
          link.appendChild(text("span", "search-match", hit.match, hit.lang));
        }
        var details = [hit.type, hit.lang].filter(Boolean).join(" · ");
        if (details) link.appendChild(text("span", "search-type", details));
        item.appendChild(link);
        list.appendChild(item);
      });
      shownFor = query;
      var open = hits.length > 0;
      list.hidden = !open;
      box.setAttribute("aria-expanded", open ? "true" : "false");
      if (status) {
        status.textContent = open
          ? hits.length + (hits.length === 1 ? " suggestion" : " suggestions")
          : "No suggestions";
      }
    }

    function lookup() {
      var query = box.value.trim();
      if (!query) {
        close();
        return;
      }
      if (query === shownFor && list.children.length) {
        list.hidden = false;
        box.setAttribute("aria-expanded", "true");
        return;
      }
      if (pending) pending.abort();
      pending = new AbortController();
      var url = "/search?q=" + encodeURIComponent(query) + "&limit=" + LIMIT;
      fetch(url, { headers: { Accept: "application/json" }, signal: pending.signal })
        .then(function (response) {
          return response.ok ? response.json() : { hits: [] };
        })
        .then(function (answer) {
          if (box.value.trim() === query) show(query, answer.hits || []);
        })
        .catch(function () {
          /* aborted by newer typing, or offline: the form still submits */
        });
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, DEBOUNCE_MS);
    });

    box.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) {
          lookup();
          return;
        }
        highlight(active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        highlight(active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          window.location.assign(options()[active].href);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        } else if (box.value) {
          box.value = "";
        }
      }
    });

    // A click on a suggestion follows its link; keep the focus (and the list) until then.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    box.addEventListener("blur", function () {
      close();
    });
    box.addEventListener("focus", function () {
      if (box.value.trim() && box.value.trim() === shownFor && list.children.length) {
        list.hidden = false;
        box.setAttribute("aria-expanded", "true");
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
