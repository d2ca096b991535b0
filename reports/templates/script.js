// Expand and collapse scenarios; open everything before printing and the scenario a
// link points at. No network access, no dependencies.
(function () {
  var all = function () { return document.querySelectorAll("details.scenario"); };
  var setAll = function (open) { all().forEach(function (d) { d.open = open; }); };
  document.querySelectorAll("[data-toggle]").forEach(function (b) {
    b.addEventListener("click", function () { setAll(b.getAttribute("data-toggle") === "open"); });
  });
  window.addEventListener("beforeprint", function () { setAll(true); });
  var reveal = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    var d = el && el.closest("details");
    if (d) { d.open = true; el.scrollIntoView(); }
  };
  window.addEventListener("hashchange", reveal);
  reveal();
})();
