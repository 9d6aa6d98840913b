/* The query page's editor: YASGUI (vendored, served by this site) over the plain form.
 *
 * Without JavaScript the page is a form that submits to /sparql and gets an HTML table back.
 * With it, this script puts YASGUI in place of the form: SPARQL highlighting, completion of
 * the dataset's own prefixes (a local list, never prefix.cc), the page's example questions
 * loading into the editor, results as a table whose IRIs under the dataset base link to this
 * site's pages, and a bar chart for label/number results. Queries go to this site's /sparql
 * by POST (form-encoded UTF-8), so long and non-ASCII queries work. Nothing is fetched from
 * another host: the LOV class/property completers (which ask lov.linkeddata.es) are left out.
 */
(function () {
  "use strict";

  var configElement = document.getElementById("editor-config");
  var host = document.getElementById("editor");
  var form = document.getElementById("query-form");
  if (!configElement || !host || !form || typeof window.Yasgui !== "function") {
    return; // the plain form stays: it works on its own
  }
  var config = JSON.parse(configElement.textContent);
  var Yasgui = window.Yasgui;
  var Yasqe = Yasgui.Yasqe;
  var Yasr = Yasgui.Yasr;
  var SVG = "http://www.w3.org/2000/svg";
  var endpoint = new URL(config.endpoint, window.location.href).href;

  // --- prefix completion from the dataset's prefixes ---------------------------------------
  var prefixLines = Object.keys(config.prefixes).sort().map(function (name) {
    return name + ": <" + config.prefixes[name] + ">";
  });
  var bundled = Yasqe.Autocompleters.prefixes;
  Yasqe.registerAutocompleter(
    Object.assign({}, bundled, {
      name: "prefixes",
      persistenceId: null, // no copy kept in localStorage: the list comes with the page
      get: function () {
        return prefixLines;
      },
    })
  );
  Yasqe.defaults.autocompleters = ["prefixes", "variables"];

  // --- links: IRIs under the base go to this site's pages; only http(s) is clickable --------
  function localHref(iri) {
    var lowered = iri.toLowerCase();
    if (lowered.indexOf("http://") !== 0 && lowered.indexOf("https://") !== 0) {
      return null;
    }
    if (iri.indexOf(config.base) === 0) {
      var rest = iri.slice(config.base.length);
      if (rest.charAt(0) !== "/") {
        return "/" + rest;
      }
    }
    return iri;
  }

  function fixResults(root) {
    var anchors = root.querySelectorAll("a[href]");
    for (var i = 0; i < anchors.length; i++) {
      var anchor = anchors[i];
      if (anchor.dataset.checked === "1") {
        continue;
      }
      var given = anchor.getAttribute("href");
      // A path on this site (the chart's links) stays; an IRI goes through localHref.
      var href = /^\/[^/\\]/.test(given) ? given : localHref(given);
      if (href === null) {
        anchor.removeAttribute("href");
      } else {
        anchor.setAttribute("href", href);
      }
      anchor.removeAttribute("target");
      anchor.dataset.checked = "1";
    }
    // YASR's page-size menu has a visible word beside it but no label element.
    var sizer = root.querySelector("select.tableSizer:not([aria-label])");
    if (sizer) {
      sizer.setAttribute("aria-label", "Rows per page");
    }
  }

  // --- a bar chart for a label/number result, drawn as SVG (no chart library, no network) ---
  var NUMERIC = /#(integer|decimal|double|float|long|int|short|byte|nonNegativeInteger|positiveInteger|unsignedInt|unsignedLong)$/;

  function labelOf(term, prefixes) {
    if (!term) {
      return "";
    }
    if (term.type === "uri") {
      for (var name in prefixes) {
        if (term.value.indexOf(prefixes[name]) === 0 && term.value.length > prefixes[name].length) {
          return name + ":" + term.value.slice(prefixes[name].length);
        }
      }
    }
    return term.value;
  }

  function chartRows(yasr) {
    var results = yasr.results;
    if (!results || results.getType() !== "json" || !results.getVariables) {
      return null;
    }
    var vars = results.getVariables();
    var bindings = results.getBindings();
    if (!vars || vars.length !== 2 || !bindings || bindings.length === 0) {
      return null;
    }
    var rows = [];
    for (var i = 0; i < bindings.length; i++) {
      var label = bindings[i][vars[0]];
      var number = bindings[i][vars[1]];
      if (!number || number.type !== "literal" || !NUMERIC.test(number.datatype || "")) {
        return null;
      }
      rows.push({ label: label, value: Number(number.value) });
    }
    return { vars: vars, rows: rows };
  }

  function svgElement(name, attributes, text) {
    var element = document.createElementNS(SVG, name);
    for (var key in attributes) {
      element.setAttribute(key, attributes[key]);
    }
    if (text !== undefined) {
      element.textContent = text;
    }
    return element;
  }

  function BarChart(yasr) {
    this.yasr = yasr;
    this.priority = 5; // below the table (10): the table stays the default view
    this.label = "Chart";
  }
  BarChart.prototype.canHandleResults = function () {
    return chartRows(this.yasr) !== null;
  };
  BarChart.prototype.getIcon = function () {
    var icon = document.createElement("div");
    icon.className = "chart-icon";
    icon.textContent = "▮";
    return icon;
  };
  BarChart.prototype.draw = function () {
    var data = chartRows(this.yasr);
    var container = document.createElement("figure");
    container.className = "bar-chart";
    if (!data) {
      container.textContent = "A chart needs two columns: a label and a number.";
      this.yasr.resultsEl.appendChild(container);
      return;
    }
    var prefixes = config.prefixes;
    var rowHeight = 24;
    var labelWidth = 320;
    var barWidth = 420;
    var height = data.rows.length * rowHeight + 8;
    var max = Math.max.apply(null, data.rows.map(function (row) { return row.value; }).concat([0]));
    var title = "?" + data.vars[1] + " by ?" + data.vars[0];
    // No role="img": the bars of IRIs are links, which an image may not contain; the title
    // names the drawing and each bar has its own title (label: number).
    var svg = svgElement("svg", {
      "aria-labelledby": "bar-chart-title",
      viewBox: "0 0 " + (labelWidth + barWidth + 80) + " " + height,
      width: "100%",
    });
    svg.appendChild(svgElement("title", { id: "bar-chart-title" }, title));
    data.rows.forEach(function (row, index) {
      var y = index * rowHeight + 4;
      var text = labelOf(row.label, prefixes);
      var group = svgElement("g", { class: "bar" });
      group.appendChild(svgElement("title", {}, text + ": " + row.value));
      group.appendChild(
        svgElement("text", { x: labelWidth - 8, y: y + 16, "text-anchor": "end" }, text.length > 48 ? text.slice(0, 47) + "…" : text)
      );
      var width = max > 0 ? Math.max(1, (row.value / max) * barWidth) : 1;
      group.appendChild(svgElement("rect", { x: labelWidth, y: y + 2, width: width, height: rowHeight - 6 }));
      group.appendChild(svgElement("text", { x: labelWidth + width + 6, y: y + 16 }, String(row.value)));
      var href = row.label && row.label.type === "uri" ? localHref(row.label.value) : null;
      if (href) {
        var link = svgElement("a", { href: href });
        link.appendChild(group);
        svg.appendChild(link);
      } else {
        svg.appendChild(group);
      }
    });
    var caption = document.createElement("figcaption");
    caption.textContent = title;
    container.appendChild(svg);
    container.appendChild(caption);
    this.yasr.resultsEl.appendChild(container);
  };
  Yasr.registerPlugin("chart", BarChart);
  // A result link opens the resource's page here, like every other link of the site.
  Yasr.plugins.table.defaults.openIriInNewWindow = false;

  // --- the editor ------------------------------------------------------------------------
  var textarea = document.getElementById("query");
  var yasgui = new Yasgui(host, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null, // each visit starts from the page's query, not a stored tab
    populateFromUrl: false,
    autofocus: false,
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      },
    },
    yasqe: { value: textarea.value },
    yasr: {
      prefixes: config.prefixes,
      pluginOrder: ["table", "chart", "response"],
      defaultPlugin: "table",
    },
  });

  function currentTab() {
    return yasgui.getTab();
  }

  // The page's query (the default, or the one just run without the editor) is the start.
  currentTab().setQuery(textarea.value);
  // CodeMirror's input is a hidden textarea: name it for assistive technology.
  var input = host.querySelector(".CodeMirror textarea");
  if (input) {
    input.setAttribute("aria-label", "SPARQL query");
  }

  new MutationObserver(function () {
    fixResults(host);
  }).observe(host, { childList: true, subtree: true });

  // The examples load into the editor and run there, instead of reloading the page.
  var examples = document.querySelectorAll("a[data-example]");
  for (var i = 0; i < examples.length; i++) {
    examples[i].addEventListener("click", function (event) {
      var query = config.examples[this.getAttribute("data-example")];
      var tab = currentTab();
      if (query === undefined || !tab) {
        return;
      }
      event.preventDefault();
      tab.setQuery(query);
      tab.getYasqe().query();
      host.scrollIntoView();
    });
  }

  form.hidden = true;
  host.hidden = false;
  document.documentElement.classList.add("editor-ready");
  window.publisherEditor = yasgui; // for people (and tests) in the browser console
})();
