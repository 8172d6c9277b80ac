// The JSON at `source`, fetched afresh with the page's own cookies (the pages that update
// themselves: monitor.js, job.js). Throws when the answer is not 200.
export const freshJson = async (source) => {
  const response = await fetch(source, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
};
