"""Console themes: Textual Theme objects plus the semantic variables every screen styles with.

Screens use only variables ($primary, $stake, $reward, $fees, $devnet, $warning, …), never literal
colours, so that switching theme restyles everything.
"""

from __future__ import annotations

from textual.theme import Theme

SEMANTIC_VARIABLES = ("stake", "reward", "fees", "devnet", "mainnet", "muted-text", "active", "inactive")

LIVEPEER_DARK = Theme(
    name="livepeer-dark",
    primary="#00EB88",  # Livepeer green
    secondary="#4C8BF5",
    accent="#B387FA",
    warning="#F5B83D",
    error="#F25F5C",
    success="#3DD68C",
    foreground="#E6EDF3",
    background="#0D1117",
    surface="#161B22",
    panel="#1F2630",
    dark=True,
    variables={
        "stake": "#4C8BF5",
        "reward": "#00EB88",
        "fees": "#F5B83D",
        "devnet": "#F5B83D",
        "mainnet": "#4C8BF5",
        "muted-text": "#8B949E",
        "active": "#3DD68C",
        "inactive": "#6E7681",
        "block-cursor-background": "#1F6F4A",
        "footer-key-foreground": "#00EB88",
    },
)

LIVEPEER_LIGHT = Theme(
    name="livepeer-light",
    primary="#00875A",
    secondary="#1F5FD1",
    accent="#7A3FD1",
    warning="#9A6200",
    error="#C62828",
    success="#1B7F4B",
    foreground="#1F2328",
    background="#FFFFFF",
    surface="#F6F8FA",
    panel="#EAEEF2",
    dark=False,
    variables={
        "stake": "#1F5FD1",
        "reward": "#00875A",
        "fees": "#9A6200",
        "devnet": "#9A6200",
        "mainnet": "#1F5FD1",
        "muted-text": "#57606A",
        "active": "#1B7F4B",
        "inactive": "#8C959F",
        "block-cursor-background": "#BFE8D4",
        "footer-key-foreground": "#00875A",
    },
)

LIVEPEER_HIGH_CONTRAST = Theme(
    name="livepeer-high-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#FF00FF",
    warning="#FFFF00",
    error="#FF3333",
    success="#00FF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    dark=True,
    luminosity_spread=0.0,
    text_alpha=1.0,
    variables={
        "stake": "#00FFFF",
        "reward": "#00FF00",
        "fees": "#FFFF00",
        "devnet": "#FF00FF",
        "mainnet": "#00FFFF",
        "muted-text": "#FFFFFF",
        "active": "#00FF00",
        "inactive": "#BBBBBB",
        "block-cursor-background": "#FFFF00",
        "block-cursor-foreground": "#000000",
        "footer-key-foreground": "#FFFF00",
    },
)

THEMES = (LIVEPEER_DARK, LIVEPEER_LIGHT, LIVEPEER_HIGH_CONTRAST)

# Fallbacks for the semantic variables (Textual's built-in themes don't define them).
SEMANTIC_DEFAULTS = {name: LIVEPEER_DARK.variables[name] for name in SEMANTIC_VARIABLES}
DEFAULT_THEME = LIVEPEER_DARK.name
