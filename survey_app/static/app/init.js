// Initialise GOV.UK Frontend components (kept out of inline scripts for the CSP).
// A component that cannot start (a ConfigError, say: a character count without its limit)
// is reported as an error, not the library's default console.log, so that it is noticed:
// the browser tests fail on any console error.
import { initAll } from "../govuk-frontend.min.js";
initAll({ onError: (error) => console.error(error) });
