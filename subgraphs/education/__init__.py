"""The education subgraph: qualifications from the LED register."""
