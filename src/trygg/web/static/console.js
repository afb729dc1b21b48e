// Click-to-reveal for media the console shows blurred and in greyscale (reviewers' wellbeing).
// Delegated from the document, so it keeps working when htmx swaps the page body.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-reveal]");
  if (!button) return;
  var tile = document.getElementById(button.getAttribute("data-reveal"));
  if (!tile) return;
  var shown = tile.classList.toggle("revealed");
  button.textContent = shown ? button.getAttribute("data-hide") : button.getAttribute("data-show");
  button.setAttribute("aria-pressed", shown ? "true" : "false");
});
