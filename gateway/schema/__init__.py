"""The supergraph and the API schema it gives clients: loading, @link names, reloads and swaps."""
