"""Data access of the transparency subgraph: the gateway's access log, and organisations' names."""
