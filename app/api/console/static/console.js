// The console's behaviour, as a static file (the CSP allows no inline script).
// - Charts: each element with data-chart="NAME" is drawn with the ECharts option in the
//   <script type="application/json" id="chart-NAME"> block beside it (macros.chart).
// - Confirmations: a submit button with data-confirm="question" asks before posting.
(function () {
  "use strict";

  function drawCharts(root) {
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (window.echarts.getInstanceByDom(element)) {
        return;
      }
      var source = document.getElementById("chart-" + element.dataset.chart);
      window.echarts.init(element).setOption(JSON.parse(source.textContent));
    });
  }

  function resizeCharts() {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var chart = window.echarts.getInstanceByDom(element);
      if (chart) {
        chart.resize();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
  });
  // a fragment that htmx swapped in may hold charts too
  document.addEventListener("htmx:afterSwap", function (event) {
    drawCharts(event.target);
  });
  window.addEventListener("resize", resizeCharts);
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
