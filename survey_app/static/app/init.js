// Initialise GOV.UK Frontend components (kept out of inline scripts for the CSP).
import { initAll } from "../govuk-frontend.min.js";
initAll();
