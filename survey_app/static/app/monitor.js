// Response-rate monitor: optional auto-refresh of the figures, off until the user switches
// it on (WCAG 2.2.2: anything that updates by itself can be paused). Without JavaScript the
// page keeps its "Refresh the figures" link. Loaded as a module (no inline script: CSP).
import { freshJson } from "./fresh-json.js";

const root = document.querySelector("[data-app-monitor]");

if (root && root.dataset.state === "open") {
  const source = root.dataset.source;
  const seconds = Number(root.dataset.interval) || 30;
  const control = root.querySelector("[data-monitor-control]");
  const toggle = control && control.querySelector("input[type='checkbox']");
  const status = root.querySelector("[data-monitor-status]");
  const remember = `app-monitor-auto:${source}`;
  const numbers = new Intl.NumberFormat("en-GB");
  let timer = null;
  // The page's texts in its language (data-text-* on the root, "{name}" for a value).
  const say = (key, english, values = {}) =>
    (root.dataset[key] || english).replace(/\{(\w+)\}/g, (whole, name) => values[name] ?? whole);

  const show = (text) => {
    if (status) status.textContent = text;
  };

  const cellText = (name, value, suppressed) => {
    if (name === "rate") return value === null ? "–" : `${value.toFixed(1)}%`;
    return value === null ? (suppressed[name] ?? "") : numbers.format(value);
  };

  const stop = () => {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
  };

  const refresh = async () => {
    if (document.hidden) return; // no polling from a tab nobody looks at
    try {
      const data = await freshJson(source);
      let missing = false;
      for (const row of [...data.rows, ...data.parties, data.total]) {
        const key = `${row.side}|${row.area === null ? "_total" : row.area}`;
        for (const name of ["invited", "started", "submitted", "rate"]) {
          const cell = root.querySelector(`[data-cell="${key}|${name}"]`);
          if (cell) cell.textContent = cellText(name, row[name], row.suppressed ?? {});
          else missing = true;
        }
      }
      const time = new Date().toLocaleTimeString("en-GB");
      if (data.state !== "open") {
        stop();
        toggle.checked = false;
        control.hidden = true;
        show(say("textFinal", "The wave is closed: these are its final figures (checked at {time}).", { time }));
        return;
      }
      show(
        missing
          ? say("textNew", "Figures updated at {time}. Some groups are new: refresh the page to see them.", { time })
          : say("textUpdated", "Figures updated at {time}.", { time }),
      );
    } catch (error) {
      show(say("textFailed", "The figures could not be updated. Use ‘Refresh the figures’ to try again."));
    }
  };

  const start = () => {
    stop();
    timer = window.setInterval(refresh, seconds * 1000);
  };

  if (control && toggle && source) {
    control.hidden = false;
    toggle.checked = window.sessionStorage.getItem(remember) === "on";
    if (toggle.checked) start();
    toggle.addEventListener("change", () => {
      window.sessionStorage.setItem(remember, toggle.checked ? "on" : "off");
      if (toggle.checked) {
        start();
        show(say("textEvery", "The figures will update every {seconds} seconds.", { seconds }));
      } else {
        stop();
        show(say("textOff", "Automatic updates are off."));
      }
    });
  }
}
