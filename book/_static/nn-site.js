/* Equation numbers as amsmath places them: beside the equation when both fit, on their
   own line below it when they do not (a long equation in the 688 px column, most
   equations on a phone). Runs once MathJax has typeset the page, and on resize. */
(() => {
  "use strict";

  function placeEquationNumbers() {
    for (const box of document.querySelectorAll("div.math")) {
      const number = box.querySelector(":scope > .eqno");
      const math = box.querySelector(':scope > mjx-container[display="true"] > mjx-math');
      if (!number || !math) continue;
      box.classList.remove("nn-number-below");
      if (math.getBoundingClientRect().width > math.parentElement.clientWidth + 1) {
        box.classList.add("nn-number-below");
      }
    }
  }

  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(placeEquationNumbers, 150);
  });
  window.addEventListener("load", () => {
    const startup = window.MathJax && window.MathJax.startup;
    if (startup && startup.promise) startup.promise.then(placeEquationNumbers);
  });
})();
