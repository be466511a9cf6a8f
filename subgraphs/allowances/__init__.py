"""The allowances subgraph: Groeipakket child benefit and higher-education study grants."""
