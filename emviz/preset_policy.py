"""What a preset does to the model settings: what it suggests, and what leaving it withdraws.

No widgets here: the window and the command line apply the same policy. The
suggestions themselves are part of each preset (``Preset.suggested`` in
emviz.data); this module decides how they meet the user's own choices.
"""

from __future__ import annotations

from emviz.data import PRESETS, Dataset
from emviz.session import Settings

# A preset is a whole recipe: every model setting, not only the ones it names,
# so a covariance type or tolerance chosen for other data does not leak into it.
RECIPE_KEYS = ("k", "covariance", "init", "seed", "tol", "max_iter")


def preset_name(dataset: Dataset | None) -> str | None:
    """The preset a data set was drawn from, or None for a file, generated data or none (an erased canvas)."""
    if dataset is None:
        return None
    name = dataset.preset  # the data set says where it came from
    return name if name in PRESETS else None


def preset_settings(name: str, settings: Settings | None = None) -> Settings:
    """The settings preset ``name`` is meant to be shown with.

    Every model setting comes from the preset (its suggestions, the defaults for
    the rest); only the regularisation, which is not part of any recipe, is kept.
    """
    defaults = Settings()
    recipe = {key: getattr(defaults, key) for key in RECIPE_KEYS}
    recipe.update(PRESETS[name].suggested)
    base = settings if settings is not None else defaults
    return base.replace(**recipe)


def leaving_preset(name: str, settings: Settings) -> Settings:
    """Withdraw the preset's suggestions that the user kept: they were meant for its data.

    The number of components stays (the user may well want it on the new data);
    the article's random start (means drawn around 0) on a CSV file measured in
    tens would leave every ellipse outside the view, so it goes.
    """
    defaults = Settings()
    kept = {
        key: getattr(defaults, key)
        for key, value in PRESETS[name].suggested.items()
        if key != "k" and getattr(settings, key) == value
    }
    return settings.replace(**kept)


def settings_for_new_data(old: Dataset, new: Dataset, settings: Settings) -> Settings:
    """The settings to fit ``new`` with, when the data change from ``old`` with ``settings`` in force.

    - a different preset brings its whole recipe;
    - the same preset drawn again (more points, another data seed) keeps the user's settings;
    - a file or generated data after a preset withdraws what the preset suggested;
    - otherwise the settings stay.
    """
    before, after = preset_name(old), preset_name(new)
    if after is not None:
        return settings if after == before else preset_settings(after, settings)
    if before is not None:
        return leaving_preset(before, settings)
    return settings
