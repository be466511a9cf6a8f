"""The transparency subgraph: a citizen's access log (who read their personal data), owned by the
gateway and composed into the supergraph like any other subgraph."""
