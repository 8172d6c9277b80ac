// A job's progress page: while the job is unfinished, ask its JSON status every few seconds
// and update the status region (role=status, aria-live=polite), until the user presses
// "Stop updating" (WCAG 2.2.2) or the job finishes. Without JavaScript the page keeps its plain
// "Refresh the page" link. Loaded as a module (no inline script: CSP).
import { freshJson } from "./fresh-json.js";

const root = document.querySelector("[data-app-job]");

if (root) {
  const source = root.dataset.source;
  const seconds = Number(root.dataset.interval) || 5;
  const control = root.querySelector("[data-job-control]");
  const stopButton = root.querySelector("[data-job-stop]");
  const message = root.querySelector("[data-job-message]");
  const figures = root.querySelector("[data-job-figures]");
  const figuresText = root.querySelector("[data-job-progress-text]");
  const bar = root.querySelector("#job-progress");
  const finished = root.querySelector("[data-job-finished]");
  let timer = null;
  // The page's texts in its language (data-text-* on the root), English if absent.
  const say = (key, english) => root.dataset[key] || english;

  const stop = () => {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
    control.hidden = true;
  };

  const update = async () => {
    if (document.hidden) return; // no polling from a tab nobody looks at
    try {
      const job = await freshJson(source);
      const progress = job.progress;
      if (progress.text) {
        figures.hidden = false;
        if (figuresText.textContent !== progress.text) figuresText.textContent = progress.text;
        bar.max = progress.total || 1;
        bar.value = progress.done;
        bar.textContent = progress.text;
      }
      const waiting = say("textWaiting", "Waiting for a worker to start this job.");
      const said = progress.message || (job.state === "queued" ? waiting : "");
      if (message.textContent !== said) message.textContent = said;
      if (!["queued", "running"].includes(job.state)) {
        stop();
        message.textContent = job.summary || job.error || job.state_text;
        finished.hidden = false;
      }
    } catch (error) {
      stop();
      message.textContent = say(
        "textFailed",
        "This page could not get the job's news. Use ‘Refresh the page’ to try again.",
      );
    }
  };

  if (control && stopButton && source) {
    control.hidden = false;
    timer = window.setInterval(update, seconds * 1000);
    stopButton.addEventListener("click", () => {
      stop();
      message.textContent = say(
        "textStopped",
        "This page no longer updates itself. Use ‘Refresh the page’ to see how far the job has got.",
      );
      root.querySelector("[data-job-reload]").focus(); // the button has gone: focus stays near
    });
  }
}
