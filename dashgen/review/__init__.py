"""Review of a change: the semantic diff, offline previews, builds of git refs."""
