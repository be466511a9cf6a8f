"""Query plan -> response: subgraph calls, entity representations, merging, shaping."""
