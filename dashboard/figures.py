"""Plotly figures for the dashboard, one function a chart; each returns None when it has nothing to show."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.palette import channel_colour, channel_label, translucent

CONVERTED, NOT_CONVERTED = "converted", "did not convert"
OUTCOME_COLOURS = {CONVERTED: "#1B7837", NOT_CONVERTED: "#DDDDDD"}  # apart from every channel colour
MAX_SANKEY_STEPS = 4  # later touches fold into the last step: a readable flow, not every path


def layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 50, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.2}, template="plotly_white")
    return fig


def bars(fig: go.Figure, frame: pd.DataFrame, by: str, x: str, y: str) -> go.Figure:
    """One bar trace per value of `by` (a check)."""
    for name, part in frame.groupby(by):
        fig.add_bar(x=part[x], y=part[y], name=str(name))
    return fig


def path_sankey(flows: pd.DataFrame) -> go.Figure | None:
    """Journeys from touch to touch (channel at step k) to converted / did not convert."""
    if flows.empty:
        return None
    links: dict[tuple[str, str], float] = {}
    for path, conversions, non_conversions in flows.itertuples(index=False):
        steps = str(path).split(" > ")[:MAX_SANKEY_STEPS]
        nodes = [f"{i + 1}. {channel}" for i, channel in enumerate(steps)]
        for outcome, count in ((CONVERTED, conversions), (NOT_CONVERTED, non_conversions)):
            if count:
                for edge in zip(nodes, [*nodes[1:], outcome], strict=True):
                    links[edge] = links.get(edge, 0) + float(count)
    names = sorted({n for edge in links for n in edge})
    index = {name: i for i, name in enumerate(names)}
    colours = [OUTCOME_COLOURS.get(name) or channel_colour(name.split(". ", 1)[1]) for name in names]
    labels = [name if name in OUTCOME_COLOURS else f"{name.split('. ', 1)[0]}. {channel_label(name.split('. ', 1)[1])}"
              for name in names]
    fig = go.Figure(go.Sankey(
        node={"label": labels, "pad": 12, "color": colours},
        link={"source": [index[a] for a, _ in links], "target": [index[b] for _, b in links],
              "value": list(links.values()), "color": [translucent(colours[index[a]]) for a, _ in links]},
    ))
    return layout(fig, f"Journeys: channel at each step (first {MAX_SANKEY_STEPS}) to the outcome", height=520)


def quality_over_time(quality: pd.DataFrame) -> go.Figure | None:
    if quality.empty:
        return None
    fig = bars(go.Figure(), quality, "check_name", "day", "records")
    fig.update_layout(barmode="stack", yaxis_title="records")
    return layout(fig, "Data-quality issues by day and check")
