// postmortem pages: after "Regenerate", wait for the new revision and reload to show it.
(function () {
  var el = document.getElementById("notice");
  if (!el || !el.dataset.waitRevision) return;
  var seen = el.dataset.waitRevision, id = el.dataset.incident, tries = 0;
  function poll() {
    if (++tries > 120) return;
    fetch("/incidents/" + encodeURIComponent(id) + "/revision.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (j && j.revision !== null && String(j.revision) !== seen) {
          window.location.replace("/incidents/" + encodeURIComponent(id) + "#postmortem");
        } else {
          setTimeout(poll, 1000);
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 1000);
})();
