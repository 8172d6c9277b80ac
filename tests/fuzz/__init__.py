"""Property-based fuzzing (hypothesis) of every form, upload and API endpoint: bad input is
always refused with a clear 4xx, never a 500, and leaves the database exactly as it was."""
