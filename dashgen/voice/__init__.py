"""What the catalog means: paging policy, SLO windows by period, stage roles, barge-in milestones."""
