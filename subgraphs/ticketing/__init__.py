"""The ticketing subgraph: municipal reports ("meldingen openbaar domein")."""
