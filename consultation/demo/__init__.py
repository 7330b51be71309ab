"""The demo: "Utiles ensemble 2", an open consultation, and accounts for every role."""
