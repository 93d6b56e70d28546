/* Reports page: headline figures and charts from /api/reports (Chart.js, served by the hub).
   The period and channel live in the page's URL (?from=&to=&channel=), so a view can be shared. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const charts = {};
  const COLORS = ["#0b5cad", "#1e7b3c", "#9a6700", "#b42318", "#6f42c1", "#0f766e", "#c2410c", "#475569"];
  const REASONS = {
    asked_for_person: "Asked for a person", anger: "Anger", hardship: "Hardship", dispute: "Dispute",
    repeated_fallback: "Not understood", repeated_request: "Asked again", billing_error: "Billing error",
    refund: "Refund", cancellation: "Cancellation", gas_emergency: "Gas emergency", card_security: "Card security",
    legal_threat: "Legal threat", verification_locked: "Verification locked", extension_beyond_policy: "Extension",
  };

  function pct(rate) { return rate === null || rate === undefined ? "–" : (rate * 100).toFixed(1) + "%"; }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }

  function money(text) {
    return "$" + Number(text).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function query() {
    const params = new URLSearchParams();
    if ($("report-from").value) params.set("from", $("report-from").value);
    if ($("report-to").value) params.set("to", $("report-to").value);
    if ($("report-channel").value) params.set("channel", $("report-channel").value);
    return params.toString();
  }

  async function getJson(path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    return { status: response.status, body: body };
  }

  function drawChart(id, config) {
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
    charts[id] = new Chart($(id), config);
  }

  function line(label, values, color, extra) {
    return Object.assign({ label: label, data: values, borderColor: color, backgroundColor: color,
                           spanGaps: true, cubicInterpolationMode: "monotone", pointRadius: 2 }, extra || {});
  }

  function showHeadlines(s) {
    $("kpi-containment").textContent = pct(s.containment_rate);
    $("kpi-csat").textContent = pct(s.csat.score);
    $("kpi-csat-hint").textContent = s.csat.ratings + " ratings; share of 4–5";
    $("kpi-queue").textContent = duration(s.queue_wait_seconds.p50) + " / " + duration(s.queue_wait_seconds.p90);
    $("kpi-first-response").textContent = duration(s.first_response_seconds.p50);
    $("kpi-resolution").textContent = duration(s.resolution_seconds.p50);
    $("kpi-abandoned").textContent = s.abandoned.count + " (" + pct(s.abandoned.rate) + ")";
    $("kpi-fcr").textContent = pct(s.first_contact_resolution.rate);
    $("kpi-volume").textContent = s.conversations + " / " + s.handoffs;
    $("kpi-recovered").textContent = money(s.recovered_total);
    $("kpi-promises").textContent = pct(s.promises.kept_share);
    $("kpi-retries").textContent = s.card_retries.recovered + " of " + s.card_retries.retries;
  }

  function showCharts(s, days) {
    const labels = days.map((d) => d.date.slice(5));
    const rate = (key) => days.map((d) => (d[key] === null ? null : +(d[key] * 100).toFixed(1)));
    const minutes = (key) => days.map((d) => (d[key] === null ? null : +(d[key] / 60).toFixed(1)));
    const percentAxis = { y: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } } };
    drawChart("chart-containment", { type: "line", data: { labels: labels, datasets: [
      line("Containment", rate("containment_rate"), COLORS[0]),
      line("First-contact resolution", rate("first_contact_resolution_rate"), COLORS[1])] },
      options: { scales: percentAxis } });
    drawChart("chart-csat", { type: "line", data: { labels: labels, datasets: [
      line("CSAT", rate("csat_score"), COLORS[2])] }, options: { scales: percentAxis } });
    drawChart("chart-queue", { type: "line", data: { labels: labels, datasets: [
      line("p50", minutes("queue_wait_p50_seconds"), COLORS[0]),
      line("p90", minutes("queue_wait_p90_seconds"), COLORS[3], { borderDash: [5, 4] })] },
      options: { scales: { y: { min: 0 } } } });
    const reasons = Object.keys(s.handoffs_by_reason);
    drawChart("chart-reasons", { type: "bar", data: { labels: reasons.map((r) => REASONS[r] || r),
      datasets: [{ label: "Handoffs", data: reasons.map((r) => s.handoffs_by_reason[r]), backgroundColor: COLORS[0] }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } } } });
    const stages = Array.from(new Set(Object.keys(s.reminders_by_stage).concat(Object.keys(s.recovered_by_stage))));
    drawChart("chart-recovered", { type: "bar", data: { labels: stages, datasets: [
      { label: "Recovered ($)", data: stages.map((st) => Number((s.recovered_by_stage[st] || { amount: 0 }).amount)),
        backgroundColor: COLORS[1], yAxisID: "y" },
      { label: "Reminders sent", data: stages.map((st) => s.reminders_by_stage[st] || 0),
        backgroundColor: COLORS[7], yAxisID: "count" }] },
      options: { scales: { y: { position: "left", min: 0 }, count: { position: "right", min: 0, grid: { drawOnChartArea: false } } } } });
  }

  async function load() {
    const q = query();
    $("report-error").hidden = true;
    $("report-status").textContent = "Loading…";
    const [summary, daily] = await Promise.all([getJson("/api/reports/summary?" + q), getJson("/api/reports/daily?" + q)]);
    $("report-status").textContent = "";
    if (summary.status === 401 || daily.status === 401) {
      $("report-signin").hidden = false;
      $("report-body").hidden = true;
      return;
    }
    if (summary.status !== 200 || daily.status !== 200) {
      const bad = summary.status !== 200 ? summary : daily;
      $("report-error").textContent = (bad.body && bad.body.error) || "The report could not be loaded (" + bad.status + ").";
      $("report-error").hidden = false;
      return;
    }
    const s = summary.body;
    $("report-from").value = s.period.from;
    $("report-to").value = s.period.to;
    $("report-channel").value = s.period.channel || "";
    $("report-csv").href = "/api/reports/daily.csv?" + query();
    history.replaceState(null, "", "/reports?" + query());
    $("report-body").hidden = false;
    showHeadlines(s);
    showCharts(s, daily.body.days);
    document.body.dataset.loaded = s.period.from + ".." + s.period.to + ":" + (s.period.channel || "all");
  }

  function start() {
    const params = new URLSearchParams(location.search);
    $("report-from").value = params.get("from") || "";
    $("report-to").value = params.get("to") || "";
    $("report-channel").value = params.get("channel") || "";
    $("report-filter").addEventListener("submit", (event) => { event.preventDefault(); load(); });
    load().catch((error) => {
      $("report-error").textContent = "The report could not be loaded: " + error.message;
      $("report-error").hidden = false;
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
