// The mobile deep link's page: /spa/index.html#v2/drs/partner/page/{pageType}?...
// The fragment never reaches the server, so this opens the web page it
// names on the same site. Only known page types are opened.
(function () {
  var types = JSON.parse(document.getElementById("page-types").textContent);
  var hash = location.hash.replace(/^#/, "");
  var m = /^v2\/drs\/(?:partner\/)?page\/([a-z_]+)(\?[^#]*)?$/.exec(hash);
  var status = document.getElementById("status");
  if (!m || types.indexOf(m[1]) < 0) {
    status.textContent = "This link does not name a Replenish page. Open your devices instead.";
    return;
  }
  location.replace("/drs/partner/page/" + m[1] + (m[2] || ""));
})();
