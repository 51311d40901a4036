"""Graph work (METRICS.md §2): the interaction graph, PageRank, the Cha et al. axes, influence–passivity.

Graphs are scipy.sparse CSR matrices with an array of account keys (DESIGN.md: scipy.sparse / igraph,
networkx only as a reference in tests).
"""

from socialleads.graph.build import (
    DEFAULT_WEIGHTS,
    Graph,
    GraphError,
    account_axes,
    from_edges,
    interaction_graph,
    repost_graph,
)
from socialleads.graph.rank import IPResult, NotConverged, influence_passivity, pagerank

__all__ = [
    "DEFAULT_WEIGHTS",
    "Graph",
    "GraphError",
    "IPResult",
    "NotConverged",
    "account_axes",
    "from_edges",
    "influence_passivity",
    "interaction_graph",
    "pagerank",
    "repost_graph",
]
