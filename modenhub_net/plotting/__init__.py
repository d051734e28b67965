"""Figures of the shipped studies, drawn with matplotlib's object API (no pyplot state).

One module per figure, e.g. :mod:`modenhub_net.plotting.fig3` (the paper's Fig. 3).
Modules are imported on demand so that importing this package stays cheap.
"""
