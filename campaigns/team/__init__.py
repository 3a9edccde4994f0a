"""The team: staff accounts with roles (accounts), and their signed-in browsers kept on the server (sessions).
Imports only the shared modules; nothing else in the domain needs it."""
